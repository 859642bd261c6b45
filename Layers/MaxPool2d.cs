using NeuralCore.Engine;

namespace NeuralCore.Layers;

// STAND-IN (wt-run): replaced by the colleague's MaxPool2d; only the public constructor is the agreed API.

/// <summary>STAND-IN: 2-D max pooling over (N, C, H, W) (<see cref="Tensor.MaxPool2d(int, int?, int)"/>).</summary>
public sealed class MaxPool2d : Module
{
    private readonly int _kernelSize;
    private readonly int? _stride;
    private readonly int _padding;

    /// <summary>Max pooling with a square window; the stride defaults to the window size.</summary>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        _kernelSize = kernelSize;
        _stride = stride;
        _padding = padding;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.MaxPool2d(_kernelSize, _stride, _padding);
}
