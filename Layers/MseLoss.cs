using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Mean squared error, <c>mean((prediction − target)²)</c> over every element (<c>torch.nn.MSELoss</c> with mean
/// reduction). Not a <see cref="Module"/> (it takes two tensors): call <see cref="Compute"/>. The computation is
/// <see cref="Losses.MeanSquaredError"/>, one fused tape op; shapes must match exactly (no broadcasting).
/// </summary>
public sealed class MseLoss
{
    /// <summary>The mean squared error. Differentiable in both arguments.</summary>
    /// <param name="prediction">Any shape.</param>
    /// <param name="target">The same shape.</param>
    /// <returns>The mean loss, shape ().</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static",
        Justification = "An instance, as torch.nn's loss objects, so a training loop can hold and swap its loss.")]
    public Tensor Compute(Tensor prediction, Tensor target) => Losses.MeanSquaredError(prediction, target);

    /// <inheritdoc/>
    public override string ToString() => "MseLoss()";
}
