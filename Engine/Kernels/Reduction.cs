using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>Reductions over sets of axes, written as "accumulate into a broadcast-shaped target".</summary>
/// <remarks>
/// Summing <c>x</c> of shape (2, 3, 4) over axis 1 is the same loop as adding <c>x</c> into a target of shape
/// (2, 1, 4) that broadcasting stretched to (2, 3, 4): the target's stride on the reduced axis is 0, so every
/// element of that axis lands on the same slot. The innermost row is then either a vector add of a whole row
/// (inner axis kept) or one horizontal sum (inner axis reduced). The order of additions is fixed, so results
/// do not depend on anything but the shapes.
/// </remarks>
internal static class Reduction
{
    /// <summary>
    /// <c>target += x</c> summed down to the target's shape: the target's shape, right-aligned against
    /// <paramref name="xShape"/>, must have each size equal to x's or 1. This undoes broadcasting in backward.
    /// </summary>
    public static void SumToShape(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, Span<float> target, ReadOnlySpan<int> targetShape)
    {
        if (x.Length == target.Length)
        {
            // Same element count with broadcast-compatible shapes means only size-1 axes differ (or the caller
            // passes the same elements under another shape, as reshape's backward does): a plain add.
            TensorPrimitives.Add(target, x, target);
            return;
        }
        ReduceToShape<SumRows>(x, xShape, target, targetShape, "SumToShape");
    }

    /// <summary>
    /// <c>target = max(target, x)</c> over the axes where the target has size 1: with the target filled with −∞
    /// first, the max over those axes. NaN propagates, as in PyTorch.
    /// </summary>
    public static void MaxToShape(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, Span<float> target, ReadOnlySpan<int> targetShape) =>
        ReduceToShape<MaxRows>(x, xShape, target, targetShape, "MaxToShape");

    /// <summary>How one innermost row of x is folded into the target: a whole row (inner axis kept) or one slot.</summary>
    private interface IRowReducer
    {
        static abstract void IntoRow(Span<float> target, ReadOnlySpan<float> row);

        static abstract float IntoSlot(float slot, ReadOnlySpan<float> row);
    }

    private readonly struct SumRows : IRowReducer
    {
        public static void IntoRow(Span<float> target, ReadOnlySpan<float> row) => TensorPrimitives.Add(target, row, target);

        public static float IntoSlot(float slot, ReadOnlySpan<float> row) => slot + TensorPrimitives.Sum(row);
    }

    private readonly struct MaxRows : IRowReducer
    {
        public static void IntoRow(Span<float> target, ReadOnlySpan<float> row) => TensorPrimitives.Max(target, row, target);

        public static float IntoSlot(float slot, ReadOnlySpan<float> row) => Math.Max(slot, TensorPrimitives.Max(row));
    }

    /// <summary>
    /// The shared walk: x one innermost row at a time, the target read through strides that are 0 on the axes
    /// being reduced (the target's shape is right-aligned against x's; missing leading axes count as size 1).
    /// </summary>
    private static void ReduceToShape<TReducer>(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, Span<float> target, ReadOnlySpan<int> targetShape, string kernel)
        where TReducer : struct, IRowReducer
    {
        int rank = xShape.Length;
        Span<int> strides = stackalloc int[rank];
        int shift = rank - targetShape.Length;
        int stride = 1;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int targetSize = axis < shift ? 1 : targetShape[axis - shift];
            if (targetSize != 1 && targetSize != xShape[axis])
            {
                throw new ArgumentException(
                    $"{kernel}: cannot reduce shape {Shapes.Format(xShape)} to {Shapes.Format(targetShape)}; axis {axis} has size {xShape[axis]} vs {targetSize}.");
            }
            strides[axis] = targetSize == 1 ? 0 : stride;
            stride *= targetSize;
        }
        if (rank == 0 || x.Length == 0)
        {
            return;
        }

        int rowLength = xShape[rank - 1];
        bool innerKept = strides[rank - 1] != 0;
        Span<int> index = stackalloc int[rank];
        int at = 0;
        for (int read = 0; read < x.Length; read += rowLength)
        {
            ReadOnlySpan<float> row = x.Slice(read, rowLength);
            if (innerKept)
            {
                TReducer.IntoRow(target.Slice(at, rowLength), row);
            }
            else
            {
                target[at] = TReducer.IntoSlot(target[at], row);
            }
            at = Strided.NextRow(index, xShape, strides, at);
        }
    }
}
