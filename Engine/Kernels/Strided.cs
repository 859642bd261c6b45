using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Reading and writing tensors laid out with arbitrary strides (views: transposes, slices, broadcasts), one
/// innermost row at a time so that the common cases (unit stride, stride 0) become one span operation.
/// </summary>
/// <remarks>
/// Four kernels, one walk: <see cref="Gather"/> and <see cref="GatherAdd"/> read a strided view into a contiguous
/// buffer (copying or adding), <see cref="Scatter"/> and <see cref="ScatterAdd"/> write a contiguous buffer into a
/// strided view. The adding forms are how the backward rules of views move a gradient without a temporary copy.
/// </remarks>
internal static class Strided
{
    /// <summary>
    /// Copies the elements of a strided view, in row-major order, into <paramref name="destination"/>.
    /// Stride 0 axes (broadcasts) repeat their element.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> destination) =>
        GatherRows<Copy>(source, offset, shape, strides, destination);

    /// <summary>
    /// <c>destination += view</c>: adds the elements of a strided view of <paramref name="source"/>, read in
    /// row-major order, into contiguous <paramref name="destination"/> (of the view's element count).
    /// </summary>
    public static void GatherAdd(ReadOnlySpan<float> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> destination) =>
        GatherRows<Add>(source, offset, shape, strides, destination);

    /// <summary>
    /// Writes contiguous <paramref name="values"/> into a strided view (no stride may be 0: a broadcast view has
    /// several elements per buffer slot and cannot be written).
    /// </summary>
    public static void Scatter(ReadOnlySpan<float> values, Span<float> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) =>
        ScatterRows<Copy>(values, destination, offset, shape, strides);

    /// <summary>
    /// <c>view += values</c>: adds contiguous <paramref name="values"/> (row-major in <paramref name="shape"/>) into a
    /// strided view of <paramref name="destination"/>. No stride may be 0 (a broadcast view has several elements
    /// per buffer slot; sum them first with <see cref="Reduction.SumToShape"/>).
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> values, Span<float> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides) =>
        ScatterRows<Add>(values, destination, offset, shape, strides);

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

    /// <summary>How a value moves into its place: copied over it, or added to it.</summary>
    private interface IMove
    {
        static abstract void Row(ReadOnlySpan<float> from, Span<float> to);

        static abstract void Repeat(float from, Span<float> to);

        static abstract void Element(float from, ref float to);
    }

    private readonly struct Copy : IMove
    {
        public static void Row(ReadOnlySpan<float> from, Span<float> to) => from.CopyTo(to);

        public static void Repeat(float from, Span<float> to) => to.Fill(from);

        public static void Element(float from, ref float to) => to = from;
    }

    private readonly struct Add : IMove
    {
        public static void Row(ReadOnlySpan<float> from, Span<float> to) => TensorPrimitives.Add(to, from, to);

        public static void Repeat(float from, Span<float> to) => TensorPrimitives.Add(to, from, to);

        public static void Element(float from, ref float to) => to += from;
    }

    // Strided view → contiguous destination, one innermost row at a time.
    private static void GatherRows<TMove>(ReadOnlySpan<float> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<float> destination)
        where TMove : struct, IMove
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            TMove.Element(source[offset], ref destination[0]);
            return;
        }
        if (destination.IsEmpty)
        {
            return;
        }
        int rowLength = shape[rank - 1];
        int innerStride = strides[rank - 1];
        Span<int> index = stackalloc int[rank];
        int rowStart = offset;
        for (int written = 0; written < destination.Length; written += rowLength)
        {
            Span<float> row = destination.Slice(written, rowLength);
            if (innerStride == 1)
            {
                TMove.Row(source.Slice(rowStart, rowLength), row);
            }
            else if (innerStride == 0)
            {
                TMove.Repeat(source[rowStart], row);
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    TMove.Element(source[at], ref row[j]);
                }
            }
            rowStart = NextRow(index, shape, strides, rowStart);
        }
    }

    // Contiguous values → strided view of destination, one innermost row at a time.
    private static void ScatterRows<TMove>(ReadOnlySpan<float> values, Span<float> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
        where TMove : struct, IMove
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            TMove.Element(values[0], ref destination[offset]);
            return;
        }
        if (values.IsEmpty)
        {
            return;
        }
        int rowLength = shape[rank - 1];
        int innerStride = strides[rank - 1];
        Span<int> index = stackalloc int[rank];
        int rowStart = offset;
        for (int read = 0; read < values.Length; read += rowLength)
        {
            ReadOnlySpan<float> row = values.Slice(read, rowLength);
            if (innerStride == 1)
            {
                TMove.Row(row, destination.Slice(rowStart, rowLength));
            }
            else
            {
                for (int j = 0, at = rowStart; j < rowLength; j++, at += innerStride)
                {
                    TMove.Element(row[j], ref destination[at]);
                }
            }
            rowStart = NextRow(index, shape, strides, rowStart);
        }
    }
}
