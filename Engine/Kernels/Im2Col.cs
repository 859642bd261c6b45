using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// im2col and its adjoint col2im: the copies that turn a convolution into one matrix product (GEMM).
/// </summary>
/// <remarks>
/// <para>
/// A convolution output is a dot product of the kernel with one window of the image, for every output position.
/// im2col copies every window into one column of a matrix, so all those dot products become one GEMM.
/// One channel, a 3×3 image, a 2×2 kernel, stride 1, no padding (so Ho = Wo = 2):
/// </para>
/// <code>
///   image (1, 3, 3)          columns (C·kh·kw = 4, Ho·Wo = 4)
///                                        output position (oy, ox)
///                                        (0,0)  (0,1)  (1,0)  (1,1)
///     a b c           tap (ki, kj) (0,0)    a      b      d      e
///     d e f                        (0,1)    b      c      e      f
///     g h i                        (1,0)    d      e      g      h
///                                  (1,1)    e      f      h      i
///
///   out (O, Ho·Wo) = W (O, C·kh·kw) · columns (C·kh·kw, Ho·Wo)     (W's row o is filter o, flattened)
/// </code>
/// <para>
/// Each column is one window, flattened in the order of the weight's (C, kh, kw) axes; each row is one tap slid
/// over the output positions, which is an (almost) contiguous, strided read of one image row. With padding, taps
/// that fall outside the image read 0; with dilation d, tap ki sits d·ki rows down. Because out's layout
/// (O, Ho·Wo) is already the (O, Ho, Wo) of NCHW, the GEMM writes the result in place, with no transpose.
/// </para>
/// <para>
/// col2im goes the other way and <em>adds</em>: a pixel that appears in several windows (e above appears in all
/// four) receives the sum of their column entries. That is exactly the transpose (adjoint) of im2col, which is
/// what the backward pass needs: ∂image = col2im(∂columns).
/// </para>
/// <para>
/// The cost is memory: the columns hold kh·kw copies of the image. Convolution keeps one (C·kh·kw, Ho·Wo) buffer and
/// reuses it for each image of the batch.
/// </para>
/// </remarks>
internal static class Im2Col
{
    /// <summary>
    /// im2col: copies every window of one image into a column: <c>columns[(c, ki, kj), (oy, ox)] =
    /// image[c, oy·sh − ph + ki·dh, ox·sw − pw + kj·dw]</c>, or 0 where that falls in the padding.
    /// </summary>
    /// <param name="image">One image, (C, H, W), contiguous.</param>
    /// <param name="columns">(C·kh·kw, Ho·Wo), every element written.</param>
    /// <param name="window">The geometry; <see cref="Window2d.Channels"/> is C.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToColumns(ReadOnlySpan<float> image, Span<float> columns, in Window2d window)
    {
        int height = window.Height, width = window.Width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int stride = window.StrideWidth;
        int positions = outHeight * outWidth;
        CheckLengths("ToColumns", image.Length, columns.Length, window);

        int row = 0;
        for (int c = 0; c < window.Channels; c++)
        {
            ReadOnlySpan<float> plane = image.Slice(c * height * width, height * width); // (H, W)
            for (int ki = 0; ki < window.KernelHeight; ki++)
            {
                for (int kj = 0; kj < window.KernelWidth; kj++, row++)
                {
                    Span<float> tap = columns.Slice(row * positions, positions); // (Ho, Wo)
                    // Tap (ki, kj) at output column ox reads image column ox·stride + xOffset.
                    int xOffset = kj * window.DilationWidth - window.PaddingWidth;
                    Window2d.ValidRange(xOffset, stride, width, outWidth, out int begin, out int end);
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        Span<float> line = tap.Slice(oy * outWidth, outWidth); // (Wo)
                        int iy = oy * window.StrideHeight - window.PaddingHeight + ki * window.DilationHeight;
                        if ((uint)iy >= (uint)height)
                        {
                            line.Clear(); // the whole output row's tap is in the top or bottom padding
                            continue;
                        }
                        ReadOnlySpan<float> source = plane.Slice(iy * width, width); // (W)
                        line[..begin].Clear();
                        line[end..].Clear();
                        if (begin == end)
                        {
                            continue; // every tap of this row is in the left or right padding
                        }
                        if (stride == 1)
                        {
                            source.Slice(begin + xOffset, end - begin).CopyTo(line[begin..end]);
                        }
                        else
                        {
                            for (int ox = begin; ox < end; ox++)
                            {
                                line[ox] = source[ox * stride + xOffset];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// col2im, accumulating: <c>image[c, oy·sh − ph + ki·dh, ox·sw − pw + kj·dw] += columns[(c, ki, kj), (oy, ox)]</c>
    /// for every entry that does not fall in the padding. The adjoint of <see cref="ToColumns"/>.
    /// </summary>
    /// <param name="columns">(C·kh·kw, Ho·Wo).</param>
    /// <param name="image">One image, (C, H, W), contiguous; added to, not overwritten.</param>
    /// <param name="window">The geometry; <see cref="Window2d.Channels"/> is C.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateToImage(ReadOnlySpan<float> columns, Span<float> image, in Window2d window)
    {
        int height = window.Height, width = window.Width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int stride = window.StrideWidth;
        int positions = outHeight * outWidth;
        CheckLengths("AccumulateToImage", image.Length, columns.Length, window);

        int row = 0;
        for (int c = 0; c < window.Channels; c++)
        {
            Span<float> plane = image.Slice(c * height * width, height * width); // (H, W)
            for (int ki = 0; ki < window.KernelHeight; ki++)
            {
                for (int kj = 0; kj < window.KernelWidth; kj++, row++)
                {
                    ReadOnlySpan<float> tap = columns.Slice(row * positions, positions); // (Ho, Wo)
                    int xOffset = kj * window.DilationWidth - window.PaddingWidth;
                    Window2d.ValidRange(xOffset, stride, width, outWidth, out int begin, out int end);
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        int iy = oy * window.StrideHeight - window.PaddingHeight + ki * window.DilationHeight;
                        if ((uint)iy >= (uint)height || begin == end)
                        {
                            continue; // padding has no gradient to receive
                        }
                        ReadOnlySpan<float> line = tap.Slice(oy * outWidth, outWidth); // (Wo)
                        Span<float> target = plane.Slice(iy * width, width); // (W)
                        if (stride == 1)
                        {
                            Span<float> run = target.Slice(begin + xOffset, end - begin);
                            TensorPrimitives.Add(run, line[begin..end], run);
                        }
                        else
                        {
                            for (int ox = begin; ox < end; ox++)
                            {
                                target[ox * stride + xOffset] += line[ox];
                            }
                        }
                    }
                }
            }
        }
    }

    // Checked once per call, so a wrong buffer fails before anything is written rather than half-way through.
    private static void CheckLengths(string method, int imageLength, int columnsLength, in Window2d window)
    {
        long columns = (long)window.ColumnRows * window.ColumnCount;
        if (imageLength < window.InputSize || columnsLength < columns)
        {
            throw new ArgumentException(
                $"Im2Col.{method}: image of {imageLength} and columns of {columnsLength} elements for a ({window.Channels}, {window.Height}, " +
                $"{window.Width}) image with {window.Describe()}; expected at least {window.InputSize} and {columns}.");
        }
    }
}
