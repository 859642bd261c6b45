using NeuralCore.Engine;

namespace NeuralCore.Tests.Autodiff;

/// <summary>One gradient check: a function of some tensors, and a recipe for the inputs at which to check it.</summary>
/// <param name="Name">Shown in the test list, e.g. <c>mul broadcast (3,1)*(4)</c>.</param>
/// <param name="Function">The computation; it may capture non-differentiable arguments (labels, indices).</param>
/// <param name="MakeInputs">Fresh leaf inputs on every call (seeded, never all zeros, away from kinks).</param>
/// <param name="Tolerance">The relative tolerance; the default is <see cref="NeuralCore.Engine.Autodiff.GradCheck.DefaultTolerance"/>.</param>
public sealed record GradientCase(string Name, Func<Tensor[], Tensor> Function, Func<Tensor[]> MakeInputs, double Tolerance = NeuralCore.Engine.Autodiff.GradCheck.DefaultTolerance)
{
    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Seeded normal values of the given shape.</summary>
    public static Tensor Normal(ulong seed, params int[] shape) => Tensor.RandomNormal(new RandomGenerator(seed), shape);

    /// <summary>Seeded uniform values in [low, high).</summary>
    public static Tensor Uniform(ulong seed, float low, float high, params int[] shape) =>
        Tensor.RandomUniform(new RandomGenerator(seed), shape, low, high);

    /// <summary>
    /// Seeded normal values pushed at least <paramref name="margin"/> away from zero, for ops with a kink at 0
    /// (relu, abs, leaky relu, elu) so that x ± h stays on one side.
    /// </summary>
    public static Tensor AwayFromZero(ulong seed, float margin, params int[] shape)
    {
        Tensor t = Normal(seed, shape);
        Span<float> values = t.AsSpan();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] += values[i] >= 0 ? margin : -margin;
        }
        return t;
    }

    /// <summary>
    /// A seeded shuffle of evenly spaced values 0.1 apart: no ties, and no two values within 2h of each other, so a
    /// finite difference for max or max-pooling never changes which element wins.
    /// </summary>
    public static Tensor Distinct(ulong seed, params int[] shape)
    {
        Tensor t = Tensor.Zeros(shape);
        Span<float> values = t.AsSpan();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = 0.1f * (i - values.Length / 2);
        }
        new RandomGenerator(seed).Shuffle(values);
        return t;
    }
}
