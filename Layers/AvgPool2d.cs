using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// 2-D average pooling (<c>torch.nn.AvgPool2d</c> with its defaults): the mean of every kernel×kernel window of each
/// (H, W) plane, (N, C, H, W) → (N, C, Ho, Wo) with <c>Ho = ⌊(H + 2·padding − kernel)/stride⌋ + 1</c>. Padding counts
/// as zeros and the divisor is always kernel² (<c>count_include_pad=True</c>). Differentiable (op <c>avg_pool2d</c>).
/// No parameters.
/// </summary>
public sealed class AvgPool2d : Module
{
    /// <summary>An average-pooling layer.</summary>
    /// <param name="kernelSize">Window height and width, ≥ 1.</param>
    /// <param name="stride">Step between windows, ≥ 1; null (the default) means <paramref name="kernelSize"/>, as in PyTorch.</param>
    /// <param name="padding">Zeros added on every side, 0 ≤ padding ≤ kernelSize/2 (PyTorch's limit).</param>
    /// <exception cref="ArgumentException">An argument is out of range.</exception>
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        MaxPool2d.CheckArguments(ToString(), kernelSize, stride, padding);
    }

    /// <summary>The window's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows (the kernel size unless given).</summary>
    public int Stride { get; }

    /// <summary>Zeros added on every side (counted in the divisor).</summary>
    public int Padding { get; }

    /// <summary>(N, C, H, W) → (N, C, Ho, Wo); differentiable.</summary>
    /// <exception cref="ArgumentException">The input is not (N, C, H, W), or too small for one window; the message names the layer and the shape.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        MaxPool2d.CheckInput(this, input, KernelSize, Stride, Padding);
        return input.AvgPool2d(KernelSize, Stride, Padding);
    }

    /// <summary>E.g. <c>AvgPool2d(k2, s2)</c> (with <c>, p1</c> when padded).</summary>
    public override string ToString() => MaxPool2d.Describe("AvgPool2d", KernelSize, Stride, Padding);
}
