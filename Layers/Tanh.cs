using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>tanh x</c> (<c>torch.nn.Tanh</c>).</summary>
public sealed class Tanh : Module
{
    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.Tanh();

    /// <inheritdoc/>
    public override string ToString() => "Tanh()";
}
