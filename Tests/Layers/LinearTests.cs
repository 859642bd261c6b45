using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Tests.Layers;

/// <summary><see cref="Linear"/> without weight norm: forward against double precision, init, errors, gradients, allocation.</summary>
[TestFixture]
public sealed class LinearTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // Leading axes flatten into rows; 33 inputs and 17 outputs exercise the SIMD tails of the GEMM and the bias pass.
    [TestCase(true)]
    [TestCase(false)]
    public void ForwardMatchesDoublePrecisionReference(bool bias)
    {
        var layer = new Linear(33, 17, bias, new RandomGenerator(1));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(2), [2, 3, 33]);

        Tensor y = layer.Forward(x);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 17 }));
        double[] expected = LinearReference.Linear(x.ToArray(), layer.Weight.ToArray(), layer.Bias?.ToArray(), 6, 33, 17);
        // float32 dot products of 33 terms of size ~1: rounding ~√33·6e-8 ≈ 4e-7 of the largest output.
        Assert.That(LinearReference.RelativeError(y.ToArray(), expected), Is.LessThan(1e-6));
    }

    [Test]
    public void OneDimensionalInputGivesOneDimensionalOutput()
    {
        var layer = new Linear(4, 3, random: new RandomGenerator(3));
        Tensor x = Tensor.FromArray([1f, -2f, 0.5f, 3f]);

        Tensor y = layer.Forward(x);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 3 }));
        Assert.That(LinearReference.RelativeError(y.ToArray(), LinearReference.Linear(x.ToArray(), layer.Weight.ToArray(), layer.Bias!.ToArray(), 1, 4, 3)),
            Is.LessThan(1e-6));
    }

    [Test]
    public void InitFollowsPyTorchBoundsAndIsSeeded()
    {
        var layer = new Linear(100, 50, random: new RandomGenerator(7));
        float bound = 1f / MathF.Sqrt(100);

        Assert.That(layer.Weight.ToArray().All(w => MathF.Abs(w) <= bound), Is.True);
        Assert.That(layer.Bias!.ToArray().All(b => MathF.Abs(b) <= bound), Is.True);
        // U(−b, b) has standard deviation b/√3: 5000 draws estimate it to about 1%.
        Assert.That(Std(layer.Weight.ToArray()), Is.EqualTo(bound / MathF.Sqrt(3)).Within(3).Percent);
        var again = new Linear(100, 50, random: new RandomGenerator(7));
        Assert.That(again.Weight.ToArray(), Is.EqualTo(layer.Weight.ToArray()));
        Assert.That(again.Bias!.ToArray(), Is.EqualTo(layer.Bias.ToArray()));
    }

    [Test]
    public void ParametersAreNamedAsInPyTorch()
    {
        var layer = new Linear(3, 2, random: new RandomGenerator(1));
        var noBias = new Linear(3, 2, bias: false, random: new RandomGenerator(1));

        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "weight", "bias" }));
        Assert.That(noBias.NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "weight" }));
        Assert.That(noBias.Bias, Is.Null);
        Assert.That(layer.Weight.Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(layer.InFeatures, Is.EqualTo(3));
        Assert.That(layer.OutFeatures, Is.EqualTo(2));
        Assert.That(layer.ToString(), Is.EqualTo("Linear(3→2)"));
    }

    [Test]
    public void WrongInputNamesTheLayerAndTheShapes()
    {
        var layer = new Linear(784, 1000, random: new RandomGenerator(1));

        var error = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(32, 785)));
        Assert.That(error!.Message, Is.EqualTo("Linear(784→1000): input (32, 785), expected (*, 784)."));
        Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Scalar(1f)));
    }

    [Test]
    public void BadConstructionArgumentsThrow()
    {
        Assert.Throws<ArgumentException>(() => _ = new Linear(0, 3));
        Assert.Throws<ArgumentException>(() => _ = new Linear(3, -1));
        Assert.Throws<ArgumentException>(() => Linear.FromWeights(Tensor.Zeros(3), null));
        Assert.Throws<ArgumentException>(() => Linear.FromWeights(Tensor.Zeros(2, 3), Tensor.Zeros(3)));
        Assert.Throws<ArgumentException>(() => Linear.Functional(Tensor.Zeros(4, 3), Tensor.Zeros(2, 3), Tensor.Zeros(2, 1)));
    }

    [Test]
    public void FromWeightsCopiesTheGivenValues()
    {
        Tensor w = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        Tensor b = Tensor.FromArray([0.5f, -0.5f, 1f]);

        Linear layer = Linear.FromWeights(w, b);
        Tensor y = layer.Forward(Tensor.FromArray(new float[,] { { 1, 1 } }));

        Assert.That(y.ToArray(), Is.EqualTo(new[] { 3.5f, 6.5f, 12f }));
        Assert.That(w.RequiresGrad, Is.False, "the caller's tensor is not turned into a parameter");
        w[0, 0] = 100f;
        Assert.That(layer.Weight[0, 0], Is.EqualTo(1f));
    }

    // GradCheck through the layer itself: the parameters are passed as the checked inputs, so a finite difference
    // perturbs the layer's own tensors.
    [TestCase(true)]
    [TestCase(false)]
    public void LayerGradientsMatchFiniteDifferences(bool bias)
    {
        var layer = new Linear(6, 5, bias, new RandomGenerator(11));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(12), [2, 3, 6]);
        Tensor[] inputs = bias ? [x, layer.Weight, layer.Bias!] : [x, layer.Weight];

        GradCheckResult result = GradCheck.Check(_ => layer.Forward(x), inputs);

        Assert.That(result.Passed, Is.True, result.ToString());
        Assert.That(result.Ops, Is.EqualTo(new[] { "linear" }), "one fused op, not matmul + add");
    }

    [Test]
    public void GradientsMatchDoublePrecisionReference()
    {
        var layer = new Linear(40, 24, random: new RandomGenerator(21));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(22), [16, 40]).RequireGrad();
        Tensor delta = Tensor.RandomNormal(new RandomGenerator(23), [16, 24]);

        layer.Forward(x).Backward(delta);

        double[] d = LinearReference.ToDouble(delta.ToArray()), xs = LinearReference.ToDouble(x.ToArray()), w = LinearReference.ToDouble(layer.Weight.ToArray());
        Assert.That(LinearReference.RelativeError(x.Grad!.ToArray(), LinearReference.MatMul(d, w, 16, 24, 40, false, false)), Is.LessThan(1e-6));
        Assert.That(LinearReference.RelativeError(layer.Weight.Grad!.ToArray(), LinearReference.MatMul(d, xs, 24, 16, 40, true, false)), Is.LessThan(1e-6));
        Assert.That(LinearReference.RelativeError(layer.Bias!.Grad!.ToArray(), LinearReference.ColumnSums(d, 16, 24)), Is.LessThan(1e-6));
    }

    [Test]
    public void NoGradForwardRecordsNothing()
    {
        var layer = new Linear(5, 4, random: new RandomGenerator(1));
        Tensor y;
        using (Tape.NoGrad())
        {
            y = layer.Forward(Tensor.Ones(3, 5));
        }
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.IsLeaf, Is.True);
    }

    // Steady-state training steps reuse the tape's pooled buffers: what a step allocates is small objects (shape
    // arrays, entries' closures), not activations or gradients (100·200 floats = 80 KB would show at once).
    [TestCase(false, WeightNormMode.Fused)]
    [TestCase(true, WeightNormMode.Fused)]
    [TestCase(true, WeightNormMode.Unfused)]
    public void SteadyStateStepAllocatesOnlySmallObjects(bool weightNorm, WeightNormMode mode)
    {
        var layer = new Linear(200, 100, random: new RandomGenerator(1));
        if (weightNorm)
        {
            layer.WithWeightNorm(mode: mode);
        }
        Tensor x = Tensor.RandomNormal(new RandomGenerator(2), [100, 200]).RequireGrad();
        Tensor seed = Tensor.Ones(100, 100);
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

    private static double Std(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
    }
}

/// <summary>Independent double-precision references for the Linear and weight-norm tests (plain loops, no engine code).</summary>
internal static class LinearReference
{
    public static double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();

    /// <summary>y = x·wᵀ + b for x (rows, in), w (out, in), b (out).</summary>
    public static double[] Linear(float[] x, float[] w, float[]? b, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        for (int n = 0; n < rows; n++)
        {
            for (int j = 0; j < outF; j++)
            {
                double sum = b is null ? 0 : b[j];
                for (int i = 0; i < inF; i++)
                {
                    sum += (double)x[n * inF + i] * w[j * inF + i];
                }
                y[n * outF + j] = sum;
            }
        }
        return y;
    }

    /// <summary>C (m×n) = op(A) (m×k) · op(B) (k×n); A stored k×m when transposed, B stored n×k when transposed.</summary>
    public static double[] MatMul(double[] a, double[] b, int m, int k, int n, bool transA, bool transB)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                }
                c[i * n + j] = sum;
            }
        }
        return c;
    }

    public static double[] ColumnSums(double[] a, int rows, int cols)
    {
        var sums = new double[cols];
        for (int n = 0; n < rows; n++)
        {
            for (int j = 0; j < cols; j++)
            {
                sums[j] += a[n * cols + j];
            }
        }
        return sums;
    }

    /// <summary>max |actual − expected| / max |expected|: the error relative to the quantity's scale.</summary>
    public static double RelativeError(float[] actual, double[] expected)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double worst = 0, scale = 1e-30;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return double.IsFinite(worst) && actual.All(float.IsFinite) ? worst / scale : double.PositiveInfinity;
    }

    /// <summary>The same, between two float results (e.g. fused against unfused).</summary>
    public static double RelativeError(float[] actual, float[] expected) => RelativeError(actual, ToDouble(expected));
}
