using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

// Indexing by integer arrays along one axis. Indices are plain ints (not tensors): they are never differentiated,
// and an int cannot hold 2.5. Both ops copy into a new tensor; backward scatter-adds, so an element picked twice
// receives both gradients. The indices are saved on the tape entry (Ints = [axis, indices...]).
public sealed partial class Tensor
{
    /// <summary>
    /// The entries <paramref name="indices"/> of axis <paramref name="axis"/>, in that order (<c>torch.index_select</c>):
    /// for x of shape (5, 3), <c>x.IndexSelect(0, [4, 0, 4])</c> is (3, 3) with rows 4, 0, 4. An embedding lookup is
    /// <c>table.IndexSelect(0, tokens)</c>. Indices may repeat. The result is a new tensor. Differentiable in x.
    /// </summary>
    /// <param name="axis">The axis to pick along; negative counts from the end.</param>
    /// <param name="indices">Positions along the axis, each in [0, size).</param>
    /// <exception cref="ArgumentException">The axis is out of range, or an index is outside [0, size).</exception>
    public Tensor IndexSelect(int axis, ReadOnlySpan<int> indices)
    {
        int a = Shapes.NormalizeAxis(axis, Rank, "IndexSelect", ShapeArray);
        int size = ShapeArray[a];
        for (int j = 0; j < indices.Length; j++)
        {
            if ((uint)indices[j] >= (uint)size)
            {
                throw new ArgumentException(
                    $"IndexSelect: index {indices[j]} (position {j}) is out of range for axis {axis} of size {size} (shape {ShapeText}); expected 0 ≤ index < {size}.");
            }
        }
        int[] shape = [.. ShapeArray];
        shape[a] = indices.Length;
        Shapes.Count(shape, "IndexSelect");
        // x (outer, size, inner) → y (outer, n, inner), copying whole inner rows
        int outer = Shapes.Count(ShapeArray.AsSpan(0, a));
        int inner = Shapes.Count(ShapeArray.AsSpan(a + 1));

        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            Kernels.Indexing.Select(x.Span, outer, size, inner, indices, result.AsSpan());
        }
        // index_select: ∂x[o, indices[j], :] += ∂y[o, j, :]   (scatter-add)
        TapeEntry? entry = tape?.Record("index_select", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] ints = e.Ints!;
            int axis = ints[0];
            int[] xShape = sink.ShapeArray;
            int outer = Shapes.Count(xShape.AsSpan(0, axis));
            int inner = Shapes.Count(xShape.AsSpan(axis + 1));
            Kernels.Indexing.SelectAdd(dy.AsSpan(), outer, xShape[axis], inner, ints.AsSpan(1), sink.AsSpan());
        }, this);
        entry?.Ints = [a, .. indices];
        return result;
    }

    /// <summary>
    /// Picks one element along <paramref name="axis"/> for every position of an index array (<c>torch.gather</c>):
    /// <c>y[p] = x[p with p[axis] replaced by index[p]]</c>; for 2-D x and axis 1, <c>y[i, j] = x[i, index[i, j]]</c>
    /// (e.g. the logit of each row's label). The result has the index's shape and is a new tensor. Differentiable in x.
    /// </summary>
    /// <param name="axis">The axis the indices point along; negative counts from the end.</param>
    /// <param name="index">The indices, row-major in <paramref name="indexShape"/>, each in [0, x.Size(axis)).</param>
    /// <param name="indexShape">The index's (and the result's) shape: the same rank as x, and no larger than x on any
    /// axis but <paramref name="axis"/> (as torch requires).</param>
    /// <exception cref="ArgumentException">The axis is out of range, the index count or shape does not fit, or an index
    /// is outside [0, size).</exception>
    public Tensor Gather(int axis, ReadOnlySpan<int> index, ReadOnlySpan<int> indexShape)
    {
        int a = Shapes.NormalizeAxis(axis, Rank, "Gather", ShapeArray);
        if (indexShape.Length != Rank)
        {
            throw new ArgumentException(
                $"Gather: index shape {Shapes.Format(indexShape)} has rank {indexShape.Length} for a tensor of shape {ShapeText}; expected rank {Rank}.");
        }
        int count = Shapes.Count(indexShape, "Gather");
        if (index.Length != count)
        {
            throw new ArgumentException($"Gather: {index.Length} indices given for index shape {Shapes.Format(indexShape)}, which holds {count}.");
        }
        for (int d = 0; d < Rank; d++)
        {
            if (d != a && indexShape[d] > ShapeArray[d])
            {
                throw new ArgumentException(
                    $"Gather: index shape {Shapes.Format(indexShape)} is larger than the tensor's shape {ShapeText} on axis {d}; " +
                    $"expected index sizes ≤ the tensor's on every axis but {axis}.");
            }
        }
        int size = ShapeArray[a];
        for (int k = 0; k < index.Length; k++)
        {
            if ((uint)index[k] >= (uint)size)
            {
                throw new ArgumentException(
                    $"Gather: index {index[k]} (flat position {k}) is out of range for axis {axis} of size {size} (shape {ShapeText}); expected 0 ≤ index < {size}.");
            }
        }

        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, indexShape.ToArray());
        // Read x in place through its own strides: any layout works and nothing is copied.
        Kernels.Indexing.Gather(Buffer, _offset, StrideArray, a, index, indexShape, result.AsSpan());
        // gather: ∂x[p with p[axis] = index[p]] += ∂y[p]   (scatter-add into the contiguous sink)
        TapeEntry? entry = tape?.Record("gather", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                int[] ints = e.Ints!;
                Kernels.Indexing.ScatterAdd(dy.AsSpan(), ints.AsSpan(1), dy.ShapeArray, ints[0], sink.AsSpan(), sink.StrideArray);
            }
        }, this);
        entry?.Ints = [a, .. index];
        return result;
    }
}
