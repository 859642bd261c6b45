using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// The hand-written operators of the elementwise math ops and activations: the SIMD drivers against their scalar
/// twins (every vector width plus the tail), and each scalar definition against a double-precision formula.
/// </summary>
/// <remarks>
/// Sizes 1, 7, 16, 17 and 1003 give a tail only, a 128-bit body and tail, exact 512/256-bit bodies, a body plus one,
/// and a long run. Run the suite with DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and DOTNET_EnableHWIntrinsic=0 to
/// send the same inputs through the narrower widths. Operators made of compares, selects and + − × ÷ in the same
/// order must agree bit for bit. Those calling Exp/Log use the vector library's approximations in the vector forms
/// and MathF's in the scalar one, each within a couple of ulps, so they may differ by 4e-7 relative, plus 1.2e-7
/// absolute where eˣ − 1 or 1 + e cancels (one ulp of the operand near 1).
/// </remarks>
[TestFixture]
public sealed class ElementwiseKernelTests
{
    private static readonly int[] s_sizes = [1, 7, 16, 17, 1003];

    // Every branch, in every lane position: large and small of both signs, zero, values near the softplus threshold.
    private static readonly float[] s_specials = [-100f, -30f, -3.5f, -1f, -0.25f, -1e-3f, 0f, -0f, 1e-3f, 0.25f, 1f, 3.5f, 10.5f, 30f, 100f];

    private const double Exact = 0;
    private const double Approximate = 4e-7;

    // One ulp of 1: the absolute error left where eˣ − 1 or 1 − y² cancels near 0. Below 1.2e-38 results are subnormal.
    private const double UlpOfOne = 1.2e-7;
    private const double Subnormal = 1.2e-38;

    // ------------------------------------------------------------------ vector driver vs scalar twin

    private static IEnumerable<TestCaseData> DriverCases()
    {
        foreach (int n in s_sizes)
        {
            yield return Unary("LeakyRelu(0.01)", n, new LeakyReluOperator(0.01f), Exact);
            yield return Unary("LeakyRelu(-0.5)", n, new LeakyReluOperator(-0.5f), Exact);
            yield return Unary("Elu(1)", n, new EluOperator(1f), Approximate, UlpOfOne);
            yield return Unary("Elu(0.5)", n, new EluOperator(0.5f), Approximate, 0.5 * UlpOfOne);
            yield return Unary("Softplus(1, 20)", n, new SoftplusOperator(1f, 20f), Approximate);
            yield return Unary("Softplus(2, 5)", n, new SoftplusOperator(2f, 5f), Approximate);
            yield return Binary("ReluBackward", n, new ReluBackwardOperator(), Exact);
            yield return Binary("LeakyReluBackward(0.2)", n, new LeakyReluBackwardOperator(0.2f), Exact);
            yield return Binary("EluBackward(1.5)", n, new EluBackwardOperator(1.5f), Approximate);
            yield return Binary("SoftplusBackward(1, 20)", n, new SoftplusBackwardOperator(1f, 20f), Approximate);
            yield return Binary("SoftplusBackward(2, 5)", n, new SoftplusBackwardOperator(2f, 5f), Approximate);
            yield return Binary("SigmoidBackward", n, new SigmoidBackwardOperator(), Exact);
            yield return Binary("TanhBackward", n, new TanhBackwardOperator(), Exact);
            yield return Binary("LogBackward", n, new LogBackwardOperator(), Exact);
            yield return Binary("SqrtBackward", n, new SqrtBackwardOperator(), Exact);
            yield return Binary("AbsBackward", n, new AbsBackwardOperator(), Exact);
            yield return Binary("ClampBackward(-0.25, 1)", n, new ClampBackwardOperator(-0.25f, 1f), Exact);
            yield return Binary("MaximumShare", n, new MaximumShareOperator(), Exact);
            yield return Binary("PowBaseGradient", n, new PowBaseGradientOperator(), Exact, withInfinities: true);
            yield return Binary("PowExponentGradient", n, new PowExponentGradientOperator(), Exact, withInfinities: true);
        }
    }

    [TestCaseSource(nameof(DriverCases))]
    public void VectorDriverAgreesWithScalarTwin(Func<(float[] Vector, float[] Scalar)> run, double tolerance, double absolute)
    {
        (float[] vector, float[] scalar) = run();

        for (int i = 0; i < scalar.Length; i++)
        {
            if (tolerance == Exact || !float.IsFinite(scalar[i]))
            {
                Assert.That(vector[i], Is.EqualTo(scalar[i]), $"element {i}");
            }
            else
            {
                Assert.That(vector[i], Is.EqualTo(scalar[i]).Within(tolerance * Math.Abs(scalar[i]) + absolute + Subnormal), $"element {i}");
            }
        }
    }

    private static TestCaseData Unary<TOp>(string name, int n, TOp op, double tolerance, double absolute = 0)
        where TOp : struct, IUnaryOperator
    {
        Func<(float[], float[])> run = () =>
        {
            float[] x = Mixed(n, 1);
            var vector = new float[n];
            var scalar = new float[n];
            Elementwise.Map(x, vector, op);
            Elementwise.MapScalar(x, scalar, op);
            return (vector, scalar);
        };
        return new TestCaseData(run, tolerance, absolute).SetName($"{name} n={n}");
    }

    private static TestCaseData Binary<TOp>(string name, int n, TOp op, double tolerance, bool withInfinities = false)
        where TOp : struct, IBinaryOperator
    {
        Func<(float[], float[])> run = () =>
        {
            float[] x = Mixed(n, 2);
            float[] y = Mixed(n, 3, phase: 5); // shifted, so that x = 0 does not always meet dy = 0
            for (int i = 0; i < n; i++)
            {
                if (i % 5 == 0)
                {
                    y[i] = x[i]; // ties, for maximum's half share
                }
                if (withInfinities && i % 7 == 3)
                {
                    x[i] = i % 2 == 0 ? float.PositiveInfinity : 0f;
                    y[i] = float.NegativeInfinity;
                }
            }
            var vector = new float[n];
            var scalar = new float[n];
            Elementwise.Zip(x, y, vector, op);
            Elementwise.ZipScalar(x, y, scalar, op);
            return (vector, scalar);
        };
        return new TestCaseData(run, tolerance, 0.0).SetName($"{name} n={n}");
    }

    /// <summary>Every third element one of the specials (in turn, from <paramref name="phase"/>), the rest seeded normals times 5.</summary>
    private static float[] Mixed(int n, ulong seed, int phase = 0)
    {
        float[] values = Tensor.RandomNormal(new RandomGenerator(seed), [n], 0f, 5f).ToArray();
        for (int i = 0; i < n; i += 3)
        {
            values[i] = s_specials[(i / 3 + phase) % s_specials.Length];
        }
        return values;
    }

    // ------------------------------------------------------------------ scalar definitions vs double formulas

    private static IEnumerable<TestCaseData> ScalarCases()
    {
        // x runs over the specials (both sides of every branch); dy is fixed at −1.75 so a dropped factor shows.
        yield return Scalar("LeakyRelu(0.01)", (x, _) => new LeakyReluOperator(0.01f).Invoke(x), (x, _) => x > 0 ? x : 0.01 * x);
        yield return Scalar("Elu(0.5)", (x, _) => new EluOperator(0.5f).Invoke(x), (x, _) => x > 0 ? x : 0.5 * ExpM1(x), 0.5 * UlpOfOne);
        yield return Scalar("Softplus(1, 20)", (x, _) => new SoftplusOperator(1f, 20f).Invoke(x), (x, _) => Softplus(x, 1, 20));
        yield return Scalar("Softplus(2, 5)", (x, _) => new SoftplusOperator(2f, 5f).Invoke(x), (x, _) => Softplus(x, 2, 5));
        yield return Scalar("ReluBackward", (x, dy) => new ReluBackwardOperator().Invoke(x, dy), (x, dy) => x > 0 ? dy : 0);
        yield return Scalar("LeakyReluBackward(0.2)", (x, dy) => new LeakyReluBackwardOperator(0.2f).Invoke(x, dy), (x, dy) => x > 0 ? dy : 0.2 * dy);
        yield return Scalar("EluBackward(1.5)", (x, dy) => new EluBackwardOperator(1.5f).Invoke(x, dy), (x, dy) => x > 0 ? dy : dy * 1.5 * Math.Exp(x));
        yield return Scalar("SoftplusBackward(1, 20)", (x, dy) => new SoftplusBackwardOperator(1f, 20f).Invoke(x, dy),
            (x, dy) => x > 20 ? dy : dy / (1 + Math.Exp(-x)));
        yield return Scalar("SoftplusBackward(2, 5)", (x, dy) => new SoftplusBackwardOperator(2f, 5f).Invoke(x, dy),
            (x, dy) => 2 * x > 5 ? dy : dy / (1 + Math.Exp(-2 * x)));
        // y = sigmoid(x) and tanh(x) take values in (0, 1) and (−1, 1): map the specials there.
        yield return Scalar("SigmoidBackward", (x, dy) => new SigmoidBackwardOperator().Invoke(Squash(x), dy),
            (x, dy) => dy * Squash(x) * (1 - (double)Squash(x)));
        yield return Scalar("TanhBackward", (x, dy) => new TanhBackwardOperator().Invoke(2 * Squash(x) - 1, dy),
            (x, dy) => dy * (1 - (double)(2 * Squash(x) - 1) * (2 * Squash(x) - 1)), 1.75 * UlpOfOne);
        yield return Scalar("LogBackward", (x, dy) => new LogBackwardOperator().Invoke(x, dy), (x, dy) => dy / x);
        yield return Scalar("SqrtBackward", (x, dy) => new SqrtBackwardOperator().Invoke(Math.Abs(x), dy), (x, dy) => dy / (2.0 * Math.Abs(x)));
        yield return Scalar("AbsBackward", (x, dy) => new AbsBackwardOperator().Invoke(x, dy), (x, dy) => x == 0 ? 0 : dy * Math.Sign(x));
        yield return Scalar("ClampBackward(-0.25, 1)", (x, dy) => new ClampBackwardOperator(-0.25f, 1f).Invoke(x, dy),
            (x, dy) => x >= -0.25 && x <= 1 ? dy : 0);
        // Against a fixed 0.25: greater, equal (the half share) and smaller all occur among the specials.
        yield return Scalar("MaximumShare", (x, _) => new MaximumShareOperator().Invoke(x, 0.25f), (x, _) => x > 0.25 ? 1 : x == 0.25 ? 0.5 : 0);
        // b = x, p = 3: b·p, and exactly 0 where b = 0 even when p is ∞.
        yield return Scalar("PowBaseGradient", (x, _) => new PowBaseGradientOperator().Invoke(x, x == 0 ? float.PositiveInfinity : 3f),
            (x, _) => x == 0 ? 0 : 3.0 * x);
        // lnA = x, y = 2: y·ln a, and 0 where ln a = −∞ (a = 0) with y finite.
        yield return Scalar("PowExponentGradient", (x, _) => new PowExponentGradientOperator().Invoke(2f, x == 0 ? float.NegativeInfinity : x),
            (x, _) => x == 0 ? 0 : 2.0 * x);
    }

    [TestCaseSource(nameof(ScalarCases))]
    public void ScalarDefinitionMatchesDoubleFormula(Func<float, float, float> invoke, Func<float, float, double> reference, double absolute)
    {
        const float Dy = -1.75f;
        foreach (float x in s_specials)
        {
            double expected = reference(x, Dy);
            double actual = invoke(x, Dy);
            // A float result carries ~6e-8 relative rounding and MathF.Exp/Log a couple of ulps more (4e-7 relative);
            // cancellations (eˣ − 1, 1 − y²) leave an absolute error of one ulp of 1 times the factor in front.
            Assert.That(actual, Is.EqualTo(expected).Within(Approximate * Math.Abs(expected) + absolute + Subnormal), $"x = {x}");
        }
    }

    private static TestCaseData Scalar(string name, Func<float, float, float> invoke, Func<float, float, double> reference, double absolute = 0) =>
        new TestCaseData(invoke, reference, absolute).SetName(name);

    [Test]
    public void SoftplusScalarIsAccurateFarBelowZero()
    {
        // ln(1 + e⁻³⁰): the naive ln(1 + e) gives 0 here, Goldberg's trick the correct 9.36e-14.
        float y = new SoftplusOperator(1f, 20f).Invoke(-30f);

        Assert.That(y, Is.EqualTo(Softplus(-30, 1, 20)).Within(Approximate * Softplus(-30, 1, 20)));
    }

    [Test]
    public void BackwardOperatorsAccumulateThroughZipAccumulate()
    {
        // The drivers add into the gradient (+=) rather than overwrite it: two runs give twice one run.
        float[] x = Mixed(37, 4);
        float[] dy = Mixed(37, 5);
        var once = new float[37];
        var twice = new float[37];
        Elementwise.ZipAccumulate(x, dy, once, new LeakyReluBackwardOperator(0.3f));
        Elementwise.ZipAccumulate(x, dy, twice, new LeakyReluBackwardOperator(0.3f));
        Elementwise.ZipAccumulate(x, dy, twice, new LeakyReluBackwardOperator(0.3f));

        for (int i = 0; i < x.Length; i++)
        {
            Assert.That(twice[i], Is.EqualTo(2 * once[i]), $"element {i}");
            Assert.That(once[i], Is.EqualTo(x[i] > 0 ? dy[i] : 0.3f * dy[i]), $"element {i}");
        }
    }

    // ------------------------------------------------------------------ double references

    private static float Squash(float x) => (float)(1 / (1 + Math.Exp(-x)));

    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;

    private static double Softplus(double x, double beta, double threshold)
    {
        double z = beta * x;
        if (z > threshold)
        {
            return x;
        }
        double e = Math.Exp(-Math.Abs(z));
        double log1p = e < 1e-4 ? e - e * e / 2 + e * e * e / 3 : Math.Log(1 + e);
        return (Math.Max(z, 0) + log1p) / beta;
    }
}
