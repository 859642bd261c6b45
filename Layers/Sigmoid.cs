using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>1/(1 + e⁻ˣ)</c> (<c>torch.nn.Sigmoid</c>).</summary>
public sealed class Sigmoid : Module
{
    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.Sigmoid();

    /// <inheritdoc/>
    public override string ToString() => "Sigmoid()";
}
