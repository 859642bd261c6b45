using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Mean-only batch normalization over (N, C, H, W) inputs (paper §4, as in its CIFAR-10 network): <c>y = x − μ + b</c>
/// per channel, μ over N, H and W. See <see cref="MeanOnlyBatchNormBase"/>.
/// </summary>
public sealed class MeanOnlyBatchNorm2d : MeanOnlyBatchNormBase
{
    /// <summary>A layer for <paramref name="numFeatures"/> channels.</summary>
    /// <param name="numFeatures">C.</param>
    /// <param name="momentum">Running-mean momentum; the paper's 0.1.</param>
    /// <exception cref="ArgumentException">A non-positive size or a momentum outside [0, 1].</exception>
    public MeanOnlyBatchNorm2d(int numFeatures, float momentum = 0.1f)
        : base(numFeatures, momentum)
    {
    }

    /// <inheritdoc/>
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != NumFeatures)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (N, {NumFeatures}, H, W).");
        }
    }
}
