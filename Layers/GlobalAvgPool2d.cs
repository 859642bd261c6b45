using NeuralCore.Engine;

namespace NeuralCore.Layers;

// STAND-IN (wt-run): replaced by the colleague's GlobalAvgPool2d; only the public constructor is the agreed API.

/// <summary>STAND-IN: the mean of each (H, W) plane, (N, C, H, W) → (N, C) (<see cref="Tensor.GlobalAvgPool2d"/>).</summary>
public sealed class GlobalAvgPool2d : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.GlobalAvgPool2d();
}
