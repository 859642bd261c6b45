using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The accumulating twins of <see cref="Strided.Gather"/> and <see cref="Strided.Scatter"/>: how the backward rules
/// of views move a gradient between a strided region and a contiguous buffer without a temporary copy.
/// Rows with unit stride become one vector add.
/// </summary>
internal static class StridedAccumulate
{
    /// <summary>
    /// <c>destination += view</c>: adds the elements of a strided view of <paramref name="source"/>, read in
    /// row-major order, into contiguous <paramref name="destination"/> (of the view's element count).
    /// </summary>
    public static void GatherAdd(ReadOnlySpan<float> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> destination)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[0] += source[offset];
            return;
        }
        int count = destination.Length;
        if (count == 0)
        {
            return;
        }
        int rowLength = shape[rank - 1];
        int innerStride = strides[rank - 1];
        Span<int> index = stackalloc int[rank];
        int rowStart = offset;
        for (int written = 0; written < count; written += rowLength)
        {
            Span<float> row = destination.Slice(written, rowLength);
            if (innerStride == 1)
            {
                TensorPrimitives.Add(row, source.Slice(rowStart, rowLength), row);
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    row[j] += source[at];
                }
            }
            rowStart = Strided.NextRow(index, shape, strides, rowStart);
        }
    }

    /// <summary>
    /// <c>view += values</c>: adds contiguous <paramref name="values"/> (row-major in <paramref name="shape"/>) into a
    /// strided view of <paramref name="destination"/>. No stride may be 0 (a broadcast view has several elements
    /// per buffer slot; sum them first with <see cref="Reduction.SumToShape"/>).
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> values, Span<float> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[offset] += values[0];
            return;
        }
        int count = values.Length;
        if (count == 0)
        {
            return;
        }
        int rowLength = shape[rank - 1];
        int innerStride = strides[rank - 1];
        Span<int> index = stackalloc int[rank];
        int rowStart = offset;
        for (int read = 0; read < count; read += rowLength)
        {
            ReadOnlySpan<float> row = values.Slice(read, rowLength);
            if (innerStride == 1)
            {
                Span<float> target = destination.Slice(rowStart, rowLength);
                TensorPrimitives.Add(target, row, target);
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    destination[at] += row[j];
                }
            }
            rowStart = Strided.NextRow(index, shape, strides, rowStart);
        }
    }
}
