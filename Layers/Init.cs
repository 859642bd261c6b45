using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// Weight initializers with PyTorch's formulas (<c>torch.nn.init</c>), all drawing from a
/// <see cref="RandomGenerator"/> so that one seed fixes a model. Each fills a tensor in place and returns it.
/// </summary>
/// <remarks>
/// Fans follow PyTorch: for a weight of shape (out, in, k₁, k₂, …), <c>fan_in = in·k₁·k₂…</c> and
/// <c>fan_out = out·k₁·k₂…</c>. Gains: 1 for linear/sigmoid, √2 for ReLU, √(2/(1 + a²)) for leaky ReLU with
/// slope a. Layers built without an explicit generator draw from <see cref="DefaultGenerator"/>, which
/// <see cref="ManualSeed"/> resets (PyTorch's <c>torch.manual_seed</c>).
/// </remarks>
public static class Init
{
    [ThreadStatic]
    private static RandomGenerator? s_default;

    /// <summary>The generator layers use when none is given; per thread, seeded with 0 until <see cref="ManualSeed"/>.</summary>
    public static RandomGenerator DefaultGenerator => s_default ??= new RandomGenerator(0);

    /// <summary>Restarts <see cref="DefaultGenerator"/> from <paramref name="seed"/>.</summary>
    public static void ManualSeed(ulong seed) => s_default = new RandomGenerator(seed);

    /// <summary>(fan_in, fan_out) of a weight of shape (out, in, kernel…).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    public static (int FanIn, int FanOut) Fans(Tensor weight)
    {
        if (weight.Rank < 2)
        {
            throw new ArgumentException($"Init: fan in and fan out need a weight of rank ≥ 2, got shape {weight.ShapeText}.");
        }
        int receptive = 1;
        for (int axis = 2; axis < weight.Rank; axis++)
        {
            receptive *= weight.Size(axis);
        }
        return (weight.Size(1) * receptive, weight.Size(0) * receptive);
    }

    /// <summary>The gain PyTorch's <c>calculate_gain</c> gives: "linear", "sigmoid", "tanh", "relu", "leaky_relu".</summary>
    /// <exception cref="ArgumentException">An unknown nonlinearity.</exception>
    public static float Gain(string nonlinearity, float negativeSlope = 0.01f) => nonlinearity switch
    {
        "linear" or "sigmoid" or "conv2d" => 1f,
        "tanh" => 5f / 3f,
        "relu" => MathF.Sqrt(2f),
        "leaky_relu" => MathF.Sqrt(2f / (1f + negativeSlope * negativeSlope)),
        _ => throw new ArgumentException($"Init.Gain: unknown nonlinearity '{nonlinearity}'; expected linear, sigmoid, tanh, relu or leaky_relu."),
    };

    /// <summary>Uniform draws from [low, high).</summary>
    public static Tensor Uniform(Tensor tensor, float low, float high, RandomGenerator? random = null) =>
        Fill(tensor, values => (random ?? DefaultGenerator).FillUniform(values, low, high));

    /// <summary>Normal draws with the given mean and standard deviation.</summary>
    public static Tensor Normal(Tensor tensor, float mean, float std, RandomGenerator? random = null) =>
        Fill(tensor, values => (random ?? DefaultGenerator).FillNormal(values, mean, std));

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor tensor, float value) => Fill(tensor, values => values.Fill(value));

    /// <summary>Xavier/Glorot uniform: U(−b, b), b = gain·√(6/(fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, float gain = 1f, RandomGenerator? random = null)
    {
        (int fanIn, int fanOut) = Fans(tensor);
        float bound = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>Xavier/Glorot normal: N(0, σ²), σ = gain·√(2/(fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, float gain = 1f, RandomGenerator? random = null)
    {
        (int fanIn, int fanOut) = Fans(tensor);
        return Normal(tensor, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)), random);
    }

    /// <summary>
    /// Kaiming/He uniform: U(−b, b), b = gain·√(3/fan), gain from <paramref name="nonlinearity"/> and slope
    /// <paramref name="a"/>. PyTorch's default Linear/Conv init is this with a = √5 on fan_in, i.e. b = 1/√fan_in.
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, float a = 0f, bool fanIn = true, string nonlinearity = "leaky_relu", RandomGenerator? random = null)
    {
        (int inFan, int outFan) = Fans(tensor);
        float bound = Gain(nonlinearity, a) * MathF.Sqrt(3f / (fanIn ? inFan : outFan));
        return Uniform(tensor, -bound, bound, random);
    }

    /// <summary>Kaiming/He normal: N(0, σ²), σ = gain/√fan.</summary>
    public static Tensor KaimingNormal(Tensor tensor, float a = 0f, bool fanIn = true, string nonlinearity = "leaky_relu", RandomGenerator? random = null)
    {
        (int inFan, int outFan) = Fans(tensor);
        return Normal(tensor, 0f, Gain(nonlinearity, a) / MathF.Sqrt(fanIn ? inFan : outFan), random);
    }

    private static Tensor Fill(Tensor tensor, SpanAction fill)
    {
        // Initialization is not part of any graph: write the values directly.
        using (Tape.NoGrad())
        {
            fill(tensor.AsSpan());
        }
        return tensor;
    }

    private delegate void SpanAction(Span<float> values);
}
