using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Conv2d sweep: Conv2d(C→C, 3×3, padding 1) on a (batch, C, 28, 28) input (the small CNN's second layer at C = 32),
/// every variant of <see cref="LayerSweep"/>, BatchNorm2d and MeanOnlyBatchNorm2d for the normalized ones.
/// Multiply-adds per forward: batch·28·28·C²·9; backward does twice that (∂x and ∂W). Weight norm's extra passes are
/// over the C·C·9 weights, batch norm's over the batch·C·784 activations, so here batch norm's share is far larger
/// than in the Linear sweep at the same batch.
/// </summary>
public abstract class LayerSweepConv2d : LayerSweep
{
    /// <summary>The image's height and width.</summary>
    public const int ImageSize = 28;

    /// <summary>Images in the batch.</summary>
    [Params(1, 32, 100)]
    public int Batch { get; set; } = 32;

    /// <summary>Input and output channels.</summary>
    [Params(16, 32, 64)]
    public int Channels { get; set; } = 32;

    /// <inheritdoc/>
    protected override int[] InputShape() => [Batch, Channels, ImageSize, ImageSize];

    /// <inheritdoc/>
    protected override Sequential Build(string variant, RandomGenerator random)
    {
        bool normalized = variant is "bn" or "wn-mobn";
        var conv = new Conv2d(Channels, Channels, 3, padding: 1, bias: !normalized, random: random);
        var layer = new Sequential(conv);
        switch (variant)
        {
            case "wn" or "wn-mobn":
                conv.WithWeightNorm(mode: WeightNormMode.Fused);
                break;
            case "wn-unfused":
                conv.WithWeightNorm(mode: WeightNormMode.Unfused);
                break;
        }
        if (variant == "bn")
        {
            layer.Add(new BatchNorm2d(Channels));
        }
        else if (variant == "wn-mobn")
        {
            layer.Add(new MeanOnlyBatchNorm2d(Channels));
        }
        return layer;
    }
}
