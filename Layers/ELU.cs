using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>x</c> where x > 0, <c>α·(eˣ − 1)</c> elsewhere (<c>torch.nn.ELU</c>).</summary>
public sealed class ELU : Module
{
    /// <summary>An ELU saturating at −<paramref name="alpha"/> (PyTorch: 1).</summary>
    /// <exception cref="ArgumentException">Alpha is NaN or infinite.</exception>
    public ELU(float alpha = 1f)
    {
        if (!float.IsFinite(alpha))
        {
            throw new ArgumentException($"ELU: alpha {alpha}; expected a finite number.");
        }
        Alpha = alpha;
    }

    /// <summary>α.</summary>
    public float Alpha { get; }

    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.Elu(Alpha);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ELU(alpha={Alpha})");
}
