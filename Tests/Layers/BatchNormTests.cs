using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// BatchNorm1d/2d: training output and backward against double-precision references in both kernel layouts, eval
/// with running statistics, the running statistics after k steps against the closed form, PyTorch's conventions
/// (biased variance to normalize, unbiased to track; momentum; cumulative average), one tape entry, and messages.
/// </summary>
[TestFixture]
public sealed class BatchNormTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    /// <summary>Per-channel mean and biased variance in double of x viewed as (N, C, S).</summary>
    internal static (double[] Mean, double[] Variance) ChannelStats(float[] x, int n, int c, int s)
    {
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    sum += x[(((i * c) + ch) * s) + j];
                }
            }
            mean[ch] = sum / (n * s);
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    double d = x[(((i * c) + ch) * s) + j] - mean[ch];
                    squares += d * d;
                }
            }
            variance[ch] = squares / (n * s);
        }
        return (mean, variance);
    }

    /// <summary>y = (x − μ)/√(σ² + ε)·γ + β in double, per channel.</summary>
    private static double[] Reference(float[] x, int n, int c, int s, double[] mean, double[] variance, float[] gamma, float[] beta, double eps)
    {
        var y = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int ch = k / s % c;
            y[k] = ((x[k] - mean[ch]) / Math.Sqrt(variance[ch] + eps) * gamma[ch]) + beta[ch];
        }
        return y;
    }

    private static void RandomizeAffine(BatchNormBase layer, ulong seed)
    {
        var random = new RandomGenerator(seed);
        random.FillUniform(layer.Weight!.AsSpan(), 0.5f, 2f);
        random.FillNormal(layer.Bias!.AsSpan());
    }

    public static IEnumerable<TestCaseData> Layouts()
    {
        // (N, C): S = 1, the across-channels layout; C = 37 leaves a tail at every SIMD width.
        yield return new TestCaseData(new[] { 16, 37 }).SetArgDisplayNames("1d (16, 37)");
        yield return new TestCaseData(new[] { 5, 6, 19 }).SetArgDisplayNames("1d (5, 6, 19)");
        yield return new TestCaseData(new[] { 4, 3, 5, 7 }).SetArgDisplayNames("2d (4, 3, 5, 7)");
    }

    private static BatchNormBase Make(int[] shape) => shape.Length == 4 ? new BatchNorm2d(shape[1]) : new BatchNorm1d(shape[1]);

    [TestCaseSource(nameof(Layouts))]
    public void TrainingForwardAndBackwardMatchDoubleReference(int[] shape)
    {
        int n = shape[0], c = shape[1], s = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        BatchNormBase layer = Make(shape);
        RandomizeAffine(layer, 41);
        // Mean 3, std 2: a non-zero mean exercises the centring (a E[x²] − E[x]² formula would lose digits here).
        Tensor x = Tensor.RandomNormal(new RandomGenerator(42), shape, mean: 3f, std: 2f).RequireGrad();
        Tensor dy = Tensor.RandomNormal(new RandomGenerator(43), shape);

        Tensor y = layer.Forward(x);
        y.Backward(dy);

        float[] xs = x.ToArray(), g = dy.ToArray(), gamma = layer.Weight!.ToArray(), beta = layer.Bias!.ToArray();
        (double[] mean, double[] variance) = ChannelStats(xs, n, c, s);
        double[] expected = Reference(xs, n, c, s, mean, variance, gamma, beta, 1e-5);
        // Outputs are O(γ·3 + β) ≲ 8; float32 rounding of the statistics and the multiply-add gives ~1e-6: 1e-5 is a margin,
        // and a unbiased-for-biased swap alone would be off by √(M/(M−1)) − 1 ≥ 0.3% of x̂·γ.
        Assert.That(y.ToArray(), Is.EqualTo(expected).Within(1e-5));

        // Backward reference: ∂x = (γ/σ)(∂y − mean(∂y) − x̂·mean(∂y·x̂)); ∂γ = Σ ∂y·x̂; ∂β = Σ ∂y.
        var dx = new double[xs.Length];
        var dGamma = new double[c];
        var dBeta = new double[c];
        var meanDy = new double[c];
        var meanDyXhat = new double[c];
        int m = n * s;
        for (int k = 0; k < xs.Length; k++)
        {
            int ch = k / s % c;
            double xhat = (xs[k] - mean[ch]) / Math.Sqrt(variance[ch] + 1e-5);
            dBeta[ch] += g[k];
            dGamma[ch] += g[k] * xhat;
            meanDy[ch] += g[k] / m;
            meanDyXhat[ch] += g[k] * xhat / m;
        }
        for (int k = 0; k < xs.Length; k++)
        {
            int ch = k / s % c;
            double sigma = Math.Sqrt(variance[ch] + 1e-5);
            double xhat = (xs[k] - mean[ch]) / sigma;
            dx[k] = gamma[ch] / sigma * (g[k] - meanDy[ch] - (xhat * meanDyXhat[ch]));
        }
        // Sums of up to 140 products of O(1) terms: float rounding ~1e-6 relative; 1e-4 absolute on ∂γ, ∂β (O(10)),
        // 1e-5 on ∂x (O(1)).
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(dx).Within(1e-5));
        Assert.That(layer.Weight!.Grad!.ToArray(), Is.EqualTo(dGamma).Within(1e-4));
        Assert.That(layer.Bias!.Grad!.ToArray(), Is.EqualTo(dBeta).Within(1e-4));
    }

    [TestCaseSource(nameof(Layouts))]
    public void TrainingRecordsOneFusedOp(int[] shape)
    {
        BatchNormBase layer = Make(shape);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(44), shape).RequireGrad();

        Tensor y = layer.Forward(x);

        Assert.That(y.RecordingTape!.OpNames().ToArray(), Is.EqualTo(new[] { "batch_norm" }));
    }

    [TestCaseSource(nameof(Layouts))]
    public void LayerPassesGradientCheckInTrainingAndEval(int[] shape)
    {
        BatchNormBase layer = Make(shape);
        RandomizeAffine(layer, 45);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(46), shape);

        GradCheckResult training = GradCheck.Check(t => layer.Forward(t[0]).Tanh(), [x, layer.Weight!, layer.Bias!]);
        layer.Eval();
        GradCheckResult eval = GradCheck.Check(t => layer.Forward(t[0]).Tanh(), [x.Copy(), layer.Weight!, layer.Bias!]);

        Assert.That(training.Passed, Is.True, training.ToString());
        Assert.That(eval.Passed, Is.True, eval.ToString());
    }

    [TestCaseSource(nameof(Layouts))]
    public void EvalNormalizesWithTheRunningStatistics(int[] shape)
    {
        int n = shape[0], c = shape[1], s = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        BatchNormBase layer = Make(shape);
        RandomizeAffine(layer, 47);
        var random = new RandomGenerator(48);
        random.FillNormal(layer.RunningMean.AsSpan());
        random.FillUniform(layer.RunningVar.AsSpan(), 0.5f, 3f);
        float[] runningMean = layer.RunningMean.ToArray(), runningVar = layer.RunningVar.ToArray();
        Tensor x = Tensor.RandomNormal(random, shape, mean: 1f, std: 2f);

        layer.Eval();
        float[] y = layer.Forward(x).ToArray();

        double[] expected = Reference(x.ToArray(), n, c, s, runningMean.Select(v => (double)v).ToArray(),
            runningVar.Select(v => (double)v).ToArray(), layer.Weight!.ToArray(), layer.Bias!.ToArray(), 1e-5);
        Assert.That(y, Is.EqualTo(expected).Within(1e-5));
        Assert.That(layer.RunningMean.ToArray(), Is.EqualTo(runningMean), "eval leaves the running statistics alone");
        Assert.That(layer.NumBatchesTracked, Is.Zero);
        // One example is fine in eval (no batch statistics).
        Assert.DoesNotThrow(() => layer.Forward(Tensor.Zeros([1, .. shape[1..]])));
    }

    [TestCase(0.1f)]
    [TestCase(0.5f)]
    public void RunningStatisticsAfterKStepsEqualTheClosedForm(float momentum)
    {
        // running_k = (1 − m)^k·running_0 + Σ_t m(1 − m)^(k−t)·stat_t, with the unbiased variance stat for running_var.
        const int Steps = 5, N = 6, C = 4, H = 2, W = 3;
        var layer = new BatchNorm2d(C, momentum: momentum);
        var random = new RandomGenerator(49);
        var mean = Enumerable.Repeat(0.0, C).ToArray();
        var variance = Enumerable.Repeat(1.0, C).ToArray();
        for (int t = 1; t <= Steps; t++)
        {
            Tensor x = Tensor.RandomNormal(random, [N, C, H, W], mean: t, std: 1f + t);
            layer.Forward(x);
            (double[] batchMean, double[] batchVariance) = ChannelStats(x.ToArray(), N, C, H * W);
            int m = N * H * W;
            for (int ch = 0; ch < C; ch++)
            {
                mean[ch] = ((1 - momentum) * mean[ch]) + (momentum * batchMean[ch]);
                variance[ch] = ((1 - momentum) * variance[ch]) + (momentum * batchVariance[ch] * m / (m - 1));
            }
        }

        // Variances up to ~36: float rounding of five updates ~1e-5 relative.
        Assert.That(layer.RunningMean.ToArray(), Is.EqualTo(mean).Within(1e-5));
        Assert.That(layer.RunningVar.ToArray(), Is.EqualTo(variance).Within(1e-4));
        Assert.That(layer.NumBatchesTracked, Is.EqualTo(Steps));
    }

    [Test]
    public void NullMomentumGivesTheCumulativeAverage()
    {
        var layer = new BatchNorm1d(3, momentum: null);
        var random = new RandomGenerator(50);
        var batchMeans = new List<double[]>();
        for (int t = 0; t < 4; t++)
        {
            Tensor x = Tensor.RandomNormal(random, [10, 3], mean: t * 2f);
            layer.Forward(x);
            batchMeans.Add(ChannelStats(x.ToArray(), 10, 3, 1).Mean);
        }

        double[] average = Enumerable.Range(0, 3).Select(ch => batchMeans.Average(b => b[ch])).ToArray();
        Assert.That(layer.RunningMean.ToArray(), Is.EqualTo(average).Within(1e-5));
    }

    [Test]
    public void TrainingOutputHasZeroMeanUnitVarianceAndEvalDiffers()
    {
        var layer = new BatchNorm1d(5, affine: false);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(51), [64, 5], mean: 10f, std: 3f);

        float[] train = layer.Forward(x).ToArray();
        (double[] mean, double[] variance) = ChannelStats(train, 64, 5, 1);
        layer.Eval();
        float[] eval = layer.Forward(x).ToArray();

        Assert.That(layer.Weight, Is.Null);
        Assert.That(layer.NamedParameters(), Is.Empty);
        Assert.That(mean, Is.EqualTo(new double[5]).Within(1e-5));
        Assert.That(variance, Is.EqualTo(Enumerable.Repeat(1.0, 5)).Within(1e-4));
        // After one step the running mean is 0.1·10 = 1, far from the batch mean 10: eval output is not centred.
        Assert.That(ChannelStats(eval, 64, 5, 1).Mean.Min(), Is.GreaterThan(2.0));
    }

    [Test]
    public void ConstantChannelGivesFiniteOutputThanksToEps()
    {
        var layer = new BatchNorm1d(2);
        Tensor x = Tensor.FromArray([1f, 5f, 1f, 6f, 1f, 7f], 3, 2).RequireGrad();

        Tensor y = layer.Forward(x);
        y.Backward(Tensor.Ones(3, 2));

        Assert.That(y.ToArray().All(float.IsFinite), Is.True);
        Assert.That(x.Grad!.ToArray().All(float.IsFinite), Is.True);
        Assert.That(y[0, 0], Is.Zero, "a constant channel normalizes to 0 (then + β = 0)");
    }

    [Test]
    public void StateDictUsesPyTorchNames()
    {
        Assert.That(new BatchNorm2d(3).StateDict().Keys, Is.EquivalentTo(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }));
        Assert.That(new BatchNorm2d(3).RunningVar.ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f }));
    }

    [Test]
    public void BadInputsNameTheLayerAndShapes()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new BatchNorm1d(100).Forward(Tensor.Zeros(32, 50)))!.Message,
            Is.EqualTo("BatchNorm1d(100): input (32, 50), expected (N, 100) or (N, 100, L)."));
        Assert.That(Assert.Throws<ArgumentException>(() => new BatchNorm2d(3).Forward(Tensor.Zeros(2, 3, 4)))!.Message,
            Is.EqualTo("BatchNorm2d(3): input (2, 3, 4), expected (N, 3, H, W)."));
        Assert.That(Assert.Throws<ArgumentException>(() => new BatchNorm1d(4).Forward(Tensor.Zeros(1, 4)))!.Message,
            Does.StartWith("BatchNorm1d(4): input (1, 4) has one value per channel"));
        Assert.Throws<ArgumentException>(() => _ = new BatchNorm1d(0));
        Assert.Throws<ArgumentException>(() => _ = new BatchNorm1d(3, eps: 0f));
        Assert.Throws<ArgumentException>(() => _ = new BatchNorm1d(3, momentum: 1.5f));
        Assert.That(Assert.Throws<ArgumentException>(() => Normalization.BatchNorm(Tensor.Zeros(4, 3), null, null, null, null, training: false))!.Message,
            Does.Contain("needs running_mean and running_var"));
        Assert.That(Assert.Throws<ArgumentException>(() => Normalization.BatchNorm(Tensor.Zeros(4, 3), null, null, Tensor.Ones(2), Tensor.Zeros(2), training: true))!.Message,
            Is.EqualTo("BatchNorm: weight (2) for input (4, 3); expected (3), one value per channel."));
    }
}
