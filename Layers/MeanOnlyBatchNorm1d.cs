using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Mean-only batch normalization over (N, C) or (N, C, L) inputs (paper §4): <c>y = x − μ + b</c> per feature, μ over
/// N (and L). See <see cref="MeanOnlyBatchNormBase"/>.
/// </summary>
public sealed class MeanOnlyBatchNorm1d : MeanOnlyBatchNormBase
{
    /// <summary>A layer for <paramref name="numFeatures"/> features.</summary>
    /// <param name="numFeatures">C.</param>
    /// <param name="momentum">Running-mean momentum; the paper's 0.1.</param>
    /// <exception cref="ArgumentException">A non-positive size or a momentum outside [0, 1].</exception>
    public MeanOnlyBatchNorm1d(int numFeatures, float momentum = 0.1f)
        : base(numFeatures, momentum)
    {
    }

    /// <inheritdoc/>
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank is not (2 or 3) || input.Size(1) != NumFeatures)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (N, {NumFeatures}) or (N, {NumFeatures}, L).");
        }
    }
}
