using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>Returns its input unchanged (<c>torch.nn.Identity</c>): a placeholder, e.g. where an optional layer is off.</summary>
public sealed class Identity : Module
{
    /// <summary>The input itself (no copy, nothing recorded).</summary>
    public override Tensor Forward(Tensor input) => input;

    /// <inheritdoc/>
    public override string ToString() => "Identity()";
}
