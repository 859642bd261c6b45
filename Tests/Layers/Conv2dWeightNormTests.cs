using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NeuralCore.Tests.Ops;
using NUnit.Framework;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// Weight normalization on <see cref="Conv2d"/>, one norm per output channel over (C·kh·kw): the fused op
/// (<c>weight_norm_conv2d</c>) against the unfused reference and against the formulas in double precision, the paper's
/// invariances per channel, the zero-channel safety, folding, <see cref="WeightNorm.Apply"/> on a mixed model, and
/// steady-state allocation.
/// </summary>
[TestFixture]
public sealed class Conv2dWeightNormTests
{
    private const int Batch = 3, InC = 4, OutC = 6, Size = 7, Kernel = 3;

    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void EnablingSplitsWeightIntoGAndVWithoutChangingTheOutput()
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(1));
        Tensor x = Input(2);
        float[] before = layer.Forward(x).ToArray();
        float[] weight = layer.Weight.ToArray();

        Conv2d same = layer.WithWeightNorm();

        Assert.That(same, Is.SameAs(layer));
        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "bias", "weight_g", "weight_v" }));
        Assert.That(layer.WeightG!.Shape.ToArray(), Is.EqualTo(new[] { OutC, 1, 1, 1 }), "PyTorch's shape for dim 0");
        Assert.That(layer.WeightV!.ToArray(), Is.EqualTo(weight));
        Assert.That(layer.WeightG.ToArray(), Is.EqualTo(layer.VNorms.ToArray()), "g = ‖v‖ per output channel");
        Assert.That(layer.VNorms.Count, Is.EqualTo(OutC));
        Assert.That(layer.UsesFusedWeightNorm, Is.True);
        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-6));
        var twice = Assert.Throws<InvalidOperationException>(() => layer.WithWeightNorm());
        Assert.That(twice!.Message, Does.Contain("Conv2d(4→6, k3, s1, p1)").And.Contain("already"));
        Assert.Throws<ArgumentException>(() => new Conv2d(2, 3, 3).WithWeightNorm(4));
    }

    // The issue's figure: fused and unfused agree to 1e-5 relative (to each quantity's largest entry) in the output
    // and every gradient. They compute the same float32 expressions in a different order (s applied after vs before the
    // im2col GEMM; norms by TensorPrimitives vs the sum op): a few roundings of a 36-term dot product, ~1e-7.
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
            TestContext.Out.WriteLine($"dim {dim?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}: ∂{names[i]} relative difference {error:E2}");
            Assert.That(error, Is.LessThan(1e-5), "∂" + names[i]);
        }
    }

    // Independent of both paths: the projection form of DESIGN.md in double precision, per output channel o, with
    // G = ∂L/∂w from the direct convolution's weight gradient: ∂g_o = G_o·v_o/‖v_o‖, ∂v_o = s_o·G_o − s_o·∂g_o·v_o/‖v_o‖,
    // ∂x = conv_backward_data(δ, w), ∂b_o = Σ δ.
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void GradientsMatchTheDoublePrecisionFormulas(WeightNormMode mode)
    {
        var layer = new Conv2d(InC, OutC, Kernel, stride: 2, padding: 1, random: new RandomGenerator(31)).WithWeightNorm(mode: mode);
        Randomize(layer, 32);
        Tensor x = Input(33).RequireGrad();
        Tensor y = layer.Forward(x);
        Tensor delta = Tensor.RandomNormal(new RandomGenerator(34), y.Shape);

        y.Backward(delta);

        (int, int) stride = (2, 2), padding = (1, 1), dilation = (1, 1);
        Tensor w = layer.Weight; // g·v/‖v‖ without recording
        int rowLength = InC * Kernel * Kernel;
        double[] v = LinearReference.ToDouble(layer.WeightV!.ToArray()), g = LinearReference.ToDouble(layer.WeightG!.ToArray());
        double[] bigG = ConvolutionReference.WeightGradient(x, w, delta, stride, padding, dilation).Values;
        double[] dg = new double[OutC], dv = new double[v.Length];
        for (int o = 0; o < OutC; o++)
        {
            double norm = Math.Sqrt(Enumerable.Range(o * rowLength, rowLength).Sum(i => v[i] * v[i]));
            double s = g[o] / norm;
            dg[o] = Enumerable.Range(o * rowLength, rowLength).Sum(i => bigG[i] * v[i]) / norm;
            for (int i = o * rowLength; i < (o + 1) * rowLength; i++)
            {
                dv[i] = s * bigG[i] - s * dg[o] * v[i] / norm;
            }
        }

        ConvolutionReference.AssertClose(y.AsSpan(), ConvolutionReference.Forward(x, w, layer.Bias, stride, padding, dilation), "y");
        ConvolutionReference.AssertClose(x.Grad!.AsSpan(), ConvolutionReference.InputGradient(x, w, delta, stride, padding, dilation), "∂x");
        Assert.That(LinearReference.RelativeError(layer.Bias!.Grad!.ToArray(), ConvolutionReference.BiasGradient(delta)), Is.LessThan(1e-6), "∂b");
        Assert.That(LinearReference.RelativeError(layer.WeightG.Grad!.ToArray(), dg), Is.LessThan(1e-5), "∂g");
        Assert.That(LinearReference.RelativeError(layer.WeightV.Grad!.ToArray(), dv), Is.LessThan(1e-5), "∂v");
    }

    [TestCase(WeightNormMode.Fused, 0)]
    [TestCase(WeightNormMode.Unfused, 0)]
    [TestCase(WeightNormMode.Fused, null)]
    [TestCase(WeightNormMode.Unfused, 1)]
    public void LayerGradientsMatchFiniteDifferences(WeightNormMode mode, int? dim)
    {
        var layer = new Conv2d(3, 4, 3, stride: 2, padding: 1, dilation: 1, random: new RandomGenerator(41)).WithWeightNorm(dim, mode);
        Randomize(layer, 42);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(43), [2, 3, 5, 6]);

        GradCheckResult result = GradCheck.Check(_ => layer.Forward(x), [x, layer.WeightV!, layer.WeightG!, layer.Bias!]);

        Assert.That(result.Passed, Is.True, result.ToString());
        if (layer.UsesFusedWeightNorm)
        {
            Assert.That(result.Ops, Is.EqualTo(new[] { "weight_norm_conv2d" }), "one fused op");
        }
    }

    [Test]
    public void NoGradForwardMatchesTheRecordedForward()
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(45)).WithWeightNorm();
        Randomize(layer, 46);
        Tensor x = Input(47);
        float[] recorded = layer.Forward(x).ToArray();

        float[] plain;
        using (Tape.NoGrad())
        {
            plain = layer.Forward(x).ToArray(); // u computed in the output buffer and scaled in place
        }

        Assert.That(plain, Is.EqualTo(recorded));
    }

    // ‖v‖ = √(Σv² + ε): a zero output channel of v gives w = 0 for it (y = b) and finite gradients.
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void ZeroChannelOfVGivesNoNaNOrInfinity(WeightNormMode mode)
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(51)).WithWeightNorm(mode: mode);
        layer.WeightV!.AsSpan()[..(InC * Kernel * Kernel)].Clear();
        Tensor x = Input(52).RequireGrad();

        Tensor y = layer.Forward(x);
        y.Backward(Tensor.RandomNormal(new RandomGenerator(53), y.Shape));

        Assert.That(y.ToArray().All(float.IsFinite), Is.True, "y");
        Assert.That(y[1, 0, 3, 4], Is.EqualTo(layer.Bias![0]), "channel 0 of w is zero, so y = b");
        foreach (Tensor t in new[] { x, layer.Bias, layer.WeightG!, layer.WeightV })
        {
            Assert.That(t.Grad!.ToArray().All(float.IsFinite), Is.True, $"gradient of {t.ShapeText}");
        }
    }

    // w does not depend on the scale of v: ε shifts the result by ε/(2c²Σv²) relative, far below 1e-6 here.
    [TestCase(WeightNormMode.Fused, 0.01f)]
    [TestCase(WeightNormMode.Fused, 7.5f)]
    [TestCase(WeightNormMode.Unfused, 0.01f)]
    public void ScalingVLeavesTheOutputUnchanged(WeightNormMode mode, float c)
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(71)).WithWeightNorm(mode: mode);
        Randomize(layer, 72);
        Tensor x = Input(73);
        float[] before = layer.Forward(x).ToArray();

        TensorPrimitives.Multiply(layer.WeightV!.AsSpan(), c, layer.WeightV.AsSpan());

        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-6));
    }

    // ∂L/∂v_o = s_o·(I − v_o v_oᵀ/‖v_o‖²)·G_o is orthogonal to v_o, channel by channel. In float32 the two terms of the
    // fused formula each carry relative rounding ~1e-7 and the 36-term dot product adds ~√36·6e-8, so |cos| stays
    // around 1e-6; 1e-5 is the bound (a missing or wrong correction term gives order 1).
    [TestCase(WeightNormMode.Fused)]
    [TestCase(WeightNormMode.Unfused)]
    public void GradientOfVIsOrthogonalToVPerChannel(WeightNormMode mode)
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(81)).WithWeightNorm(mode: mode);
        Randomize(layer, 82);

        Loss(layer, Input(83)).Backward();

        double worst = 0;
        int rowLength = InC * Kernel * Kernel;
        float[] v = layer.WeightV!.ToArray(), dv = layer.WeightV.Grad!.ToArray();
        for (int o = 0; o < OutC; o++)
        {
            double dot = 0, vv = 0, gg = 0;
            for (int i = o * rowLength; i < (o + 1) * rowLength; i++)
            {
                dot += (double)v[i] * dv[i];
                vv += (double)v[i] * v[i];
                gg += (double)dv[i] * dv[i];
            }
            worst = Math.Max(worst, Math.Abs(dot) / Math.Sqrt(vv * gg));
        }
        TestContext.Out.WriteLine($"{mode}: max |cos(∂v_o, v_o)| = {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-5));
    }

    // v' = v − η∂v with ∂v ⟂ v: ‖v'‖² = ‖v‖² + η²‖∂v‖², so no channel's norm ever decreases.
    [Test]
    public void SgdStepsNeverDecreaseTheNormOfAnyChannel()
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(91)).WithWeightNorm();
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
            for (int o = 0; o < OutC; o++)
            {
                Assert.That(next[o], Is.GreaterThanOrEqualTo(norms[o]), $"step {step}, channel {o}");
            }
            norms = next;
        }
    }

    [TestCase(WeightNormMode.Fused, 0)]
    [TestCase(WeightNormMode.Fused, null)]
    [TestCase(WeightNormMode.Unfused, 0)]
    public void RemoveWeightNormFoldsToAPlainWeightWithTheSameOutputs(WeightNormMode mode, int? dim)
    {
        var layer = new Conv2d(InC, OutC, Kernel, padding: 1, random: new RandomGenerator(61)).WithWeightNorm(dim, mode);
        Randomize(layer, 62);
        Tensor x = Input(63);
        float[] before = layer.Forward(x).ToArray();

        layer.RemoveWeightNorm();

        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EquivalentTo(new[] { "weight", "bias" }));
        Assert.That(LinearReference.RelativeError(layer.Forward(x).ToArray(), before), Is.LessThan(1e-5));
    }

    [Test]
    public void ApplyAndRemoveCoverEveryConvAndLinearOfAModel()
    {
        var model = new Sequential(
            new Conv2d(3, 5, 3, padding: 1, random: new RandomGenerator(1)), new ReLU(), new MaxPool2d(2),
            new Conv2d(5, 4, 1, random: new RandomGenerator(2)), new GlobalAvgPool2d(), new Linear(4, 2, random: new RandomGenerator(3)));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(4), [2, 3, 6, 6]);
        float[] before = model.Forward(x).ToArray();

        Assert.That(WeightNorm.Apply(model), Is.EqualTo(3));

        Assert.That(model.NamedParameters().Select(p => p.Key), Is.EqualTo(new[]
        {
            "0.bias", "0.weight_g", "0.weight_v", "3.bias", "3.weight_g", "3.weight_v", "5.bias", "5.weight_g", "5.weight_v",
        }));
        Assert.That(LinearReference.RelativeError(model.Forward(x).ToArray(), before), Is.LessThan(1e-5));
        Assert.That(WeightNorm.Remove(model), Is.EqualTo(3));
        Assert.That(LinearReference.RelativeError(model.Forward(x).ToArray(), before), Is.LessThan(1e-5));
    }

    // Steady-state steps reuse the tape's pooled buffers and the shared pool's im2col buffers: what a step allocates is
    // small objects (shape arrays, entries), not activations (8·16·12·12 floats = 74 KB would show at once).
    [TestCase(false, WeightNormMode.Fused)]
    [TestCase(true, WeightNormMode.Fused)]
    [TestCase(true, WeightNormMode.Unfused)]
    public void SteadyStateStepAllocatesOnlySmallObjects(bool weightNorm, WeightNormMode mode)
    {
        var layer = new Conv2d(8, 16, 3, padding: 1, random: new RandomGenerator(1));
        if (weightNorm)
        {
            layer.WithWeightNorm(mode: mode);
        }
        Tensor x = Tensor.RandomNormal(new RandomGenerator(2), [8, 8, 12, 12]).RequireGrad();
        Tensor seed = Tensor.Ones(8, 16, 12, 12);
        Tensor[] parameters = layer.Parameters().ToArray();
        void Step()
        {
            foreach (Tensor p in parameters)
            {
                p.ZeroGrad();
            }
            x.ZeroGrad();
            layer.Forward(x).Backward(seed);
            foreach (Tensor p in parameters)
            {
                TensorPrimitives.MultiplyAdd(p.Grad!.AsSpan(), -1e-4f, p.AsSpan(), p.AsSpan());
            }
        }
        for (int i = 0; i < 5; i++)
        {
            Step();
        }
        const int Steps = 20;
        long perStep = AllocationWindows.QuietestWindow(Step, Steps) / Steps;

        TestContext.Out.WriteLine($"managed bytes per step ({(weightNorm ? mode.ToString() : "plain")}): {perStep}");
        Assert.That(perStep, Is.LessThan(4 * 1024));
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor Input(ulong seed) => Tensor.RandomNormal(new RandomGenerator(seed), [Batch, InC, Size, Size]);

    /// <summary>A non-trivial loss: mean of squares of (y − 0.5), so δ varies in sign and size.</summary>
    private static Tensor Loss(Conv2d layer, Tensor x) => (layer.Forward(x) - 0.5f).Pow(2f).Mean();

    /// <summary>g away from ‖v‖ and a random bias, so no term of the gradient vanishes by accident.</summary>
    private static void Randomize(Conv2d layer, ulong seed)
    {
        var random = new RandomGenerator(seed);
        random.FillUniform(layer.WeightG!.AsSpan(), 0.5f, 2f);
        random.FillUniform(layer.Bias!.AsSpan(), -1f, 1f);
    }

    private static (float[] Y, float[][] Grads) RunStep(WeightNormMode mode, int? dim)
    {
        var layer = new Conv2d(InC, OutC, Kernel, stride: 2, padding: 2, dilation: 2, random: new RandomGenerator(21)).WithWeightNorm(dim, mode);
        Randomize(layer, 22);
        Tensor x = Input(23).RequireGrad();
        Tensor y = layer.Forward(x);
        float[] values = y.ToArray();
        y.Backward(Tensor.RandomNormal(new RandomGenerator(24), y.Shape));
        return (values, [x.Grad!.ToArray(), layer.Bias!.Grad!.ToArray(), layer.WeightG!.Grad!.ToArray(), layer.WeightV!.Grad!.ToArray()]);
    }
}
