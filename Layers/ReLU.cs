using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>max(x, 0)</c> (<c>torch.nn.ReLU</c>).</summary>
public sealed class ReLU : Module
{
    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.Relu();

    /// <inheritdoc/>
    public override string ToString() => "ReLU()";
}
