using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// The kernel behind <see cref="Normalization.MeanOnlyBatchNorm"/> (one channel block at a time, split across
/// threads for large inputs) against a plain double loop, at channel counts and run lengths 1, 7, 16, 17 and 1003
/// (SIMD tails, a single vector, one past it, many); both ways of writing ∂x (stored into a fresh gradient, added to
/// an existing one); and the same bits for 1, 2 and 3 threads.
/// </summary>
[TestFixture]
[NonParallelizable] // changes Gemm.MaxThreads, which is global
public sealed class MeanOnlyBatchNormKernelTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // (C, S) with N = 3: S = 1 is the (N, C) layout (vectorized across columns), S > 1 the run layout.
    [TestCase(1, 1)]
    [TestCase(7, 1)]
    [TestCase(16, 1)]
    [TestCase(17, 1)]
    [TestCase(1003, 1)]
    [TestCase(1, 7)]
    [TestCase(7, 16)]
    [TestCase(16, 17)]
    [TestCase(17, 1003)]
    [TestCase(1003, 7)]
    [TestCase(1, 1003)]
    public void MatchesADoubleLoopForwardAndBackward(int c, int s)
    {
        const int N = 3;
        int[] shape = s == 1 ? [N, c] : [N, c, s];
        Tensor x = Tensor.RandomNormal(new RandomGenerator((ulong)((c * 31) + s)), shape, mean: 3f, std: 2f).RequireGrad();
        Tensor bias = Tensor.RandomNormal(new RandomGenerator((ulong)((c * 37) + s)), [c]).RequireGrad();
        Tensor dy = Tensor.RandomNormal(new RandomGenerator((ulong)((c * 41) + s)), shape);
        Tensor runningMean = Tensor.Zeros(c);

        Tensor y = Normalization.MeanOnlyBatchNorm(x, runningMean, bias, training: true, momentum: 0.1f);
        float[] yValues = y.ToArray();
        y.Backward(dy);                                                // x.Grad is fresh: ∂x is stored
        float[] firstDx = x.Grad!.ToArray();
        Normalization.MeanOnlyBatchNorm(x, null, bias, training: true).Backward(dy); // now added to it

        float[] xs = x.ToArray(), g = dy.ToArray(), b = bias.ToArray();
        (double[] mean, _) = ChannelMeans(xs, N, c, s);
        (double[] meanDy, double[] absSumDy) = ChannelMeans(g, N, c, s);
        double[] expectedY = xs.Select((v, k) => v - mean[k / s % c] + b[k / s % c]).ToArray();
        double[] expectedDx = g.Select((v, k) => v - meanDy[k / s % c]).ToArray();
        // Values up to ~15 (x ~ N(3, 2²)): a float sum of ≤ 3009 of them for μ, then one subtraction and one
        // addition, is good to ~1e-5; 1e-4 leaves room, and a wrong channel, offset or sign is off by O(1).
        Assert.That(yValues, Is.EqualTo(expectedY).Within(1e-4), "y");
        Assert.That(firstDx, Is.EqualTo(expectedDx).Within(1e-4), "∂x stored");
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(expectedDx.Select(v => 2 * v)).Within(2e-4), "∂x added");
        Assert.That(runningMean.ToArray(), Is.EqualTo(mean.Select(v => 0.1 * v)).Within(1e-5), "running mean");
        for (int ch = 0; ch < c; ch++)
        {
            // ∂b = Σ∂y (twice): each float addition rounds by at most ε·Σ|∂y|; 1e-5·Σ|∂y| is far below the O(√M)
            // size of a channel's sum, so a wrong channel still fails.
            double expectedDb = 2 * meanDy[ch] * N * s;
            Assert.That(bias.Grad!.ToArray()[ch], Is.EqualTo(expectedDb).Within((1e-5 * 2 * absSumDy[ch]) + 1e-6), $"∂b[{ch}]");
        }
    }

    [Test]
    public void WithoutBiasAndWithoutInputGradient()
    {
        // Only b needs a gradient: the backward computes the sums alone. Then b = null: y is just centred.
        Tensor x = Tensor.RandomNormal(new RandomGenerator(71), [4, 17, 7]);
        Tensor bias = Tensor.RandomNormal(new RandomGenerator(72), [17]).RequireGrad();
        Tensor dy = Tensor.RandomNormal(new RandomGenerator(73), [4, 17, 7]);

        Normalization.MeanOnlyBatchNorm(x, null, bias, training: true).Backward(dy);
        float[] centred = Normalization.MeanOnlyBatchNorm(x, null, null, training: true).ToArray();

        (double[] meanDy, _) = ChannelMeans(dy.ToArray(), 4, 17, 7);
        (double[] mean, _) = ChannelMeans(x.ToArray(), 4, 17, 7);
        Assert.That(bias.Grad!.ToArray(), Is.EqualTo(meanDy.Select(v => v * 28)).Within(1e-4));
        Assert.That(centred, Is.EqualTo(x.ToArray().Select((v, k) => v - mean[k / 7 % 17])).Within(1e-5));
        Assert.That(x.Grad, Is.Null);
    }

    // Over 2¹⁸ elements, so the work is split across threads: (N, C) by column blocks, (N, C, S) by channels.
    [TestCase(300, 1003, 1)]
    [TestCase(6, 17, 2601)]
    public void SameBitsForAnyThreadCount(int n, int c, int s)
    {
        int saved = Gemm.MaxThreads;
        try
        {
            int[] shape = s == 1 ? [n, c] : [n, c, s];
            Tensor xValues = Tensor.RandomNormal(new RandomGenerator(74), shape, mean: 1f);
            Tensor dy = Tensor.RandomNormal(new RandomGenerator(75), shape);
            Tensor biasValues = Tensor.RandomNormal(new RandomGenerator(76), [c]);
            float[][] Run(int threads)
            {
                Gemm.MaxThreads = threads;
                Tensor x = xValues.Copy().RequireGrad(), bias = biasValues.Copy().RequireGrad(), runningMean = Tensor.Zeros(c);
                Tensor y = Normalization.MeanOnlyBatchNorm(x, runningMean, bias, training: true);
                float[] values = y.ToArray();
                y.Backward(dy);
                return [values, runningMean.ToArray(), x.Grad!.ToArray(), bias.Grad!.ToArray()];
            }
            float[][] one = Run(1);
            float[][] two = Run(2), three = Run(3);
            for (int k = 0; k < one.Length; k++)
            {
                Assert.That(two[k], Is.EqualTo(one[k]).AsCollection, $"output {k}, 2 threads");
                Assert.That(three[k], Is.EqualTo(one[k]).AsCollection, $"output {k}, 3 threads");
            }
        }
        finally
        {
            Gemm.MaxThreads = saved;
        }
    }

    // Per channel: the mean and the sum of absolute values, in double, of an (N, C, S) array.
    private static (double[] Mean, double[] AbsSum) ChannelMeans(float[] values, int n, int c, int s)
    {
        var sum = new double[c];
        var absSum = new double[c];
        for (int k = 0; k < values.Length; k++)
        {
            sum[k / s % c] += values[k];
            absSum[k / s % c] += Math.Abs(values[k]);
        }
        return (sum.Select(v => v / ((double)n * s)).ToArray(), absSum);
    }
}
