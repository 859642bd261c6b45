using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Linear sweep: Linear(width→width) on a (batch, width) input, every variant of <see cref="LayerSweep"/>.
/// Multiply-adds per forward: batch·width²; backward does twice that (∂x and ∂W). Weight norm adds O(width²) passes
/// over V per step, batch norm O(batch·width) passes over the activations: the sweep shows where the two cross.
/// </summary>
/// <remarks>
/// <c>bn</c> at batch 1 is left out (<see cref="LayerSweepConfig"/>): BatchNorm1d in training mode needs more than one
/// value per feature, as PyTorch's does.
/// </remarks>
public abstract class LayerSweepLinear : LayerSweep
{
    /// <summary>Rows of the input.</summary>
    [Params(1, 32, 100, 256)]
    public int Batch { get; set; } = 100;

    /// <summary>Input and output features.</summary>
    [Params(256, 1000, 4096)]
    public int Width { get; set; } = 1000;

    /// <inheritdoc/>
    protected override int[] InputShape() => [Batch, Width];

    /// <inheritdoc/>
    protected override Sequential Build(string variant, RandomGenerator random)
    {
        bool normalized = variant is "bn" or "wn-mobn";
        var linear = new Linear(Width, Width, bias: !normalized, random: random);
        var layer = new Sequential(linear);
        switch (variant)
        {
            case "wn" or "wn-mobn":
                linear.WithWeightNorm(mode: WeightNormMode.Fused);
                break;
            case "wn-unfused":
                linear.WithWeightNorm(mode: WeightNormMode.Unfused);
                break;
        }
        if (variant == "bn")
        {
            layer.Add(new BatchNorm1d(Width));
        }
        else if (variant == "wn-mobn")
        {
            layer.Add(new MeanOnlyBatchNorm1d(Width));
        }
        return layer;
    }
}
