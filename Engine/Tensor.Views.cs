using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

// Views: new shape, strides and offset over the same buffer, no copy (reshape of non-contiguous data is the
// one exception: it copies first, like torch.reshape). Each op: the forward, then its backward rule right below it.
//
// A view shares its buffer with its base: a write through one (an indexer set, AsSpan, a loader) shows in the other.
// The tape does not see such writes, so never write to a tensor, or to any view of it, while a recorded op still
// needs its values for backward (the same rule as AsSpan's).
//
// Backward of a view: ∂y arrives contiguous in the view's shape, and ∂x's sink is contiguous in x's shape. So the
// rule only has to say where each element of ∂y lands in ∂x: in the same row-major position (reshape, squeeze,
// unsqueeze), at permuted strides (transpose, permute), inside a region (slice), or summed (expand).
public sealed partial class Tensor
{
    /// <summary>
    /// The same elements in another shape, like <c>torch.reshape</c>: a view sharing this tensor's buffer when it is
    /// contiguous, otherwise a view of a contiguous copy. One size may be -1; it is inferred from the element count.
    /// Differentiable.
    /// </summary>
    /// <param name="shape">The new shape; its element count must equal <see cref="Count"/>.</param>
    /// <exception cref="ArgumentException">The counts differ, more than one size is -1, a size is below -1, or -1
    /// cannot be inferred (no elements).</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Reshape(params ReadOnlySpan<int> shape)
    {
        // The target shape is worked out on the stack: a recorded reshape then takes the tape's shared arrays for
        // that shape (a reshape in every training step allocates only its header).
        const int StackRank = 16;
        Span<int> target = shape.Length <= StackRank ? stackalloc int[StackRank] : new int[shape.Length];
        target = target[..shape.Length];
        InferShape(shape, target);
        Tensor source = IsContiguous ? this : Contiguous();
        Tape? tape = Tape.ForInputs(source);
        TensorLayout layout = tape is null ? TensorLayout.RowMajor(target.ToArray()) : tape.Intern(target);
        Tensor result = new(source, source._offset, layout);
        // reshape: ∂x += ∂y   (reshape keeps the row-major order, so ∂y's elements already line up with ∂x's)
        tape?.Record("reshape", result, static (e, dy) => AccumulateInOrder(e, dy), source);
        return result;
    }

    private void InferShape(ReadOnlySpan<int> shape, Span<int> target)
    {
        int inferred = -1;
        long known = 1;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            if (shape[axis] == -1)
            {
                if (inferred >= 0)
                {
                    throw new ArgumentException(
                        $"Reshape: shape {Shapes.Format(shape)} has more than one -1 (axes {inferred} and {axis}); at most one size can be inferred.");
                }
                inferred = axis;
            }
            else if (shape[axis] < 0)
            {
                throw new ArgumentException($"Reshape: shape {Shapes.Format(shape)} has size {shape[axis]} on axis {axis}; expected a size ≥ 0, or -1 to infer it.");
            }
            else
            {
                known = Math.Min(known * shape[axis], (long)Array.MaxLength + 1);
            }
        }
        shape.CopyTo(target);
        if (inferred >= 0)
        {
            if (known == 0 || Count % known != 0)
            {
                throw new ArgumentException(
                    $"Reshape: cannot reshape a tensor of shape {ShapeText} ({Count} elements) to {Shapes.Format(shape)}: " +
                    $"the other sizes multiply to {known}, which does not divide {Count} into a whole size for the -1.");
            }
            target[inferred] = (int)(Count / known);
        }
        else if (known != Count)
        {
            throw new ArgumentException(
                $"Reshape: cannot reshape a tensor of shape {ShapeText} ({Count} elements) to {Shapes.Format(shape)} ({known} elements); expected the same element count.");
        }
    }

    /// <summary>∂x += ∂y for the views that keep the row-major order of the elements (reshape, squeeze, unsqueeze).</summary>
    private static void AccumulateInOrder(TapeEntry e, Tensor dy)
    {
        Tensor? sink = e.GradSink(0);
        if (sink is not null)
        {
            TensorPrimitives.Add(sink.AsSpan(), dy.AsSpan(), sink.AsSpan());
        }
    }

    /// <summary>
    /// A view with axes <paramref name="axis0"/> and <paramref name="axis1"/> swapped (<c>torch.transpose</c>); shares this
    /// tensor's buffer, and is in general not contiguous. Negative axes count from the end. Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Transpose(int axis0, int axis1)
    {
        int a = Shapes.NormalizeAxis(axis0, Rank, "Transpose", ShapeArray);
        int b = Shapes.NormalizeAxis(axis1, Rank, "Transpose", ShapeArray);
        int[] permutation = IdentityPermutation(Rank);
        (permutation[a], permutation[b]) = (permutation[b], permutation[a]);
        return PermutedView(permutation, "transpose");
    }

    /// <summary>
    /// The transpose of a 2-D tensor, a view of shape (columns, rows): <c>Transpose(0, 1)</c>. Differentiable.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is not 2-D (use <see cref="Transpose"/> or <see cref="Permute"/>).</exception>
    public Tensor T => Rank == 2
        ? Transpose(0, 1)
        : throw new InvalidOperationException(
            $"T: tensor of shape {ShapeText} has rank {Rank}; T is the transpose of a 2-D tensor. Use Transpose(axis0, axis1) or Permute(axes).");

    /// <summary>
    /// A view whose axis <c>i</c> is this tensor's axis <c>axes[i]</c> (<c>torch.permute</c>); e.g. <c>Permute(0, 2, 3, 1)</c>
    /// turns (N, C, H, W) into (N, H, W, C). Shares this tensor's buffer. Differentiable.
    /// </summary>
    /// <param name="axes">A permutation of the axes; negative axes count from the end.</param>
    /// <exception cref="ArgumentException">The count differs from <see cref="Rank"/>, an axis is out of range, or repeats.</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Permute(params ReadOnlySpan<int> axes)
    {
        if (axes.Length != Rank)
        {
            throw new ArgumentException(
                $"Permute: {axes.Length} axes {Shapes.Format(axes)} given for a tensor of shape {ShapeText}; expected a permutation of all {Rank} axes.");
        }
        var permutation = new int[Rank];
        var used = new bool[Rank];
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = Shapes.NormalizeAxis(axes[i], Rank, "Permute", ShapeArray);
            if (used[axis])
            {
                throw new ArgumentException(
                    $"Permute: axes {Shapes.Format(axes)} name axis {axis} twice for a tensor of shape {ShapeText}; expected a permutation of 0..{Rank - 1}.");
            }
            used[axis] = true;
            permutation[i] = axis;
        }
        return PermutedView(permutation, "permute");
    }

    private static int[] IdentityPermutation(int rank)
    {
        var permutation = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            permutation[i] = i;
        }
        return permutation;
    }

    /// <summary>The view whose axis i is this tensor's axis permutation[i]; recorded as transpose or permute.</summary>
    private Tensor PermutedView(int[] permutation, string label)
    {
        var shape = new int[Rank];
        var strides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            shape[i] = ShapeArray[permutation[i]];
            strides[i] = StrideArray[permutation[i]];
        }
        Tape? tape = Tape.ForInputs(this);
        Tensor result = new(this, _offset, shape, strides);
        // transpose, permute: ∂x += ∂y permuted back. y's axis i is x's axis p[i], so reading ∂y in x's axis order
        // means stepping x's axis p[i] by ∂y's stride i: a strided read of ∂y, added into the contiguous sink.
        TapeEntry? entry = tape?.Record(label, result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] p = e.Ints!;
            Span<int> strides = stackalloc int[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                strides[p[i]] = dy.StrideArray[i];
            }
            Kernels.Strided.GatherAdd(dy.AsSpan(), 0, sink.ShapeArray, strides, sink.AsSpan());
        }, this);
        entry?.Ints = permutation;
        return result;
    }

    /// <summary>A view without every size-1 axis (<c>torch.squeeze()</c>); (1, 3, 1, 2) becomes (3, 2). Differentiable.</summary>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Squeeze()
    {
        int kept = 0;
        foreach (int size in ShapeArray)
        {
            kept += size == 1 ? 0 : 1;
        }
        var shape = new int[kept];
        var strides = new int[kept];
        for (int axis = 0, j = 0; axis < Rank; axis++)
        {
            if (ShapeArray[axis] != 1)
            {
                shape[j] = ShapeArray[axis];
                strides[j++] = StrideArray[axis];
            }
        }
        return SqueezedView(shape, strides, "squeeze");
    }

    /// <summary>
    /// A view without axis <paramref name="axis"/>, which must have size 1 (<c>torch.squeeze(dim)</c>, except that
    /// torch silently returns the tensor unchanged for a larger axis; this throws, as NumPy does). Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range or its size is not 1.</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Squeeze(int axis)
    {
        int a = Shapes.NormalizeAxis(axis, Rank, "Squeeze", ShapeArray);
        if (ShapeArray[a] != 1)
        {
            throw new ArgumentException($"Squeeze: axis {axis} of a tensor of shape {ShapeText} has size {ShapeArray[a]}; only a size-1 axis can be removed.");
        }
        int[] shape = [.. ShapeArray.AsSpan(0, a), .. ShapeArray.AsSpan(a + 1)];
        int[] strides = [.. StrideArray.AsSpan(0, a), .. StrideArray.AsSpan(a + 1)];
        return SqueezedView(shape, strides, "squeeze");
    }

    /// <summary>
    /// A view with a new size-1 axis at position <paramref name="axis"/> of the result (<c>torch.unsqueeze</c>):
    /// (3, 4) becomes (1, 3, 4) for axis 0 and (3, 4, 1) for axis -1. Differentiable.
    /// </summary>
    /// <param name="axis">In [−(rank + 1), rank]; negative values count from the end of the result's axes.</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank)
        {
            throw new ArgumentException(
                $"Unsqueeze: axis {axis} is out of range for a tensor of shape {ShapeText} (rank {Rank}); expected an axis in [{-Rank - 1}, {Rank}].");
        }
        // A size-1 axis is never stepped along, so its stride is arbitrary; this one keeps row-major strides row-major.
        int stride = a < Rank ? StrideArray[a] * ShapeArray[a] : 1;
        int[] shape = [.. ShapeArray.AsSpan(0, a), 1, .. ShapeArray.AsSpan(a)];
        int[] strides = [.. StrideArray.AsSpan(0, a), stride, .. StrideArray.AsSpan(a)];
        return SqueezedView(shape, strides, "unsqueeze");
    }

    /// <summary>A view that only adds or removes size-1 axes; the element order is unchanged.</summary>
    private Tensor SqueezedView(int[] shape, int[] strides, string label)
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = new(this, _offset, shape, strides);
        // squeeze, unsqueeze: ∂x += ∂y   (size-1 axes do not change the row-major order)
        tape?.Record(label, result, static (e, dy) => AccumulateInOrder(e, dy), this);
        return result;
    }

    /// <summary>
    /// The view of <paramref name="length"/> consecutive entries of axis <paramref name="axis"/> starting at
    /// <paramref name="start"/> (<c>torch.narrow</c>, i.e. <c>x[..., start:start + length, ...]</c>); shares this tensor's
    /// buffer. Recorded as <c>slice</c>. Differentiable: the gradient lands in the slice, zero elsewhere.
    /// </summary>
    /// <param name="axis">The axis to narrow; negative counts from the end.</param>
    /// <param name="start">The first entry kept; negative counts from the end of the axis.</param>
    /// <param name="length">How many entries to keep (0 gives an empty view).</param>
    /// <exception cref="ArgumentException">The axis is out of range, or the range does not fit in the axis.</exception>
    /// <remarks>
    /// A view shares its base's buffer: writes through either show in the other, and the tape does not see them, so
    /// never write to a view or its base while a recorded op still needs their values for backward (as with AsSpan).
    /// </remarks>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = Shapes.NormalizeAxis(axis, Rank, "Narrow", ShapeArray);
        int size = ShapeArray[a];
        int begin = start < 0 ? start + size : start;
        if (begin < 0 || begin > size || length < 0 || length > size - begin)
        {
            throw new ArgumentException(
                $"Narrow: start {start}, length {length} do not fit in axis {axis} of size {size} (shape {ShapeText}); " +
                $"expected 0 ≤ start ≤ {size} (or a negative start from the end) and 0 ≤ length ≤ size − start.");
        }
        int[] shape = [.. ShapeArray];
        shape[a] = length;
        Tape? tape = Tape.ForInputs(this);
        Tensor result = new(this, _offset + (begin * StrideArray[a]), shape, StrideArray);
        // slice: ∂x[slice] += ∂y, 0 elsewhere. The sink is contiguous in x's shape, so the slice is the strided region
        // that starts begin rows into the axis and steps with the sink's strides.
        TapeEntry? entry = tape?.Record("slice", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] ints = e.Ints!;
            int axis = ints[0];
            int begin = ints[1];
            Kernels.Strided.ScatterAdd(dy.AsSpan(), sink.AsSpan(), begin * sink.StrideArray[axis], dy.ShapeArray, sink.StrideArray);
        }, this);
        entry?.Ints = [a, begin];
        return result;
    }

    /// <summary>
    /// A broadcast view (<c>torch.expand</c>): size-1 axes are stretched to the requested sizes and new leading axes
    /// may be added, all with stride 0, so nothing is copied. -1 keeps an axis's size. Differentiable: the gradient is
    /// summed over the expanded axes.
    /// </summary>
    /// <remarks>
    /// Several elements of the result share one buffer slot, so do not write through it. As for every view, writes to
    /// the base show through, and the tape does not see them: never write to the base while a recorded op still needs its
    /// values for backward.
    /// </remarks>
    /// <param name="shape">The result's shape, right-aligned against this tensor's (NumPy broadcasting).</param>
    /// <exception cref="ArgumentException">Fewer sizes than axes, a size that differs from a non-1 axis, or a bad size.</exception>
    public Tensor Expand(params ReadOnlySpan<int> shape)
    {
        if (shape.Length < Rank)
        {
            throw new ArgumentException(
                $"Expand: shape {Shapes.Format(shape)} has {shape.Length} sizes for a tensor of shape {ShapeText}; expected at least {Rank}.");
        }
        int shift = shape.Length - Rank;
        var target = new int[shape.Length];
        var strides = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            int requested = shape[i];
            if (i < shift)
            {
                if (requested < 0)
                {
                    throw new ArgumentException(
                        $"Expand: size {requested} for new leading axis {i} of shape {Shapes.Format(shape)} (from {ShapeText}); a new axis needs a size ≥ 0.");
                }
                target[i] = requested;
                continue; // stride 0: every index along a new axis reads the same elements
            }
            int own = ShapeArray[i - shift];
            if (requested == -1 || requested == own)
            {
                target[i] = own;
                strides[i] = StrideArray[i - shift];
            }
            else if (own == 1 && requested >= 0)
            {
                target[i] = requested;
            }
            else
            {
                throw new ArgumentException(
                    $"Expand: cannot expand shape {ShapeText} to {Shapes.Format(shape)}: axis {i} has size {own} and {requested} was asked; " +
                    "only size-1 axes can be expanded (-1 keeps a size).");
            }
        }
        Shapes.Count(target, "Expand");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = new(this, _offset, target, strides);
        // expand: ∂x += ∂y summed over the expanded axes (exactly how broadcasting is undone, so AccumulateGrad does it)
        tape?.Record("expand", result, static (e, dy) => e.AccumulateGrad(0, dy.AsSpan(), dy.ShapeArray), this);
        return result;
    }
}
