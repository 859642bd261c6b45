using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary><c>(1/β)·log(1 + e^(βx))</c>, linear where βx > threshold (<c>torch.nn.Softplus</c>).</summary>
public sealed class Softplus : Module
{
    /// <summary>A softplus with PyTorch's defaults β = 1, threshold = 20.</summary>
    /// <exception cref="ArgumentException">β is not a positive finite number, or the threshold is NaN.</exception>
    public Softplus(float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0f) || !float.IsFinite(beta) || float.IsNaN(threshold))
        {
            throw new ArgumentException($"Softplus: beta {beta}, threshold {threshold}; expected a finite beta > 0 and a threshold.");
        }
        Beta = beta;
        Threshold = threshold;
    }

    /// <summary>β, the sharpness.</summary>
    public float Beta { get; }

    /// <summary>Above βx > threshold the output is x (avoids overflow).</summary>
    public float Threshold { get; }

    /// <summary>Elementwise, any shape; differentiable (the Tensor op of the same name, see Derivatives).</summary>
    public override Tensor Forward(Tensor input) => input.Softplus(Beta, Threshold);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Softplus(beta={Beta}, threshold={Threshold})");
}
