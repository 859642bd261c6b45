using System.Buffers;
using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// 2-D convolution (torch.nn.functional.conv2d) as im2col + GEMM, one image at a time. With cols = im2col(x[n])
// (C·kh·kw, Ho·Wo) and W seen as (O, C·kh·kw):
//
//     forward          y[n] (O, Ho·Wo)          = W · cols                      NN GEMM
//     backward-weight  ∂W   (O, C·kh·kw)       += ∂y[n] · colsᵀ                 NT GEMM, summed over n by beta = 1
//     backward-data    ∂cols (C·kh·kw, Ho·Wo)   = Wᵀ · ∂y[n], ∂x[n] += col2im   TN GEMM, then a scatter-add
//
// Every transpose is a GEMM flag, never a copy. See Kernels/Im2Col.cs for a picture of the columns.
public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as in PyTorch's <c>conv2d</c>) of this (N, C, H, W) input with a
    /// (O, C, kh, kw) weight and an optional (O) bias; the same stride, padding and dilation on both axes.
    /// The result is (N, O, Ho, Wo) with <c>Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1</c>
    /// (Wo likewise). Differentiable in the input, the weight and the bias.
    /// </summary>
    /// <param name="weight">(O, C, kh, kw): O filters spanning all C input channels.</param>
    /// <param name="bias">(O), added to every output position of channel o; or null for none.</param>
    /// <param name="stride">Step between window placements, ≥ 1.</param>
    /// <param name="padding">Zeros added on every side, ≥ 0.</param>
    /// <param name="dilation">Spacing between kernel taps, ≥ 1 (1 = a dense kernel).</param>
    /// <exception cref="ArgumentException">
    /// The input or weight is not rank 4, their channel counts differ, the bias is not (O), a stride, padding,
    /// dilation or kernel size is out of range, or the output would be empty.
    /// </exception>
    public Tensor Conv2d(Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1) =>
        Conv2d(weight, bias, (stride, stride), (padding, padding), (dilation, dilation));

    /// <summary>
    /// 2-D convolution with a separate (height, width) stride, padding and dilation, as PyTorch's
    /// <c>conv2d(x, w, b, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))</c>.
    /// See <see cref="Conv2d(Tensor, Tensor?, int, int, int)"/>.
    /// </summary>
    /// <param name="weight">(O, C, kh, kw).</param>
    /// <param name="bias">(O), or null.</param>
    /// <param name="stride">(sh, sw), each ≥ 1.</param>
    /// <param name="padding">(ph, pw), each ≥ 0.</param>
    /// <param name="dilation">(dh, dw), each ≥ 1.</param>
    /// <exception cref="ArgumentException">As for <see cref="Conv2d(Tensor, Tensor?, int, int, int)"/>.</exception>
    public Tensor Conv2d(Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Window2d window = Conv2dWindow(_shape, weight._shape, bias?._shape, stride, padding, dilation);
        int batch = _shape[0], outChannels = weight._shape[0];
        int[] shape = [batch, outChannels, window.OutputHeight, window.OutputWidth]; // (N, O, Ho, Wo)
        Shapes.Count(shape, "Conv2d");

        // The GEMM reads x and W straight from their buffers; a strided view is copied once (recorded, so its
        // gradient still reaches the original).
        Tensor x = Contiguous(), w = weight.Contiguous();
        Tape? tape = Tape.ForInputs(x, w, bias);
        Tensor result = NewResult(tape, shape);
        Conv2dForward(x, w, result, window);
        if (bias is not null)
        {
            using Scratch b = bias.Read(); // (O)
            AddPerChannel(result.AsSpan(), b.Span, window.ColumnCount);
        }

        // conv2d: ∂b += Σ_{n,oy,ox} ∂y;  per image: ∂W += ∂y[n]·colsᵀ, ∂x[n] += col2im(Wᵀ·∂y[n])
        TapeEntry? entry = tape?.Record("conv2d", result, static (e, dy) =>
        {
            Window2d window = Window2d.FromInts(e.Ints!);
            Tensor? biasSink = e.InputCount > 2 ? e.GradSink(2) : null;
            if (biasSink is not null)
            {
                SumPerChannel(dy.AsSpan(), biasSink.AsSpan(), window.ColumnCount);
            }
            Conv2dBackward(e.Input(0), e.Input(1), dy, e.GradSink(0), e.GradSink(1), window);
        }, x, w, bias);
        entry?.Ints = window.ToInts();
        return result;
    }

    /// <summary>
    /// y (N, O, Ho·Wo) = W (O, C·kh·kw) · im2col(x[n]) for each image n; overwrites y. x, W and y contiguous. Internal so
    /// that the fused weight-norm convolution (Layers/Conv2d.cs) runs the same im2col + GEMM on its direction V.
    /// </summary>
    internal static void Conv2dForward(Tensor x, Tensor w, Tensor y, in Window2d window)
    {
        int batch = x._shape[0], outChannels = w._shape[0];
        int rows = window.ColumnRows, positions = window.ColumnCount; // C·kh·kw, Ho·Wo
        int imageSize = window.InputSize, outSize = outChannels * positions;
        // One column buffer for the whole batch, from the shared pool: a steady-state step allocates none.
        // A pointwise (1×1, stride 1, no padding) convolution needs none: the image already is its columns.
        float[]? columns = window.IsPointwise ? null : ArrayPool<float>.Shared.Rent(rows * positions);
        try
        {
            for (int n = 0; n < batch; n++)
            {
                int xOffset = x._offset + n * imageSize;
                float[] b = x.Buffer;
                int bOffset = xOffset;
                if (columns is not null)
                {
                    Im2Col.ToColumns(x.Buffer.AsSpan(xOffset, imageSize), columns.AsSpan(0, rows * positions), window);
                    b = columns;
                    bOffset = 0;
                }
                // y[n] (O, Ho·Wo) = W (O, C·kh·kw) · cols (C·kh·kw, Ho·Wo)
                ConvolutionGemm(false, false, outChannels, positions, rows, 1f, w.Buffer, w._offset, rows, b, bOffset, positions,
                    0f, y.Buffer, y._offset + n * outSize, positions);
            }
        }
        finally
        {
            if (columns is not null)
            {
                ArrayPool<float>.Shared.Return(columns);
            }
        }
    }

    /// <summary>
    /// Accumulates ∂W (O, C·kh·kw) += Σₙ ∂y[n]·cols[n]ᵀ and ∂x[n] += col2im(Wᵀ·∂y[n]); either sink may be null.
    /// Internal so that the fused weight-norm convolution (Layers/Conv2d.cs) reuses it with ∂y = δ' and W = V.
    /// </summary>
    internal static void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? inputSink, Tensor? weightSink, in Window2d window)
    {
        if (inputSink is null && weightSink is null)
        {
            return;
        }
        int batch = x._shape[0], outChannels = w._shape[0];
        int rows = window.ColumnRows, positions = window.ColumnCount; // C·kh·kw, Ho·Wo
        int imageSize = window.InputSize, outSize = outChannels * positions;
        // One buffer serves both uses in turn: first the image's columns for ∂W, then ∂columns for ∂x.
        float[]? columns = window.IsPointwise ? null : ArrayPool<float>.Shared.Rent(rows * positions);
        try
        {
            for (int n = 0; n < batch; n++)
            {
                int dyOffset = dy._offset + n * outSize;
                if (weightSink is not null)
                {
                    // Recomputing im2col here costs one copy; saving it from the forward would cost N·C·kh·kw·Ho·Wo
                    // floats of memory per layer for the whole step.
                    float[] b = x.Buffer;
                    int bOffset = x._offset + n * imageSize;
                    if (columns is not null)
                    {
                        Im2Col.ToColumns(x.Buffer.AsSpan(bOffset, imageSize), columns.AsSpan(0, rows * positions), window);
                        b = columns;
                        bOffset = 0;
                    }
                    // ∂W (O, C·kh·kw) += ∂y[n] (O, Ho·Wo) · colsᵀ (Ho·Wo, C·kh·kw): beta = 1 sums over the batch.
                    ConvolutionGemm(false, true, outChannels, rows, positions, 1f, dy.Buffer, dyOffset, positions, b, bOffset, positions,
                        1f, weightSink.Buffer, weightSink._offset, rows);
                }
                if (inputSink is not null)
                {
                    int dxOffset = inputSink._offset + n * imageSize;
                    if (columns is null)
                    {
                        // Pointwise: ∂cols is ∂x[n] itself, so the GEMM accumulates into it directly.
                        ConvolutionGemm(true, false, rows, positions, outChannels, 1f, w.Buffer, w._offset, rows, dy.Buffer, dyOffset, positions,
                            1f, inputSink.Buffer, dxOffset, positions);
                        continue;
                    }
                    // ∂cols (C·kh·kw, Ho·Wo) = Wᵀ (C·kh·kw, O) · ∂y[n] (O, Ho·Wo), then each entry goes back to its pixel.
                    ConvolutionGemm(true, false, rows, positions, outChannels, 1f, w.Buffer, w._offset, rows, dy.Buffer, dyOffset, positions,
                        0f, columns, 0, positions);
                    Im2Col.AccumulateToImage(columns.AsSpan(0, rows * positions), inputSink.Buffer.AsSpan(dxOffset, imageSize), window);
                }
            }
        }
        finally
        {
            if (columns is not null)
            {
                ArrayPool<float>.Shared.Return(columns);
            }
        }
    }

    /// <summary>
    /// Every matrix product of the convolution goes through here, on the packed <see cref="Gemm"/>:
    /// <c>C = alpha·op(A)·op(B) + beta·C</c>, row-major; beta = 0 ignores C's contents.
    /// </summary>
    private static void ConvolutionGemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) =>
        Gemm.Multiply(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);

    /// <summary>y[n, o, :] += bias[o] over an (N, O, positions) buffer.</summary>
    private static void AddPerChannel(Span<float> y, ReadOnlySpan<float> bias, int positions)
    {
        for (int start = 0, o = 0; start < y.Length; start += positions, o = (o + 1) % bias.Length)
        {
            Span<float> row = y.Slice(start, positions);
            TensorPrimitives.Add(row, bias[o], row);
        }
    }

    /// <summary>sink[o] += Σ_{n, p} dy[n, o, p] over an (N, O, positions) buffer: the bias gradient.</summary>
    private static void SumPerChannel(ReadOnlySpan<float> dy, Span<float> sink, int positions)
    {
        for (int start = 0, o = 0; start < dy.Length; start += positions, o = (o + 1) % sink.Length)
        {
            sink[o] += TensorPrimitives.Sum(dy.Slice(start, positions));
        }
    }

    /// <summary>
    /// Checks Conv2d's arguments and returns the window of one image, or throws naming the op and the shapes. Internal
    /// for the fused weight-norm convolution (Layers/Conv2d.cs), which takes the same arguments.
    /// </summary>
    internal static Window2d Conv2dWindow(int[] input, int[] weight, int[]? bias,
        (int Height, int Width) stride, (int Height, int Width) padding, (int Height, int Width) dilation)
    {
        if (input.Length != 4)
        {
            throw new ArgumentException($"Conv2d: input {Shapes.Format(input)} has rank {input.Length}; expected (N, C, H, W).");
        }
        if (weight.Length != 4)
        {
            throw new ArgumentException($"Conv2d: weight {Shapes.Format(weight)} has rank {weight.Length}; expected (O, C, kh, kw).");
        }
        if (input[1] != weight[1])
        {
            throw new ArgumentException(
                $"Conv2d: input {Shapes.Format(input)} has {input[1]} channels, weight {Shapes.Format(weight)} expects {weight[1]}.");
        }
        if (bias is not null && (bias.Length != 1 || bias[0] != weight[0]))
        {
            throw new ArgumentException(
                $"Conv2d: bias {Shapes.Format(bias)} for weight {Shapes.Format(weight)}; expected ({weight[0]}), one value per output channel.");
        }
        if (weight[2] < 1 || weight[3] < 1)
        {
            throw new ArgumentException($"Conv2d: weight {Shapes.Format(weight)} has a {weight[2]}×{weight[3]} kernel; expected at least 1×1.");
        }
        if (stride.Height < 1 || stride.Width < 1 || padding.Height < 0 || padding.Width < 0 || dilation.Height < 1 || dilation.Width < 1)
        {
            throw new ArgumentException(
                $"Conv2d: stride ({stride.Height}, {stride.Width}), padding ({padding.Height}, {padding.Width}), " +
                $"dilation ({dilation.Height}, {dilation.Width}); expected stride ≥ 1, padding ≥ 0 and dilation ≥ 1.");
        }
        var window = new Window2d(input[1], input[2], input[3], weight[2], weight[3],
            stride.Height, stride.Width, padding.Height, padding.Width, dilation.Height, dilation.Width);
        if (window.OutputHeight < 1 || window.OutputWidth < 1)
        {
            throw new ArgumentException(
                $"Conv2d: input {Shapes.Format(input)} with {window.Describe()} gives an output of {window.OutputHeight}×{window.OutputWidth}; " +
                "expected at least 1×1 (the dilated kernel is larger than the padded input).");
        }
        // In long: Ho·Wo and the im2col buffer (C·kh·kw)·(Ho·Wo) may not fit an int even when the input does.
        long positions = (long)window.OutputHeight * window.OutputWidth;
        long columns = (long)input[1] * weight[2] * weight[3] * positions;
        if (positions > Array.MaxLength || columns > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Conv2d: input {Shapes.Format(input)} with weight {Shapes.Format(weight)} and {window.Describe()} needs an im2col buffer of " +
                $"{columns} elements, more than an array holds.");
        }
        return window;
    }
}
