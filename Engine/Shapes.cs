using System.Text;

namespace NeuralCore.Engine;

/// <summary>Shape arithmetic shared by all ops: sizes, strides, broadcasting and axis checks.</summary>
/// <remarks>Shape arrays are never mutated once a tensor holds them, so ops share them freely.</remarks>
internal static class Shapes
{
    public static readonly int[] Scalar = [];

    /// <summary>Number of elements of a shape; throws on negative or overflowing sizes.</summary>
    public static int Count(ReadOnlySpan<int> shape, string op = "shape")
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"{op}: shape {Format(shape)} has a negative dimension.");
            }
            count *= dim;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"{op}: shape {Format(shape)} has more than {Array.MaxLength} elements.");
            }
        }
        return (int)count;
    }

    /// <summary>Row-major strides: the last axis moves fastest.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 0)
        {
            return Scalar;
        }
        var strides = new int[shape.Length];
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= Math.Max(shape[axis], 1);
        }
        return strides;
    }

    /// <summary>True when the strides describe row-major storage (size-1 axes may have any stride).</summary>
    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int expected = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            if (shape[axis] != 1 && strides[axis] != expected)
            {
                return false;
            }
            expected *= shape[axis];
        }
        return true;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>
    /// NumPy broadcasting: align from the right; each pair of sizes must be equal or one of them 1. Returns
    /// <paramref name="a"/> or <paramref name="b"/> itself when the result has its shape (shape arrays are never
    /// mutated, so sharing is safe and the common cases allocate nothing).
    /// </summary>
    public static int[] Broadcast(int[] a, int[] b, string op)
    {
        if (a.AsSpan().SequenceEqual(b))
        {
            return a;
        }
        int rank = Math.Max(a.Length, b.Length);
        Span<int> result = rank <= 16 ? stackalloc int[16] : new int[rank];
        result = result[..rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException(
                    $"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast: axis {i - rank} has sizes {da} and {db}, expected equal sizes or 1.");
            }
            result[i] = da == 1 ? db : da;
        }
        if (result.SequenceEqual(a))
        {
            return a;
        }
        return result.SequenceEqual(b) ? b : result.ToArray();
    }

    /// <summary>
    /// Writes into <paramref name="result"/> (the target's rank) the strides that read a tensor of
    /// <paramref name="shape"/> as if it had <paramref name="target"/>: broadcast axes get stride 0.
    /// </summary>
    public static void BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, ReadOnlySpan<int> target, Span<int> result)
    {
        result.Clear();
        int shift = target.Length - shape.Length;
        for (int i = shift; i < target.Length; i++)
        {
            result[i] = shape[i - shift] == 1 && target[i] != 1 ? 0 : strides[i - shift];
        }
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1, or throws naming the op and the shape.</summary>
    public static int NormalizeAxis(int axis, int rank, string op, ReadOnlySpan<int> shape)
    {
        int normalized = axis < 0 ? axis + rank : axis;
        if ((uint)normalized >= (uint)Math.Max(rank, 0) || rank == 0)
        {
            throw new ArgumentException(
                $"{op}: axis {axis} is out of range for a tensor of shape {Format(shape)} (rank {rank}); expected an axis in [{-rank}, {rank - 1}].");
        }
        return normalized;
    }

    /// <summary>
    /// Normalizes a set of axes (empty = every axis) into <paramref name="flags"/> (<paramref name="rank"/> entries):
    /// true on each reduced axis. Throws on an axis out of range or repeated.
    /// </summary>
    public static void AxisFlags(ReadOnlySpan<int> axes, int rank, string op, ReadOnlySpan<int> shape, Span<bool> flags)
    {
        if (axes.IsEmpty)
        {
            flags.Fill(true);
            return;
        }
        flags.Clear();
        foreach (int axis in axes)
        {
            int normalized = NormalizeAxis(axis, rank, op, shape);
            if (flags[normalized])
            {
                throw new ArgumentException($"{op}: axis {axis} appears twice in the axes of a tensor of shape {Format(shape)}.");
            }
            flags[normalized] = true;
        }
    }

    /// <summary>Formats a shape the way the docs write it: <c>(2, 3)</c>, <c>()</c> for a scalar.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 1)
        {
            return $"({shape[0]})";
        }
        var builder = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }
            builder.Append(shape[i]);
        }
        return builder.Append(')').ToString();
    }
}
