using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>Dropout and GaussianNoise: identity in eval, the right statistics in training, deterministic per seed.</summary>
[TestFixture]
public sealed class StochasticLayerTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void DropoutIsTheIdentityInEval()
    {
        var dropout = new Dropout(0.5f);
        dropout.Eval();
        Tensor x = Tensor.RandomNormal(new RandomGenerator(81), [4, 5]);

        Assert.That(dropout.Forward(x), Is.SameAs(x));
    }

    [TestCase(0.2f)]
    [TestCase(0.5f)]
    [TestCase(0.9f)]
    public void DropoutKeepsAboutOneMinusPAndScalesSurvivors(float p)
    {
        // 100 003 ones (a SIMD tail): the kept count is Binomial(n, 1 − p), std √(n·p(1 − p)) ≤ 158; 5 std ≈ 800.
        const int Count = 100_003;
        var dropout = new Dropout(p, new RandomGenerator(82));
        Tensor x = Tensor.Ones(Count);

        float[] y = dropout.Forward(x).ToArray();

        int kept = y.Count(v => v != 0f);
        double std = Math.Sqrt(Count * p * (1 - p));
        Assert.That(kept, Is.EqualTo(Count * (1 - p)).Within(5 * std));
        Assert.That(y.Where(v => v != 0f).Distinct().ToArray(), Is.EqualTo(new[] { 1f / (1f - p) }));
        Assert.That(y.Average(), Is.EqualTo(1.0).Within(5 * std / Count / (1 - p)), "inverted dropout keeps the mean");
    }

    [Test]
    public void DropoutIsDeterministicForASeedAndDiffersBetweenCalls()
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(83), [8, 9]);

        var first = new Dropout(0.5f, new RandomGenerator(7));
        var second = new Dropout(0.5f, new RandomGenerator(7));
        float[] a = first.Forward(x).ToArray();
        float[] b = second.Forward(x).ToArray();
        float[] again = first.Forward(x).ToArray();
        Init.ManualSeed(11);
        float[] fromDefault1 = new Dropout(0.5f).Forward(x).ToArray();
        Init.ManualSeed(11);
        float[] fromDefault2 = new Dropout(0.5f).Forward(x).ToArray();

        Assert.That(b, Is.EqualTo(a));
        Assert.That(again, Is.Not.EqualTo(a), "a fresh mask per call");
        Assert.That(fromDefault2, Is.EqualTo(fromDefault1), "the default generator follows Init.ManualSeed");
    }

    [Test]
    public void DropoutGradientIsTheMask()
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(84), [6, 7]).RequireGrad();
        Tensor y = new Dropout(0.3f, new RandomGenerator(9)).Forward(x);
        Tensor dy = Tensor.RandomNormal(new RandomGenerator(85), [6, 7]);
        float[] mask = x.ToArray().Zip(y.ToArray(), (xi, yi) => yi / xi).ToArray();

        y.Backward(dy);

        double[] expected = dy.ToArray().Zip(mask, (g, m) => (double)g * m).ToArray();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(expected).Within(1e-5));
        GradCheckResult result = GradCheck.Check(t => new Dropout(0.3f, new RandomGenerator(9)).Forward(t[0]), [x.Copy()]);
        Assert.That(result.Passed, Is.True, result.ToString());
    }

    [Test]
    public void DropoutEdgeProbabilitiesAndBadP()
    {
        Tensor x = Tensor.Ones(10);
        Assert.That(new Dropout(0f).Forward(x), Is.SameAs(x));
        Assert.That(new Dropout(1f).Forward(x).ToArray(), Is.EqualTo(new float[10]));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Dropout(1.5f))!.Message, Is.EqualTo("Dropout(p=1.5): expected a probability in [0, 1]."));
        Assert.Throws<ArgumentException>(() => _ = new Dropout(float.NaN));
    }

    [Test]
    public void GaussianNoiseHasTheRequestedStdInTrainingAndIsTheIdentityInEval()
    {
        // 10⁵ draws: the sample std of N(0, σ²) has relative std 1/√(2n) ≈ 0.22%; 1.5% is ~7 of those.
        var noise = new GaussianNoise(0.15f, new RandomGenerator(86));
        Tensor x = Tensor.Full(2f, 100_000);

        float[] y = noise.Forward(x).ToArray();
        double mean = y.Average();
        double std = Math.Sqrt(y.Select(v => (v - mean) * (v - mean)).Average());
        noise.Eval();

        Assert.That(mean, Is.EqualTo(2.0).Within(5 * 0.15 / Math.Sqrt(100_000)));
        Assert.That(std, Is.EqualTo(0.15).Within(0.15 * 0.015));
        Assert.That(noise.Forward(x), Is.SameAs(x));
        Assert.Throws<ArgumentException>(() => _ = new GaussianNoise(-1f));
    }

    [Test]
    public void GaussianNoiseIsDeterministicForASeedAndPassesTheGradientThrough()
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(87), [3, 4]).RequireGrad();
        float[] a = new GaussianNoise(0.5f, new RandomGenerator(3)).Forward(x).ToArray();
        Tensor y = new GaussianNoise(0.5f, new RandomGenerator(3)).Forward(x);

        y.Backward(Tensor.Full(2f, 3, 4));

        Assert.That(y.ToArray(), Is.EqualTo(a));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Enumerable.Repeat(2f, 12)));
    }
}
