using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Layers;

/// <summary>
/// 2-D max pooling (<c>torch.nn.MaxPool2d</c>): the maximum of every kernel×kernel window of each (H, W) plane,
/// (N, C, H, W) → (N, C, Ho, Wo) with <c>Ho = ⌊(H + 2·padding − kernel)/stride⌋ + 1</c>. Padding never wins a window.
/// Differentiable (op <c>max_pool2d</c>: the gradient goes to each window's maximum). No parameters.
/// </summary>
public sealed class MaxPool2d : Module
{
    /// <summary>A max-pooling layer.</summary>
    /// <param name="kernelSize">Window height and width, ≥ 1.</param>
    /// <param name="stride">Step between windows, ≥ 1; null (the default) means <paramref name="kernelSize"/>, as in PyTorch.</param>
    /// <param name="padding">Added on every side, 0 ≤ padding ≤ kernelSize/2 (PyTorch's limit).</param>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        CheckArguments(ToString(), kernelSize, stride, padding);
    }

    /// <summary>The window's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows (the kernel size unless given).</summary>
    public int Stride { get; }

    /// <summary>Added on every side (never the maximum).</summary>
    public int Padding { get; }

    /// <summary>(N, C, H, W) → (N, C, Ho, Wo); differentiable.</summary>
    /// <exception cref="ArgumentException">The input is not (N, C, H, W), or too small for one window; the message names the layer and the shape.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(this, input, KernelSize, Stride, Padding);
        return input.MaxPool2d(KernelSize, Stride, Padding);
    }

    /// <summary>E.g. <c>MaxPool2d(k2, s2)</c> (with <c>, p1</c> when padded).</summary>
    public override string ToString() => Describe("MaxPool2d", KernelSize, Stride, Padding);

    // ---------------------------------------------------------------- shared with AvgPool2d

    internal static string Describe(string name, int kernel, int stride, int padding) =>
        $"{name}(k{kernel}, s{stride}{(padding == 0 ? "" : $", p{padding}")})";

    internal static void CheckArguments(string layer, int kernel, int? stride, int padding)
    {
        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2)
        {
            throw new ArgumentException(
                $"{layer}: kernel {kernel}, stride {stride?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}, padding {padding}; " +
                "expected kernel ≥ 1, stride ≥ 1 (or null for the kernel size) and 0 ≤ padding ≤ kernel/2.");
        }
    }

    // The layer, not its name: ToString() builds a string, which only an error message should pay for.
    internal static void CheckInput(Module layer, Tensor input, int kernel, int stride, int padding)
    {
        if (input.Rank != 4)
        {
            throw new ArgumentException($"{layer}: input {input.ShapeText}, expected (N, C, H, W).");
        }
        int outHeight = Window2d.OutputSize(input.Size(2), kernel, stride, padding, 1);
        int outWidth = Window2d.OutputSize(input.Size(3), kernel, stride, padding, 1);
        if (input.Size(2) < 1 || input.Size(3) < 1 || outHeight < 1 || outWidth < 1)
        {
            throw new ArgumentException(
                $"{layer}: input {input.ShapeText} is too small: the padded planes are {input.Size(2) + 2 * padding}×{input.Size(3) + 2 * padding}, " +
                $"smaller than one {kernel}×{kernel} window.");
        }
    }
}
