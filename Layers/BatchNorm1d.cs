using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Batch normalization over (N, C) or (N, C, L) inputs (<c>torch.nn.BatchNorm1d</c>): per feature C,
/// <c>y = (x − μ)/√(σ² + ε)·γ + β</c>, with μ, σ² over N (and L). See <see cref="BatchNormBase"/>.
/// </summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <summary>A layer for <paramref name="numFeatures"/> features, PyTorch's defaults.</summary>
    /// <param name="numFeatures">C.</param>
    /// <param name="eps">Added to the variance (1e-5).</param>
    /// <param name="momentum">Running-average momentum (0.1), or null for a cumulative average.</param>
    /// <param name="affine">Learn γ and β (true).</param>
    /// <exception cref="ArgumentException">A non-positive size or eps, or a momentum outside [0, 1].</exception>
    public BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true)
        : base(numFeatures, eps, momentum, affine)
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
