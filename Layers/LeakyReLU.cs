using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>x</c> where x > 0, <c>slope·x</c> elsewhere (<c>torch.nn.LeakyReLU</c>; the paper's CIFAR-10 network uses slope 0.1).</summary>
public sealed class LeakyReLU : Module
{
    /// <summary>A leaky ReLU with the given slope for x ≤ 0 (PyTorch: 0.01).</summary>
    /// <exception cref="ArgumentException">The slope is NaN or infinite.</exception>
    public LeakyReLU(float negativeSlope = 0.01f)
    {
        if (!float.IsFinite(negativeSlope))
        {
            throw new ArgumentException($"LeakyReLU: negativeSlope {negativeSlope}; expected a finite number.");
        }
        NegativeSlope = negativeSlope;
    }

    /// <summary>The slope for x ≤ 0.</summary>
    public float NegativeSlope { get; }

    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.LeakyRelu(NegativeSlope);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU({NegativeSlope})");
}
