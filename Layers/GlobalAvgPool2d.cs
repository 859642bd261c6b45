using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Global average pooling: the mean of each (H, W) plane, (N, C, H, W) → (N, C) (PyTorch's
/// <c>nn.AdaptiveAvgPool2d(1)</c> followed by a flatten; the paper's CIFAR-10 network ends with it before the dense
/// layer). Differentiable (op <c>global_avg_pool2d</c>). No parameters.
/// </summary>
public sealed class GlobalAvgPool2d : Module
{
    /// <summary>(N, C, H, W) → (N, C); differentiable.</summary>
    /// <exception cref="ArgumentException">The input is not (N, C, H, W) with H, W ≥ 1; the message names the layer and the shape.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Size(2) < 1 || input.Size(3) < 1)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (N, C, H, W) with H ≥ 1 and W ≥ 1.");
        }
        return input.GlobalAvgPool2d();
    }

    /// <summary><c>GlobalAvgPool2d()</c>.</summary>
    public override string ToString() => "GlobalAvgPool2d()";
}
