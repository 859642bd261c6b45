using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// Weight normalization on <see cref="Linear"/>: the parameterization, fused against unfused and against independent
/// double-precision formulas, the paper's invariances, the zero-row safety, folding, diagnostics and bad input.
/// </summary>
[TestFixture]
public sealed class WeightNormTests
{
    private const int Rows = 16, In = 40, Out = 24;

    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void EnablingSplitsWeightIntoGAndVWithoutChangingTheOutput()
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(1));
        Tensor x = Input(2);
        float[] before = layer.Forward(x).ToArray();
        float[] weight = layer.Weight.ToArray();

        Linear same = layer.WithWeightNorm();

        Assert.That(same, Is.SameAs(layer));
        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "bias", "weight_g", "weight_v" }));
        Assert.That(layer.WeightG!.Shape.ToArray(), Is.EqualTo(new[] { Out, 1 }), "PyTorch's shape for dim 0");
        Assert.That(layer.WeightV!.ToArray(), Is.EqualTo(weight));
        Assert.That(layer.WeightG.ToArray(), Is.EqualTo(layer.VNorms.ToArray()), "g = ‖v‖");
        Assert.That(layer.UsesFusedWeightNorm, Is.True);
        // y = (x·v)·g/‖v‖ + b with g = ‖v‖: the same values, rounded differently (one multiply by g/‖v‖ ≈ 1).
        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-6));
    }

    [TestCase(null, new int[0], true)]
    [TestCase(1, new[] { 1, In }, false)]
    [TestCase(-1, new[] { 1, In }, false)]
    [TestCase(-2, new[] { Out, 1 }, true)]
    public void DimChoosesTheSlicesAndTheShapeOfG(int? dim, int[] gShape, bool fused)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(1));
        Tensor x = Input(2);
        float[] before = layer.Forward(x).ToArray();

        layer.WithWeightNorm(dim);

        Assert.That(layer.WeightG!.Shape.ToArray(), Is.EqualTo(gShape));
        Assert.That(layer.UsesFusedWeightNorm, Is.EqualTo(fused));
        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-6));
    }

    [Test]
    public void ApplyingTwiceOrAnOutOfRangeDimThrowsAndChangesNothing()
    {
        var layer = new Linear(5, 3, random: new RandomGenerator(1));

        var range = Assert.Throws<ArgumentException>(() => layer.WithWeightNorm(2));
        Assert.That(range!.Message, Does.Contain("Linear(5→3)").And.Contain("dim 2").And.Contain("(3, 5)"));
        Assert.Throws<ArgumentException>(() => layer.WithWeightNorm(-3));
        Assert.That(layer.IsWeightNormalized, Is.False);

        layer.WithWeightNorm();
        var twice = Assert.Throws<InvalidOperationException>(() => layer.WithWeightNorm());
        Assert.That(twice!.Message, Does.Contain("Linear(5→3)").And.Contain("already"));
        Assert.Throws<InvalidOperationException>(() => WeightNorm.Apply(layer));
        Assert.That(layer.NamedParameters().Count(), Is.EqualTo(3));
    }

    [Test]
    public void NormalizedOnlyMembersThrowOnAPlainLayer()
    {
        var layer = new Linear(5, 3, random: new RandomGenerator(1));

        Assert.Throws<InvalidOperationException>(() => layer.RemoveWeightNorm());
        Assert.Throws<InvalidOperationException>(() => _ = layer.VNorms);
        Assert.Throws<InvalidOperationException>(() => _ = layer.EffectiveScale);
        Assert.Throws<InvalidOperationException>(() => layer.WeightNormMode = WeightNormMode.Unfused);
    }

    // The figure: fused and unfused agree to 1e-5 relative (to each quantity's largest entry) in the output
    // and every gradient. Both compute the same float32 expressions in a different order (the norm summed by
    // TensorPrimitives vs the sum op; s applied after vs before the GEMM), so they differ by a few float roundings of
    // a 40-term dot product: ~1e-7 relative, two orders of magnitude inside the bound.
    [TestCase(0)]
    [TestCase(null)]
    public void FusedMatchesUnfusedInOutputAndAllGradients(int? dim)
    {
        (float[] Y, float[][] Grads) fused = RunStep(WeightNormMode.Fused, dim);
        (float[] Y, float[][] Grads) unfused = RunStep(WeightNormMode.Unfused, dim);

        Assert.That(LinearReference.RelativeError(fused.Y, unfused.Y), Is.LessThan(1e-5), "y");
        string[] names = ["x", "bias", "weight_g", "weight_v"];
        for (int i = 0; i < names.Length; i++)
        {
            double error = LinearReference.RelativeError(fused.Grads[i], unfused.Grads[i]);
            TestContext.Out.WriteLine($"dim {WeightNormDescribe(dim)}: ∂{names[i]} relative difference {error:E2}");
            Assert.That(error, Is.LessThan(1e-5), "∂" + names[i]);
        }
    }

    // Independent of both paths: the projection form of DESIGN.md in double precision, from the same parameters.
    // G = δᵀx, ∂g_j = G_j·v_j/‖v_j‖, ∂v_j = s_j·G_j − s_j·∂g_j·v_j/‖v_j‖, ∂x = δ·W, ∂b = Σₙ δ.
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void GradientsMatchTheDoublePrecisionFormulas(WeightNormMode mode)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(31)).WithWeightNorm(mode: mode);
        Randomize(layer, 32);
        Tensor x = Input(33).RequireGrad();
        Tensor delta = Tensor.RandomNormal(new RandomGenerator(34), [Rows, Out]);

        Tensor y = layer.Forward(x);
        y.Backward(delta);

        double[] v = LinearReference.ToDouble(layer.WeightV!.ToArray()), g = LinearReference.ToDouble(layer.WeightG!.ToArray());
        double[] xs = LinearReference.ToDouble(x.ToArray()), d = LinearReference.ToDouble(delta.ToArray());
        double[] norm = new double[Out], w = new double[Out * In], dg = new double[Out], dv = new double[Out * In];
        double[] bigG = LinearReference.MatMul(d, xs, Out, Rows, In, true, false);
        for (int j = 0; j < Out; j++)
        {
            norm[j] = Math.Sqrt(Enumerable.Range(0, In).Sum(i => v[j * In + i] * v[j * In + i]));
            double s = g[j] / norm[j];
            dg[j] = Enumerable.Range(0, In).Sum(i => bigG[j * In + i] * v[j * In + i]) / norm[j];
            for (int i = 0; i < In; i++)
            {
                w[j * In + i] = s * v[j * In + i];
                dv[j * In + i] = s * bigG[j * In + i] - s * dg[j] * v[j * In + i] / norm[j];
            }
        }
        double[] expectedY = LinearReference.MatMul(xs, w, Rows, In, Out, false, true);
        double[] b = LinearReference.ToDouble(layer.Bias!.ToArray());
        for (int k = 0; k < expectedY.Length; k++)
        {
            expectedY[k] += b[k % Out];
        }

        Assert.That(LinearReference.RelativeError(y.ToArray(), expectedY), Is.LessThan(1e-6), "y");
        Assert.That(LinearReference.RelativeError(x.Grad!.ToArray(), LinearReference.MatMul(d, w, Rows, Out, In, false, false)), Is.LessThan(1e-6), "∂x");
        Assert.That(LinearReference.RelativeError(layer.Bias.Grad!.ToArray(), LinearReference.ColumnSums(d, Rows, Out)), Is.LessThan(1e-6), "∂b");
        Assert.That(LinearReference.RelativeError(layer.WeightG.Grad!.ToArray(), dg), Is.LessThan(1e-6), "∂g");
        Assert.That(LinearReference.RelativeError(layer.WeightV.Grad!.ToArray(), dv), Is.LessThan(1e-5), "∂v");
    }

    [TestCase(WeightNormMode.Fused, 0)]
    [TestCase(WeightNormMode.Unfused, 0)]
    [TestCase(WeightNormMode.Fused, null)]
    [TestCase(WeightNormMode.Unfused, 1)]
    public void LayerGradientsMatchFiniteDifferences(WeightNormMode mode, int? dim)
    {
        var layer = new Linear(6, 5, random: new RandomGenerator(41)).WithWeightNorm(dim, mode);
        Randomize(layer, 42);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(43), [2, 3, 6]);

        GradCheckResult result = GradCheck.Check(_ => layer.Forward(x), [x, layer.WeightV!, layer.WeightG!, layer.Bias!]);

        Assert.That(result.Passed, Is.True, result.ToString());
    }

    // ‖v‖ = √(Σv² + ε): a zero row gives w = 0 (so y = b for that unit) and finite gradients, where PyTorch gives NaN.
    [TestCase(WeightNormMode.Fused, 0)]
    [TestCase(WeightNormMode.Unfused, 0)]
    [TestCase(WeightNormMode.Fused, null)]
    public void ZeroRowOfVGivesNoNaNOrInfinity(WeightNormMode mode, int? dim)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(51)).WithWeightNorm(dim, mode);
        layer.WeightV!.AsSpan()[..In].Clear();
        if (dim is null)
        {
            layer.WeightV.AsSpan().Clear(); // the whole tensor is the one slice
        }
        Tensor x = Input(52).RequireGrad();

        Tensor y = layer.Forward(x);
        y.Backward(Tensor.RandomNormal(new RandomGenerator(53), [Rows, Out]));

        Assert.That(y.ToArray().All(float.IsFinite), Is.True, "y");
        Assert.That(y[0, 0], Is.EqualTo(layer.Bias![0]), "w row 0 is zero, so y = b");
        foreach (Tensor t in new[] { x, layer.Bias, layer.WeightG!, layer.WeightV })
        {
            Assert.That(t.Grad!.ToArray().All(float.IsFinite), Is.True, $"gradient of {t.ShapeText}");
        }
        Assert.That(layer.VNorms.ToArray().All(n => n > 0 && float.IsFinite(n)), Is.True);
    }

    [TestCase(WeightNormMode.Fused, 0)]
    [TestCase(WeightNormMode.Unfused, 0)]
    [TestCase(WeightNormMode.Fused, null)]
    public void RemoveWeightNormFoldsToAPlainWeightWithTheSameOutputs(WeightNormMode mode, int? dim)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(61)).WithWeightNorm(dim, mode);
        Randomize(layer, 62);
        Tensor x = Input(63);
        float[] before = layer.Forward(x).ToArray();

        layer.RemoveWeightNorm();

        Assert.That(layer.IsWeightNormalized, Is.False);
        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EquivalentTo(new[] { "weight", "bias" }));
        Assert.That(layer.Weight.RequiresGrad, Is.True);
        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-5));
    }

    [Test]
    public void ApplyAndRemoveCoverEveryLinearOfAModel()
    {
        var model = new LinearReluStack(new Linear(8, 6, random: new RandomGenerator(1)), new Linear(6, 4, random: new RandomGenerator(2)));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(3), [5, 8]);
        float[] before = model.Forward(x).ToArray();

        Assert.That(WeightNorm.Apply(model, mode: WeightNormMode.Unfused), Is.EqualTo(2));

        Assert.That(model.NamedParameters().Select(p => p.Key),
            Is.EqualTo(new[] { "0.bias", "0.weight_g", "0.weight_v", "1.bias", "1.weight_g", "1.weight_v" }));
        Assert.That(model.Layers.All(l => l.WeightNormMode == WeightNormMode.Unfused), Is.True);
        Assert.That(LinearReference.RelativeError(model.Forward(x).ToArray(), before), Is.LessThan(1e-6));
        Assert.Throws<InvalidOperationException>(() => WeightNorm.Apply(model));

        Assert.That(WeightNorm.Remove(model), Is.EqualTo(2));
        Assert.That(model.Layers.Any(l => l.IsWeightNormalized), Is.False);
        Assert.That(LinearReference.RelativeError(model.Forward(x).ToArray(), before), Is.LessThan(1e-5));
    }

    [Test]
    public void StateDictRoundTripsWeightGAndV()
    {
        var source = new Linear(7, 3, random: new RandomGenerator(1)).WithWeightNorm();
        Randomize(source, 2);
        var target = new Linear(7, 3, random: new RandomGenerator(9)).WithWeightNorm();

        target.LoadStateDict(source.StateDict());

        Tensor x = Tensor.RandomNormal(new RandomGenerator(3), [4, 7]);
        Assert.That(target.Forward(x).ToArray(), Is.EqualTo(source.Forward(x).ToArray()));
        var plain = new Linear(7, 3);
        Assert.Throws<ArgumentException>(() => plain.LoadStateDict(source.StateDict()));
    }

    // ---------------------------------------------------------------- the paper's invariances

    // w = g·v/‖v‖ does not depend on the scale of v. Scaling v by c changes Σv² by c², so the ε in the norm shifts
    // the result by ε/(2c²Σv²) relative: < 1e-9 for the c tested here (Σv² ~ 40/√40² ≈ 1).
    [TestCase(WeightNormMode.Fused, 0.01f)]
    [TestCase(WeightNormMode.Fused, 7.5f)]
    [TestCase(WeightNormMode.Unfused, 0.01f)]
    [TestCase(WeightNormMode.Unfused, 7.5f)]
    public void ScalingVLeavesTheOutputUnchanged(WeightNormMode mode, float c)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(71)).WithWeightNorm(mode: mode);
        Randomize(layer, 72);
        Tensor x = Input(73);
        float[] before = layer.Forward(x).ToArray();

        TensorPrimitives.Multiply(layer.WeightV!.AsSpan(), c, layer.WeightV.AsSpan());

        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-6));
    }

    // ∂L/∂v_j = s_j·(I − v_j v_jᵀ/‖v_j‖²)·G_j is orthogonal to v_j. In float32 the two terms of the fused formula
    // (s·G and the correction) each carry relative rounding ~1e-7, and the dot product of 40 terms adds ~√40·6e-8, so
    // cos(∂v_j, v_j) is bounded by ~1e-6 in practice; the test allows 1e-5 (a wrong correction term gives order 1).
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void GradientOfVIsOrthogonalToV(WeightNormMode mode)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(81)).WithWeightNorm(mode: mode);
        Randomize(layer, 82);

        Loss(layer, Input(83)).Backward();

        double worst = 0;
        float[] v = layer.WeightV!.ToArray(), dv = layer.WeightV.Grad!.ToArray();
        for (int j = 0; j < Out; j++)
        {
            double dot = 0, vv = 0, gg = 0;
            for (int i = j * In; i < (j + 1) * In; i++)
            {
                dot += (double)v[i] * dv[i];
                vv += (double)v[i] * v[i];
                gg += (double)dv[i] * dv[i];
            }
            worst = Math.Max(worst, Math.Abs(dot) / Math.Sqrt(vv * gg));
        }
        TestContext.Out.WriteLine($"{mode}: max |cos(∂v_j, v_j)| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-5));
    }

    // v' = v − η∂v with ∂v ⟂ v gives ‖v'‖² = ‖v‖² + η²‖∂v‖² ≥ ‖v‖² (paper §2.2): the norm never decreases, and
    // EffectiveScale = g/‖v‖ reports the shrinking step on the direction. Five SGD steps with a large η.
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void SgdStepsNeverDecreaseTheNormOfV(WeightNormMode mode)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(91)).WithWeightNorm(mode: mode);
        Randomize(layer, 92);
        Tensor x = Input(93);
        float[] norms = layer.VNorms.ToArray();
        for (int step = 0; step < 5; step++)
        {
            layer.ZeroGrad();
            Loss(layer, x).Backward();
            using (Tape.NoGrad())
            {
                TensorPrimitives.MultiplyAdd(layer.WeightV!.Grad!.AsSpan(), -0.5f, layer.WeightV.AsSpan(), layer.WeightV.AsSpan());
            }
            float[] next = layer.VNorms.ToArray();
            for (int j = 0; j < Out; j++)
            {
                Assert.That(next[j], Is.GreaterThanOrEqualTo(norms[j]), $"step {step}, unit {j}");
            }
            Assert.That(layer.EffectiveScale.ToArray(),
                Is.EqualTo(layer.WeightG!.ToArray().Zip(next, (g, n) => g / n).ToArray()).Within(1e-6f));
            norms = next;
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor Input(ulong seed) => Tensor.RandomNormal(new RandomGenerator(seed), [Rows, In]);

    private static string WeightNormDescribe(int? dim) => dim?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";

    /// <summary>A non-trivial loss: mean of squares of (y − 0.5), so δ varies in sign and size.</summary>
    private static Tensor Loss(Linear layer, Tensor x) => (layer.Forward(x) - 0.5f).Pow(2f).Mean();

    /// <summary>g away from ‖v‖ and a random bias, so no term of the gradient vanishes by accident.</summary>
    private static void Randomize(Linear layer, ulong seed)
    {
        var random = new RandomGenerator(seed);
        random.FillUniform(layer.WeightG!.AsSpan(), 0.5f, 2f);
        random.FillUniform(layer.Bias!.AsSpan(), -1f, 1f);
    }

    private static (float[] Y, float[][] Grads) RunStep(WeightNormMode mode, int? dim)
    {
        var layer = new Linear(In, Out, random: new RandomGenerator(21)).WithWeightNorm(dim, mode);
        Randomize(layer, 22);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(23), [2, Rows / 2, In]).RequireGrad();
        Tensor y = layer.Forward(x);
        float[] values = y.ToArray();
        y.Backward(Tensor.RandomNormal(new RandomGenerator(24), [2, Rows / 2, Out]));
        return (values, [x.Grad!.ToArray(), layer.Bias!.Grad!.ToArray(), layer.WeightG!.Grad!.ToArray(), layer.WeightV!.Grad!.ToArray()]);
    }
}
