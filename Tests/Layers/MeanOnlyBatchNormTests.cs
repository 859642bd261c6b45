using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// The paper's mean-only batch norm (§4): y = x − μ + b with no division by σ, its backward (∂x = ∂y − mean ∂y,
/// ∂b = Σ ∂y) against double references, the running mean (avg ← 0.9·avg + 0.1·μ) after k steps, eval, messages.
/// </summary>
[TestFixture]
public sealed class MeanOnlyBatchNormTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    public static IEnumerable<TestCaseData> Layouts()
    {
        yield return new TestCaseData(new[] { 16, 37 }).SetArgDisplayNames("1d (16, 37)");
        yield return new TestCaseData(new[] { 5, 6, 19 }).SetArgDisplayNames("1d (5, 6, 19)");
        yield return new TestCaseData(new[] { 4, 3, 5, 7 }).SetArgDisplayNames("2d (4, 3, 5, 7)");
    }

    private static MeanOnlyBatchNormBase Make(int[] shape) =>
        shape.Length == 4 ? new MeanOnlyBatchNorm2d(shape[1]) : new MeanOnlyBatchNorm1d(shape[1]);

    [TestCaseSource(nameof(Layouts))]
    public void TrainingForwardAndBackwardMatchDoubleReference(int[] shape)
    {
        int n = shape[0], c = shape[1], s = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        MeanOnlyBatchNormBase layer = Make(shape);
        new RandomGenerator(61).FillNormal(layer.Bias.AsSpan());
        Tensor x = Tensor.RandomNormal(new RandomGenerator(62), shape, mean: 3f, std: 2f).RequireGrad();
        Tensor dy = Tensor.RandomNormal(new RandomGenerator(63), shape);

        Tensor y = layer.Forward(x);
        y.Backward(dy);

        float[] xs = x.ToArray(), g = dy.ToArray(), b = layer.Bias.ToArray();
        double[] mean = BatchNormTests.ChannelStats(xs, n, c, s).Mean;
        double[] meanDy = BatchNormTests.ChannelStats(g, n, c, s).Mean;
        double[] expected = xs.Select((v, k) => v - mean[k / s % c] + b[k / s % c]).ToArray();
        double[] expectedDx = g.Select((v, k) => v - meanDy[k / s % c]).ToArray();
        double[] expectedDb = meanDy.Select(v => v * n * s).ToArray();
        // Values O(5): float rounding ~1e-6. ∂b sums up to 140 values: 1e-4.
        Assert.That(y.ToArray(), Is.EqualTo(expected).Within(1e-5));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(expectedDx).Within(1e-5));
        Assert.That(layer.Bias.Grad!.ToArray(), Is.EqualTo(expectedDb).Within(1e-4));
        Assert.That(y.RecordingTape!.OpNames().ToArray(), Is.EqualTo(new[] { "mean_only_batch_norm" }));
    }

    [TestCaseSource(nameof(Layouts))]
    public void LayerPassesGradientCheckInTrainingAndEval(int[] shape)
    {
        MeanOnlyBatchNormBase layer = Make(shape);
        new RandomGenerator(64).FillNormal(layer.Bias.AsSpan());
        Tensor x = Tensor.RandomNormal(new RandomGenerator(65), shape);

        GradCheckResult training = GradCheck.Check(t => layer.Forward(t[0]).Tanh(), [x, layer.Bias]);
        layer.Eval();
        GradCheckResult eval = GradCheck.Check(t => layer.Forward(t[0]).Tanh(), [x.Copy(), layer.Bias]);

        Assert.That(training.Passed, Is.True, training.ToString());
        Assert.That(eval.Passed, Is.True, eval.ToString());
    }

    [Test]
    public void NoDivisionByTheStandardDeviation()
    {
        // Scaling the input by 10 scales the centred output by 10 (full batch norm would undo it).
        var layer = new MeanOnlyBatchNorm1d(3);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(66), [8, 3]);

        float[] y1 = layer.Forward(x).ToArray();
        float[] y10 = layer.Forward(x * 10f).ToArray();

        Assert.That(y10, Is.EqualTo(y1.Select(v => v * 10.0)).Within(1e-4));
    }

    [Test]
    public void RunningMeanAfterKStepsEqualsTheClosedFormAndEvalUsesIt()
    {
        // The paper's code: avg ← 0.9·avg + 0.1·μ_batch, so after k steps avg = Σ_t 0.1·0.9^(k−t)·μ_t.
        const int Steps = 6, N = 5, C = 3, H = 2, W = 2;
        var layer = new MeanOnlyBatchNorm2d(C);
        new RandomGenerator(67).FillNormal(layer.Bias.AsSpan());
        var random = new RandomGenerator(68);
        var average = new double[C];
        for (int t = 1; t <= Steps; t++)
        {
            Tensor x = Tensor.RandomNormal(random, [N, C, H, W], mean: 2f * t);
            layer.Forward(x);
            double[] mu = BatchNormTests.ChannelStats(x.ToArray(), N, C, H * W).Mean;
            for (int ch = 0; ch < C; ch++)
            {
                average[ch] = (0.9 * average[ch]) + (0.1 * mu[ch]);
            }
        }
        Assert.That(layer.RunningMean.ToArray(), Is.EqualTo(average).Within(1e-5));

        layer.Eval();
        Tensor probe = Tensor.RandomNormal(random, [2, C, H, W]);
        float[] y = layer.Forward(probe).ToArray();
        float[] b = layer.Bias.ToArray();
        double[] expected = probe.ToArray().Select((v, k) => v - average[k / (H * W) % C] + b[k / (H * W) % C]).ToArray();
        Assert.That(y, Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void OneExampleInTrainingGivesTheBias()
    {
        var layer = new MeanOnlyBatchNorm1d(2);
        layer.Bias.AsSpan()[1] = 3f;

        float[] y = layer.Forward(Tensor.FromArray([5f, -7f], 1, 2)).ToArray();

        Assert.That(y, Is.EqualTo(new[] { 0f, 3f }));
    }

    [Test]
    public void StateDictAndBadInputs()
    {
        Assert.That(new MeanOnlyBatchNorm2d(3).StateDict().Keys, Is.EquivalentTo(new[] { "bias", "running_mean" }));
        Assert.That(Assert.Throws<ArgumentException>(() => new MeanOnlyBatchNorm1d(10).Forward(Tensor.Zeros(4, 3)))!.Message,
            Is.EqualTo("MeanOnlyBatchNorm1d(10): input (4, 3), expected (N, 10) or (N, 10, L)."));
        Assert.That(Assert.Throws<ArgumentException>(() => new MeanOnlyBatchNorm2d(3).Forward(Tensor.Zeros(4, 3)))!.Message,
            Is.EqualTo("MeanOnlyBatchNorm2d(3): input (4, 3), expected (N, 3, H, W)."));
        Assert.That(Assert.Throws<ArgumentException>(() => new MeanOnlyBatchNorm1d(3).Forward(Tensor.Zeros(0, 3)))!.Message,
            Does.StartWith("MeanOnlyBatchNorm1d(3): input (0, 3) is empty"));
        Assert.Throws<ArgumentException>(() => _ = new MeanOnlyBatchNorm1d(3, momentum: -0.1f));
    }
}
