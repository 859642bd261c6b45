using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// The activation modules, Identity and Flatten: forward values against double-precision references, a gradient
/// check of each as a layer, and Flatten's shapes and bad-axis message.
/// </summary>
[TestFixture]
public sealed class SimpleLayerTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    public static IEnumerable<TestCaseData> Activations()
    {
        yield return new TestCaseData(new ReLU(), (Func<double, double>)(x => Math.Max(x, 0))).SetArgDisplayNames("ReLU");
        yield return new TestCaseData(new LeakyReLU(0.1f), (Func<double, double>)(x => x > 0 ? x : 0.1f * x)).SetArgDisplayNames("LeakyReLU(0.1)");
        yield return new TestCaseData(new ELU(1.5f), (Func<double, double>)(x => x > 0 ? x : 1.5 * (Math.Exp(x) - 1))).SetArgDisplayNames("ELU(1.5)");
        yield return new TestCaseData(new Tanh(), (Func<double, double>)Math.Tanh).SetArgDisplayNames("Tanh");
        yield return new TestCaseData(new Sigmoid(), (Func<double, double>)(x => 1 / (1 + Math.Exp(-x)))).SetArgDisplayNames("Sigmoid");
        yield return new TestCaseData(new Softplus(2f, 3f), (Func<double, double>)(x => 2 * x > 3 ? x : Math.Log(1 + Math.Exp(2 * x)) / 2)).SetArgDisplayNames("Softplus(2, 3)");
        yield return new TestCaseData(new Identity(), (Func<double, double>)(x => x)).SetArgDisplayNames("Identity");
    }

    [TestCaseSource(nameof(Activations))]
    public void ActivationMatchesDoubleReference(Module layer, Func<double, double> reference)
    {
        // 37 elements (a SIMD tail at every width), spread over [−4, 4] to reach the saturating and threshold regions.
        Tensor x = Tensor.RandomUniform(new RandomGenerator(31), [37], -4f, 4f);

        float[] y = layer.Forward(x).ToArray();

        double[] expected = x.ToArray().Select(v => reference(v)).ToArray();
        // Outputs are O(1..4); the float ops round at ~1e-7 relative (exp/log a few ulps): 2e-6 absolute is a margin.
        Assert.That(y, Is.EqualTo(expected).Within(2e-6));
    }

    [TestCaseSource(nameof(Activations))]
    public void ActivationLayerPassesGradientCheck(Module layer, Func<double, double> reference)
    {
        _ = reference;
        // Away from the kinks at 0 (ReLU, LeakyReLU, ELU) and from Softplus's threshold at x = 1.5.
        Tensor x = Tensor.RandomNormal(new RandomGenerator(32), [4, 9]);
        Span<float> values = x.AsSpan();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] += values[i] >= 0 ? 0.1f : -0.1f;
            if (Math.Abs(values[i] - 1.5f) < 0.1f)
            {
                values[i] += 0.3f;
            }
        }

        GradCheckResult result = GradCheck.Check(t => layer.Forward(t[0]) * 1f, [x]);

        Assert.That(result.Passed, Is.True, result.ToString());
    }

    [Test]
    public void LayerDescriptions()
    {
        Assert.That(new LeakyReLU(0.1f).ToString(), Is.EqualTo("LeakyReLU(0.1)"));
        Assert.That(new ELU().ToString(), Is.EqualTo("ELU(alpha=1)"));
        Assert.That(new Softplus().ToString(), Is.EqualTo("Softplus(beta=1, threshold=20)"));
        Assert.That(new Flatten().ToString(), Is.EqualTo("Flatten(1, -1)"));
        Assert.Throws<ArgumentException>(() => _ = new LeakyReLU(float.NaN));
        Assert.Throws<ArgumentException>(() => _ = new Softplus(0f));
    }

    [Test]
    public void FlattenMergesFromAxisOneByDefaultAndKeepsOrder()
    {
        Tensor x = Tensor.Arange(2 * 3 * 4 * 5).Reshape(2, 3, 4, 5);

        Tensor all = new Flatten().Forward(x);
        Tensor middle = new Flatten(1, 2).Forward(x);
        Tensor everything = new Flatten(0).Forward(x);

        Assert.That(all.Shape.ToArray(), Is.EqualTo(new[] { 2, 60 }));
        Assert.That(middle.Shape.ToArray(), Is.EqualTo(new[] { 2, 12, 5 }));
        Assert.That(everything.Shape.ToArray(), Is.EqualTo(new[] { 120 }));
        Assert.That(all.ToArray(), Is.EqualTo(x.ToArray()), "row-major order is kept");
        Assert.That(new Flatten().Forward(Tensor.Zeros(7, 3)).Shape.ToArray(), Is.EqualTo(new[] { 7, 3 }));
    }

    [Test]
    public void FlattenOfATransposedInputIsTheFlattenedCopyAndDifferentiable()
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(33), [3, 4, 2]);

        float[] flat = new Flatten().Forward(x.Transpose(1, 2)).ToArray();
        float[] expected = x.Transpose(1, 2).Contiguous().ToArray();
        GradCheckResult result = GradCheck.Check(t => new Flatten().Forward(t[0].Transpose(1, 2)).Tanh(), [x]);

        Assert.That(flat, Is.EqualTo(expected));
        Assert.That(result.Passed, Is.True, result.ToString());
    }

    [Test]
    public void FlattenRejectsAxesOutOfRangeNamingTheLayerAndShape()
    {
        var error = Assert.Throws<ArgumentException>(() => new Flatten(1).Forward(Tensor.Zeros(5)));
        Assert.That(error!.Message, Does.StartWith("Flatten(1, -1): input (5) has rank 1"));
        Assert.Throws<ArgumentException>(() => new Flatten(2, 1).Forward(Tensor.Zeros(2, 3, 4)));
    }
}
