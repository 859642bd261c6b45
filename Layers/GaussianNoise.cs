using System.Globalization;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// Additive Gaussian noise in training, <c>y = x + ε</c> with <c>ε ~ N(0, std²)</c>; the identity in evaluation
/// (Lasagne's <c>GaussianNoiseLayer</c>). The paper's CIFAR-10 network puts it on the input with std = 0.15.
/// </summary>
/// <remarks>
/// The noise comes from the generator given to the constructor, or else <see cref="Init.DefaultGenerator"/> at each
/// call. The output is the engine's <c>add</c> op, so ∂x = ∂y; the noise lives in a tape-owned buffer. On an input
/// that requires no grad (the raw data, as in the paper's network) nothing is recorded, so, like any unrecorded op,
/// the noise and the output are fresh arrays: two input-sized allocations per call.
/// </remarks>
public sealed class GaussianNoise : Module
{
    private readonly RandomGenerator? _random;

    /// <summary>A noise layer with standard deviation <paramref name="std"/>.</summary>
    /// <param name="std">σ of the noise, ≥ 0 (the paper's input noise: 0.15).</param>
    /// <param name="random">The generator; null for <see cref="Init.DefaultGenerator"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="std"/> is negative, NaN or infinite.</exception>
    public GaussianNoise(float std, RandomGenerator? random = null)
    {
        if (!(std >= 0f) || float.IsInfinity(std))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"GaussianNoise(std={std}): expected a finite std ≥ 0."));
        }
        Std = std;
        _random = random;
    }

    /// <summary>σ of the noise.</summary>
    public float Std { get; }

    /// <summary>Training: <c>x + ε</c>, fresh ε per call. Evaluation, or σ = 0: the input itself. Any shape; differentiable.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (!IsTraining || Std == 0f)
        {
            return input;
        }
        Tape? tape = Tape.ForInputs(input);
        Tensor noise = Tensor.NewResult(tape, input.ShapeArray);    // the input's shape; tape-owned when recording
        (_random ?? Init.DefaultGenerator).FillNormal(noise.AsSpan(), 0f, Std);
        return input + noise;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"GaussianNoise(std={Std})");
}
