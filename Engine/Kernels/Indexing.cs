using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Picking elements by integer index along one axis (index_select, gather) and the scatter-adds that undo them in
/// backward. Indices are validated by the caller; these loops trust them.
/// </summary>
internal static class Indexing
{
    /// <summary>
    /// index_select on contiguous <paramref name="x"/> seen as (outer, size, inner):
    /// <c>y[o, j, :] = x[o, indices[j], :]</c>, with <paramref name="y"/> (outer, indices.Length, inner).
    /// </summary>
    public static void Select(ReadOnlySpan<float> x, int outer, int size, int inner, ReadOnlySpan<int> indices, Span<float> y)
    {
        int n = indices.Length;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < n; j++)
            {
                x.Slice(((o * size) + indices[j]) * inner, inner).CopyTo(y.Slice(((o * n) + j) * inner, inner));
            }
        }
    }

    /// <summary>
    /// The backward of <see cref="Select"/>: <c>dx[o, indices[j], :] += dy[o, j, :]</c>. A repeated index receives the
    /// sum of its rows.
    /// </summary>
    public static void SelectAdd(ReadOnlySpan<float> dy, int outer, int size, int inner, ReadOnlySpan<int> indices, Span<float> dx)
    {
        int n = indices.Length;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < n; j++)
            {
                Span<float> target = dx.Slice(((o * size) + indices[j]) * inner, inner);
                TensorPrimitives.Add(target, dy.Slice(((o * n) + j) * inner, inner), target);
            }
        }
    }

    /// <summary>
    /// torch.gather: for every position <c>p</c> of <paramref name="indexShape"/>,
    /// <c>y[p] = x[p with p[axis] replaced by index[p]]</c>, where x is a strided view of <paramref name="x"/>
    /// (any layout) and y and <paramref name="index"/> are contiguous in <paramref name="indexShape"/>.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> x, int offset, ReadOnlySpan<int> strides, int axis,
        ReadOnlySpan<int> index, ReadOnlySpan<int> indexShape, Span<float> y)
    {
        int rank = indexShape.Length;
        if (index.IsEmpty)
        {
            return;
        }
        // Walk the other axes with x's strides (the gathered axis moves by 0); the index adds its own term.
        Span<int> walk = stackalloc int[rank];
        strides.CopyTo(walk);
        walk[axis] = 0;
        int axisStride = strides[axis];
        int rowLength = indexShape[rank - 1];
        int innerStride = walk[rank - 1];
        Span<int> counter = stackalloc int[rank];
        int rowStart = offset;
        for (int k = 0; k < index.Length; k += rowLength)
        {
            for (int j = 0; j < rowLength; j++)
            {
                y[k + j] = x[rowStart + (j * innerStride) + (index[k + j] * axisStride)];
            }
            rowStart = Strided.NextRow(counter, indexShape, walk, rowStart);
        }
    }

    /// <summary>
    /// The backward of <see cref="Gather"/>: <c>dx[p with p[axis] replaced by index[p]] += dy[p]</c>, where
    /// <paramref name="dx"/> is contiguous with <paramref name="dxStrides"/>. Positions that pick the same element add up.
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> dy, ReadOnlySpan<int> index, ReadOnlySpan<int> indexShape, int axis,
        Span<float> dx, ReadOnlySpan<int> dxStrides)
    {
        int rank = indexShape.Length;
        if (index.IsEmpty)
        {
            return;
        }
        Span<int> walk = stackalloc int[rank];
        dxStrides.CopyTo(walk);
        walk[axis] = 0;
        int axisStride = dxStrides[axis];
        int rowLength = indexShape[rank - 1];
        int innerStride = walk[rank - 1];
        Span<int> counter = stackalloc int[rank];
        int rowStart = 0;
        for (int k = 0; k < index.Length; k += rowLength)
        {
            for (int j = 0; j < rowLength; j++)
            {
                dx[rowStart + (j * innerStride) + (index[k + j] * axisStride)] += dy[k + j];
            }
            rowStart = Strided.NextRow(counter, indexShape, walk, rowStart);
        }
    }
}
