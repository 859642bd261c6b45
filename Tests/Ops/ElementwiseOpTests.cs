using NeuralCore.Engine;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// Forward values of the elementwise math ops and activations against naive double-precision references, their
/// behaviour at kinks, ties and domain edges, non-contiguous inputs, and their bad-argument errors.
/// </summary>
/// <remarks>
/// Tolerances: a float32 result is within half an ulp (6e-8 relative) of the double reference at best;
/// TensorPrimitives' and the vector Exp/Log are accurate to a few ulps, so most checks allow 4e-7 relative
/// (about 3.5 ulps). Where a formula subtracts nearly equal values (eˣ − 1 near 0 in elu) the error is absolute
/// instead, one ulp of the operands (1.2e-7). Results below float's smallest normal number (1.2e-38) are subnormal
/// and keep fewer bits, or flush to 0, so that much absolute error is always allowed. A wrong formula, branch or
/// parameter is off by far more.
/// </remarks>
[TestFixture]
public sealed class ElementwiseOpTests
{
    private const double Relative = 4e-7;

    private const double Subnormal = 1.2e-38;

    // ------------------------------------------------------------------ forward values

    [Test]
    public void LogMatchesReference() =>
        AssertMatches(Positive(1), x => x.Log(), Math.Log);

    [Test]
    public void SqrtMatchesReference() =>
        AssertMatches(Positive(2), x => x.Sqrt(), Math.Sqrt);

    [Test]
    public void AbsMatchesReference() =>
        AssertMatches(Spread(3), x => x.Abs(), Math.Abs);

    [TestCase(2f)]
    [TestCase(2.5f)]
    [TestCase(-1.5f)]
    [TestCase(0.5f)]
    [TestCase(0f)]
    public void PowOfPositiveBaseMatchesReference(float p) =>
        AssertMatches(Positive(4, count: 1003, maxLog: 8), x => x.Pow(p), x => Math.Pow(x, p), relative: 1e-6);

    [TestCase(2f)]
    [TestCase(3f)]
    [TestCase(-1f)]
    public void PowOfNegativeBaseWithIntegerExponentMatchesReference(float p) =>
        AssertMatches(Spread(5, scale: 3f), x => x.Pow(p), x => Math.Pow(x, p), relative: 1e-6);

    [Test]
    public void PowOfNegativeBaseWithFractionalExponentIsNaN()
    {
        float[] y = Tensor.FromArray([-2f, -0.5f]).Pow(0.5f).ToArray();

        Assert.That(y, Is.All.NaN);
    }

    [Test]
    public void PowTensorBroadcastsAndMatchesReference()
    {
        // (3, 1) ^ (4) → (3, 4)
        float[] a = [0.5f, 1.5f, 3f];
        float[] b = [-2f, 0f, 0.5f, 3f];
        float[] y = Tensor.FromArray(a, 3, 1).Pow(Tensor.FromArray(b)).ToArray();

        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                Assert.That(y[i * 4 + j], Is.EqualTo(Math.Pow(a[i], b[j])).Within(1e-6 * Math.Pow(a[i], b[j])), $"a = {a[i]}, b = {b[j]}");
            }
        }
    }

    [TestCase(-0.5f, 0.7f)]
    [TestCase(0.2f, null)]
    [TestCase(null, -0.1f)]
    [TestCase(0.3f, 0.3f)]
    public void ClampMatchesReference(float? min, float? max) =>
        AssertMatches(Spread(6), x => x.Clamp(min, max),
            x => Math.Min(Math.Max(x, min ?? double.NegativeInfinity), max ?? double.PositiveInfinity), relative: 0);

    [Test]
    public void ClampKeepsNaN()
    {
        Assert.That(Tensor.FromArray([float.NaN]).Clamp(0f, 1f).Item(), Is.NaN);
    }

    [Test]
    public void MaximumAndMinimumBroadcastAndMatchReference()
    {
        // (2, 1, 3) with (4, 1) → (2, 4, 3)
        Tensor a = GradientCaseValues(7, 2, 1, 3);
        Tensor b = GradientCaseValues(8, 4, 1);
        float[] av = a.ToArray();
        float[] bv = b.ToArray();
        float[] max = a.Maximum(b).ToArray();
        float[] min = a.Minimum(b).ToArray();

        Assert.That(a.Maximum(b).Shape.ToArray(), Is.EqualTo(Ints(2, 4, 3)));
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                for (int k = 0; k < 3; k++)
                {
                    int at = (i * 4 + j) * 3 + k;
                    Assert.That(max[at], Is.EqualTo(Math.Max(av[i * 3 + k], bv[j])));
                    Assert.That(min[at], Is.EqualTo(Math.Min(av[i * 3 + k], bv[j])));
                }
            }
        }
    }

    [Test]
    public void MaximumAndMinimumPropagateNaN()
    {
        Tensor a = Tensor.FromArray([float.NaN, 1f]);
        Tensor b = Tensor.FromArray([0f, float.NaN]);

        Assert.That(a.Maximum(b).ToArray(), Is.All.NaN);
        Assert.That(a.Minimum(b).ToArray(), Is.All.NaN);
    }

    [Test]
    public void ReluMatchesReference() =>
        AssertMatches(Spread(9), x => x.Relu(), x => Math.Max(x, 0), relative: 0);

    [Test]
    public void ReluKeepsNaN()
    {
        Assert.That(Tensor.FromArray([float.NaN]).Relu().Item(), Is.NaN);
    }

    [TestCase(0.01f)]
    [TestCase(0.2f)]
    [TestCase(-0.5f)]
    public void LeakyReluMatchesReference(float slope) =>
        AssertMatches(Spread(10), x => x.LeakyRelu(slope), x => x > 0 ? x : slope * x);

    [Test]
    public void LeakyReluDefaultSlopeIsPyTorchs()
    {
        Assert.That(Tensor.FromArray([-2f]).LeakyRelu().Item(), Is.EqualTo(-0.02f));
    }

    [TestCase(1f)]
    [TestCase(0.5f)]
    [TestCase(2f)]
    public void EluMatchesReference(float alpha) =>
        AssertMatches(Spread(11), x => x.Elu(alpha), x => x > 0 ? x : alpha * ExpM1(x), absolute: 1.2e-7 * alpha);

    [Test]
    public void EluDefaultAlphaIsOne()
    {
        Assert.That(Tensor.FromArray([-100f]).Elu().Item(), Is.EqualTo(-1f));
    }

    [Test]
    public void SigmoidMatchesReference() =>
        AssertMatches(Spread(12), x => x.Sigmoid(), x => 1 / (1 + Math.Exp(-x)));

    // TensorPrimitives.Tanh (System.Numerics.Tensors 10.0.15) computes tanh near 0 from e²ˣ with an absolute error of
    // about 6e-8 (tanh(0) comes out as −6e-8), so its error is absolute there, not relative.
    [Test]
    public void TanhMatchesReference() =>
        AssertMatches(Spread(13), x => x.Tanh(), Math.Tanh, absolute: 1.2e-7);

    [TestCase(1f, 20f)]
    [TestCase(2f, 5f)]
    [TestCase(0.5f, 20f)]
    [TestCase(1f, float.PositiveInfinity)]
    public void SoftplusMatchesReference(float beta, float threshold) =>
        AssertMatches(Spread(14, scale: 20f), x => x.Softplus(beta, threshold), x => SoftplusReference(x, beta, threshold));

    [Test]
    public void SoftplusIsAccurateForLargeMagnitudes()
    {
        // ln(1 + e⁻³⁰) = 9.36e-14: computed naively, 1 + e⁻³⁰ rounds to 1 and the result to 0 (relative error 1).
        float[] x = [-30f, -80f, -15f, 15f, 25f, 1000f, -1000f];
        float[] y = Tensor.FromArray(x).Softplus().ToArray();

        Assert.That(y[0], Is.EqualTo(9.357623e-14).Within(Relative * 9.357623e-14));
        for (int i = 0; i < x.Length; i++)
        {
            double expected = SoftplusReference(x[i], 1, 20);
            Assert.That((double)y[i], Is.EqualTo(expected).Within(Relative * expected), $"x = {x[i]}");
        }
        Assert.That(y[4], Is.EqualTo(25f), "above the threshold the input passes through unchanged");
    }

    // ------------------------------------------------------------------ gradients at kinks, ties and edges

    [Test]
    public void GradientsAtZeroFollowPyTorch()
    {
        // relu'(0) = 0, leaky_relu'(0) = slope, abs'(0) = 0, elu'(0) = α (the left branch, since 0 is not > 0).
        Assert.That(GradAt(0f, x => x.Relu()), Is.Zero);
        Assert.That(GradAt(0f, x => x.LeakyRelu(0.2f)), Is.EqualTo(0.2f));
        Assert.That(GradAt(0f, x => x.Abs()), Is.Zero);
        Assert.That(GradAt(0f, x => x.Elu(0.5f)), Is.EqualTo(0.5f));
    }

    [Test]
    public void ClampPassesTheGradientAtItsBounds()
    {
        Tensor x = Tensor.FromArray([-1f, -0.5f, 0f, 0.7f, 1f]).RequireGrad();
        x.Clamp(-0.5f, 0.7f).Backward(Tensor.Ones(5));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(0f, 1f, 1f, 1f, 0f)));
    }

    [Test]
    public void MaximumAndMinimumSplitTiesHalfAndHalf()
    {
        Tensor a = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        Tensor b = Tensor.FromArray([1f, 0f, 5f]).RequireGrad();
        a.Maximum(b).Backward(Tensor.FromArray([2f, 2f, 2f]));

        Assert.That(a.Grad!.ToArray(), Is.EqualTo(Values(1f, 2f, 0f)));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(Values(1f, 0f, 2f)));

        a.ZeroGrad();
        b.ZeroGrad();
        a.Minimum(b).Backward(Tensor.FromArray([2f, 2f, 2f]));

        Assert.That(a.Grad!.ToArray(), Is.EqualTo(Values(1f, 0f, 2f)));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(Values(1f, 2f, 0f)));
    }

    [Test]
    public void MaximumOfATensorWithItselfPassesTheWholeGradient()
    {
        Tensor x = Tensor.FromArray([-1f, 2f]).RequireGrad();
        x.Maximum(x).Backward(Tensor.Ones(2));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(1f, 1f)));
    }

    [Test]
    public void PowWithZeroExponentHasZeroGradientEvenAtZero()
    {
        Tensor x = Tensor.FromArray([0f, 2f]).RequireGrad();
        x.Pow(0f).Backward(Tensor.Ones(2));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(0f, 0f)));
    }

    [Test]
    public void PowTensorGradientsAtZeroBaseFollowPyTorch()
    {
        // a = 0: ∂a = b·0^(b−1) is 0 for b = 2 and (masked) for b = 0; ∂b = y·ln 0 is masked to 0 for b ≥ 0,
        // and −∞ for b = −1 (y = ∞).
        Tensor a = Tensor.FromArray([0f, 0f, 0f]).RequireGrad();
        Tensor b = Tensor.FromArray([2f, 0f, -1f]).RequireGrad();
        Tensor y = a.Pow(b);
        y.Backward(Tensor.Ones(3));

        Assert.That(y.ToArray(), Is.EqualTo(Values(0f, 1f, float.PositiveInfinity)));
        Assert.That(a.Grad!.ToArray()[..2], Is.EqualTo(Values(0f, 0f)));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(Values(0f, 0f, float.NegativeInfinity)));
    }

    [Test]
    public void GradientsOfSaturatedActivationsStayFinite()
    {
        // At ±100, sigmoid, tanh and softplus saturate; their gradients must be 0 or 1, not NaN from ∞/∞.
        float[] x = [-100f, 100f];
        Assert.That(Grads(x, t => t.Sigmoid()), Is.EqualTo(Values(0f, 0f)));
        Assert.That(Grads(x, t => t.Tanh()), Is.EqualTo(Values(0f, 0f)));
        // softplus'(−100) = sigmoid(−100) and elu'(−100) = e⁻¹⁰⁰ are about 3.7e-44, subnormals.
        Assert.That(Grads(x, t => t.Softplus()), Is.EqualTo(Values(0f, 1f)).Within(Subnormal));
        Assert.That(Grads(x, t => t.Softplus(1f, float.PositiveInfinity)), Is.EqualTo(Values(0f, 1f)).Within(Subnormal));
        Assert.That(Grads(x, t => t.Elu()), Is.EqualTo(Values(0f, 1f)).Within(Subnormal));
    }

    // ------------------------------------------------------------------ non-contiguous inputs

    // Each op with whether it needs positive inputs (log, sqrt).
    private static IEnumerable<TestCaseData> UnaryOps()
    {
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Log()), true).SetName("log");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Sqrt()), true).SetName("sqrt");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Abs()), false).SetName("abs");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Pow(3f)), false).SetName("pow");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Clamp(-0.3f, 0.4f)), false).SetName("clamp");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Maximum(Tensor.FromArray([0.1f, -0.2f, 0.3f]))), false).SetName("maximum");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Minimum(Tensor.FromArray([0.1f, -0.2f, 0.3f]))), false).SetName("minimum");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Pow(Tensor.FromArray([1f, 2f, 3f]))), false).SetName("pow_tensor");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Relu()), false).SetName("relu");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.LeakyRelu(0.1f)), false).SetName("leaky_relu");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Elu()), false).SetName("elu");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Sigmoid()), false).SetName("sigmoid");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Tanh()), false).SetName("tanh");
        yield return new TestCaseData((Func<Tensor, Tensor>)(x => x.Softplus(2f, 1f)), false).SetName("softplus");
    }

    [TestCaseSource(nameof(UnaryOps))]
    public void TransposedInputGivesTheSameValuesAndGradientsAsItsContiguousCopy(Func<Tensor, Tensor> op, bool positive)
    {
        // A (6, 3) view of a (3, 6) buffer with strides (1, 6): every op must read it through its strides.
        Tensor buffer = positive ? Tensor.RandomUniform(new RandomGenerator(15), [3, 6], 0.5f, 2f) : GradientCaseValues(15, 3, 6);
        var view = new Tensor(buffer, 0, [6, 3], [1, 6]);
        Tensor copy = view.Copy();
        Assert.That(view.IsContiguous, Is.False);
        view.RequiresGrad = true;
        copy.RequiresGrad = true;
        Tensor seed = GradientCaseValues(16, 6, 3);

        Tensor fromView = op(view);
        Tensor fromCopy = op(copy);
        float[] viewValues = fromView.ToArray();
        float[] copyValues = fromCopy.ToArray();
        fromView.Backward(seed);
        fromCopy.Backward(seed);

        Assert.That(viewValues, Is.EqualTo(copyValues));
        Assert.That(view.Grad!.ToArray(), Is.EqualTo(copy.Grad!.ToArray()));
        Assert.That(copy.Grad!.ToArray(), Has.Some.Not.Zero, "the gradient reached the input");
    }

    [Test]
    public void OpsWorkOnEmptyAndRankZeroTensors()
    {
        Assert.That(Tensor.Zeros(0, 3).Softplus().Shape.ToArray(), Is.EqualTo(Ints(0, 3)));
        Assert.That(Tensor.Zeros(0).Maximum(Tensor.Zeros(0)).Count, Is.Zero);
        Assert.That(Tensor.Scalar(-2f).Elu().Item(), Is.EqualTo((float)ExpM1(-2)).Within(1.2e-7));
        Assert.That(Tensor.Scalar(4f).Pow(Tensor.Scalar(0.5f)).Item(), Is.EqualTo(2f));
    }

    // ------------------------------------------------------------------ bad input

    private static IEnumerable<TestCaseData> BadCalls()
    {
        Tensor x = Tensor.Ones(2, 3);
        yield return Bad("Pow", () => _ = x.Pow(float.NaN), "pow NaN exponent");
        yield return Bad("Pow", () => _ = x.Pow(Tensor.Ones(4)), "pow_tensor shapes (2,3)^(4)");
        yield return Bad("Clamp", () => _ = x.Clamp(), "clamp without bounds");
        yield return Bad("Clamp", () => x.Clamp(float.NaN, 1f), "clamp NaN min");
        yield return Bad("Clamp", () => x.Clamp(0f, float.NaN), "clamp NaN max");
        yield return Bad("Clamp", () => x.Clamp(1f, 0f), "clamp min > max");
        yield return Bad("Maximum", () => x.Maximum(Tensor.Ones(3, 2)), "maximum shapes (2,3)&(3,2)");
        yield return Bad("Minimum", () => x.Minimum(Tensor.Ones(2, 2)), "minimum shapes (2,3)&(2,2)");
        yield return Bad("LeakyRelu", () => _ = x.LeakyRelu(float.NaN), "leaky_relu NaN slope");
        yield return Bad("LeakyRelu", () => _ = x.LeakyRelu(float.PositiveInfinity), "leaky_relu infinite slope");
        yield return Bad("Elu", () => _ = x.Elu(float.NaN), "elu NaN alpha");
        yield return Bad("Softplus", () => _ = x.Softplus(0f), "softplus beta 0");
        yield return Bad("Softplus", () => _ = x.Softplus(-1f), "softplus negative beta");
        yield return Bad("Softplus", () => _ = x.Softplus(float.NaN), "softplus NaN beta");
        yield return Bad("Softplus", () => x.Softplus(1f, float.NaN), "softplus NaN threshold");
    }

    [TestCaseSource(nameof(BadCalls))]
    public void BadArgumentsThrowNamingTheOp(string op, Action call)
    {
        ArgumentException? error = Assert.Throws<ArgumentException>(call);

        Assert.That(error!.Message, Does.StartWith(op + ":"));
    }

    [Test]
    public void ShapeErrorsNameBothShapes()
    {
        ArgumentException? error = Assert.Throws<ArgumentException>(() => Tensor.Ones(2, 3).Maximum(Tensor.Ones(3, 2)));

        Assert.That(error!.Message, Does.Contain("(2, 3)").And.Contain("(3, 2)"));
    }

    private static TestCaseData Bad(string op, Action call, string name) => new TestCaseData(op, call).SetName(name);

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// Runs <paramref name="op"/> on <paramref name="x"/> (no tape) and compares every element with the double
    /// reference: |y − ref| ≤ relative·|ref| + absolute; NaN and ±∞ must match exactly.
    /// </summary>
    private static void AssertMatches(float[] x, Func<Tensor, Tensor> op, Func<double, double> reference,
        double relative = Relative, double absolute = Subnormal)
    {
        float[] y = op(Tensor.FromArray(x)).ToArray();
        Assert.That(y, Has.Length.EqualTo(x.Length));
        for (int i = 0; i < x.Length; i++)
        {
            double expected = reference(x[i]);
            if (double.IsNaN(expected) || double.IsInfinity(expected) || Math.Abs(expected) > float.MaxValue)
            {
                Assert.That(y[i], Is.EqualTo((float)expected), $"x = {x[i]} (element {i})");
                continue;
            }
            Assert.That((double)y[i], Is.EqualTo(expected).Within(relative * Math.Abs(expected) + absolute), $"x = {x[i]} (element {i})");
        }
    }

    /// <summary>
    /// 1003 values (a 16-lane body and an 11-element tail): zeros, tiny and large values of both signs first, then
    /// seeded normals times <paramref name="scale"/>.
    /// </summary>
    private static float[] Spread(ulong seed, float scale = 4f)
    {
        float[] specials = [0f, -0f, 1e-3f, -1e-3f, 1e-6f, -1e-6f, 1f, -1f, 30f, -30f, 100f, -100f, 1e20f, -1e20f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        float[] values = GradientCaseValues(seed, 1003).ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i < specials.Length ? specials[i] : values[i] * scale;
        }
        return values;
    }

    /// <summary>Positive values spread over e^[−maxLog, maxLog] (log-uniform), plus 0, tiny, huge and +∞ first.</summary>
    private static float[] Positive(ulong seed, int count = 1003, float maxLog = 60f)
    {
        float[] specials = [0f, 1f, float.Epsilon, 1e-30f, 1e30f, float.MaxValue, float.PositiveInfinity];
        float[] exponents = Tensor.RandomUniform(new RandomGenerator(seed), [count], -maxLog, maxLog).ToArray();
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = i < specials.Length && maxLog >= 60f ? specials[i] : (float)Math.Exp(exponents[i]);
        }
        return values;
    }

    private static float[] Values(params ReadOnlySpan<float> values) => values.ToArray();

    private static int[] Ints(params ReadOnlySpan<int> values) => values.ToArray();

    private static Tensor GradientCaseValues(ulong seed, params int[] shape) => Tensor.RandomNormal(new RandomGenerator(seed), shape);

    private static float GradAt(float value, Func<Tensor, Tensor> op) => Grads([value], op)[0];

    private static float[] Grads(float[] values, Func<Tensor, Tensor> op)
    {
        Tensor x = Tensor.FromArray(values).RequireGrad();
        op(x).Backward(Tensor.Ones(values.Length));
        return x.Grad!.ToArray();
    }

    // eˣ − 1 without cancellation: the Taylor series where eˣ is within 1e-5 of 1.
    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    // ln(1 + e) without cancellation: the series where e is small (its e⁵ term is below double's precision).
    private static double Log1P(double e) => Math.Abs(e) < 1e-4 ? e - e * e / 2 + e * e * e / 3 - e * e * e * e / 4 : Math.Log(1 + e);

    private static double SoftplusReference(double x, double beta, double threshold)
    {
        double z = beta * x;
        if (z > threshold)
        {
            return x;
        }
        return (Math.Max(z, 0) + Log1P(Math.Exp(-Math.Abs(z)))) / beta;
    }
}
