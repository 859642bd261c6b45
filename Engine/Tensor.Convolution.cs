using System.Buffers;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// 2-D convolution (torch.nn.functional.conv2d) as im2col + GEMM, one image at a time. With cols = im2col(x[n])
// (C·kh·kw, Ho·Wo) and W seen as (O, C·kh·kw):
//
//     forward          y[n] (O, Ho·Wo)          = W · cols                      NN GEMM
//     backward-weight  ∂W   (O, C·kh·kw)       += ∂y[n] · colsᵀ                 NT GEMM, summed over n
//     backward-data    ∂cols (C·kh·kw, Ho·Wo)   = Wᵀ · ∂y[n], ∂x[n] += col2im   TN GEMM, then a scatter-add
//
// Every transpose is a GEMM flag, never a copy. See Kernels/Im2Col.cs for a picture of the columns, and
// Kernels/ConvolutionKernel.cs for how the images are shared among threads with bitwise-reproducible batch sums.
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
        Window2d window = Conv2dWindow(ShapeArray, weight.ShapeArray, bias?.ShapeArray, stride, padding, dilation);
        int batch = ShapeArray[0], outChannels = weight.ShapeArray[0];
        ReadOnlySpan<int> shape = [batch, outChannels, window.OutputHeight, window.OutputWidth]; // (N, O, Ho, Wo)
        Shapes.Count(shape, "Conv2d");

        // The GEMM reads x and W straight from their buffers; a strided view is copied once (recorded, so its
        // gradient still reaches the original).
        Tensor x = Contiguous(), w = weight.Contiguous();
        Tape? tape = Tape.ForInputs(x, w, bias);
        Tensor result = NewResult(tape, shape);
        if (bias is null)
        {
            Conv2dForward(x, w, result, window);
        }
        else
        {
            // The bias is O numbers: copied into a contiguous scratch array, so a strided view needs no recorded copy.
            float[] b = ArrayPool<float>.Shared.Rent(outChannels); // (O)
            try
            {
                using (Scratch values = bias.Read())
                {
                    values.Span.CopyTo(b);
                }
                Conv2dForward(x, w, result, window, b);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(b);
            }
        }

        // conv2d: ∂b += Σ_{n,oy,ox} ∂y;  per image: ∂W += ∂y[n]·colsᵀ, ∂x[n] += col2im(Wᵀ·∂y[n])
        TapeEntry? entry = tape?.Record("conv2d", result, static (e, dy) =>
        {
            Tensor? biasSink = e.InputCount > 2 ? e.GradSink(2) : null;
            Conv2dBackward(e.Input(0), e.Input(1), dy, e.GradSink(0), e.GradSink(1), Window2d.FromInts(e.Ints!), biasSink);
        }, x, w, bias);
        entry?.KeepWindow(window);
        return result;
    }

    /// <summary>
    /// y (N, O, Ho·Wo) = W (O, C·kh·kw) · im2col(x[n]) (+ bias[o] on channel o) for each image n; overwrites y. x, W and
    /// y contiguous; <paramref name="bias"/> holds O values from <paramref name="biasOffset"/>. Internal so that the
    /// fused weight-norm convolution (Layers/Conv2d.cs) runs the same im2col + GEMM on its w = diag(s)·V.
    /// </summary>
    internal static void Conv2dForward(Tensor x, Tensor w, Tensor y, in Window2d window, float[]? bias = null, int biasOffset = 0)
    {
        ConvolutionGeometry geometry = new(x.ShapeArray[0], w.ShapeArray[0], window);
        ConvolutionKernel.Forward(geometry, x.Buffer, x._offset, w.Buffer, w._offset, bias, biasOffset, y.Buffer, y._offset);
    }

    /// <summary>
    /// Accumulates ∂W (O, C·kh·kw) += Σₙ ∂y[n]·cols[n]ᵀ, ∂x[n] += col2im(Wᵀ·∂y[n]) and ∂b (O) += Σ_{n,p} ∂y[n, :, p];
    /// any sink may be null. Bitwise the same for any thread count (see <see cref="ConvolutionKernel"/>). Internal so
    /// that the fused weight-norm convolution (Layers/Conv2d.cs) reuses it with ∂y = δ' and W = V.
    /// </summary>
    internal static void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? inputSink, Tensor? weightSink, in Window2d window,
        Tensor? biasSink = null)
    {
        ConvolutionGeometry geometry = new(x.ShapeArray[0], w.ShapeArray[0], window);
        ConvolutionSinks sinks = new(inputSink?.Buffer, inputSink?._offset ?? 0, weightSink?.Buffer, weightSink?._offset ?? 0,
            biasSink?.Buffer, biasSink?._offset ?? 0);
        ConvolutionKernel.Backward(geometry, x.Buffer, x._offset, w.Buffer, w._offset, dy.Buffer, dy._offset, sinks);
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
