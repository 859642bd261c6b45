using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Softmax cross-entropy from logits, averaged over the batch (<c>torch.nn.CrossEntropyLoss</c> with mean reduction).
/// A loss takes the labels as a second argument, so it is not a <see cref="Module"/> (whose Forward takes one
/// tensor): call <see cref="Compute"/>. The computation is <see cref="Losses.CrossEntropy"/>, one fused tape op.
/// </summary>
/// <example><code>Tensor loss = new CrossEntropyLoss().Compute(model.Forward(x), labels); loss.Backward();</code></example>
public sealed class CrossEntropyLoss
{
    /// <summary>
    /// <c>mean over rows n of −log softmax(logits[n])[labels[n]]</c>. Differentiable in <paramref name="logits"/>.
    /// </summary>
    /// <param name="logits">(N, C) unnormalized class scores.</param>
    /// <param name="labels">N class indices in [0, C).</param>
    /// <returns>The mean loss, shape ().</returns>
    /// <exception cref="ArgumentException">The logits are not (N, C), the label count differs from N, or a label is out of range.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static",
        Justification = "An instance, as torch.nn's loss objects, so a training loop can hold and swap its loss.")]
    public Tensor Compute(Tensor logits, ReadOnlySpan<int> labels) => Losses.CrossEntropy(logits, labels);

    /// <inheritdoc/>
    public override string ToString() => "CrossEntropyLoss()";
}
