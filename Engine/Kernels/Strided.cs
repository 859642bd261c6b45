namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Reading and writing tensors laid out with arbitrary strides (views: transposes, slices, broadcasts), one
/// innermost row at a time so that the common cases (unit stride, stride 0) become a span copy or a fill.
/// </summary>
internal static class Strided
{
    /// <summary>
    /// Copies the elements of a strided view, in row-major order, into <paramref name="destination"/>.
    /// Stride 0 axes (broadcasts) repeat their element.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> destination)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[0] = source[offset];
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
                source.Slice(rowStart, rowLength).CopyTo(row);
            }
            else if (innerStride == 0)
            {
                row.Fill(source[rowStart]);
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    row[j] = source[at];
                }
            }
            rowStart = NextRow(index, shape, strides, rowStart);
        }
    }

    /// <summary>
    /// Writes contiguous <paramref name="values"/> into a strided view (no stride may be 0: a broadcast view has
    /// several elements per buffer slot and cannot be written).
    /// </summary>
    public static void Scatter(ReadOnlySpan<float> values, Span<float> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[offset] = values[0];
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
                row.CopyTo(destination.Slice(rowStart, rowLength));
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    destination[at] = row[j];
                }
            }
            rowStart = NextRow(index, shape, strides, rowStart);
        }
    }

    /// <summary>
    /// Advances a multi-index over every axis but the last (an odometer) and returns the buffer offset of the
    /// next row. <paramref name="index"/> starts at zeros.
    /// </summary>
    public static int NextRow(Span<int> index, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, int rowStart)
    {
        for (int axis = shape.Length - 2; axis >= 0; axis--)
        {
            if (++index[axis] < shape[axis])
            {
                return rowStart + strides[axis];
            }
            rowStart -= (shape[axis] - 1) * strides[axis];
            index[axis] = 0;
        }
        return rowStart;
    }
}
