using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;
using NeuralCore.Tests.Autodiff;
using NeuralCore.Tests.Ops;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// Conv2d with the batch shared among threads (<see cref="ConvolutionKernel"/>): the same values as the direct
/// double-precision convolution, and bitwise the same results for 1, 2 and 3 threads, on batches that do and do not
/// divide into the fixed ∂W chunks.
/// </summary>
[TestFixture]
[NonParallelizable] // Tests switch Gemm.MaxThreads and the convolution's work threshold, which are global.
public sealed class ConvolutionThreadingTests
{
    private int _savedThreads;
    private double _savedThreshold;

    [SetUp]
    public void SaveSettings()
    {
        _savedThreads = Gemm.MaxThreads;
        _savedThreshold = ConvolutionKernel.MinMultiplyAddsPerThread;
    }

    [TearDown]
    public void RestoreSettings()
    {
        Gemm.MaxThreads = _savedThreads;
        ConvolutionKernel.MinMultiplyAddsPerThread = _savedThreshold;
        Tape.Current.Reset();
    }

    // Batches 1 (one image, one chunk), 4 (exactly one chunk), 7 and 9 (a ragged last chunk) and 13; stride, padding,
    // dilation, non-square windows, the pointwise case that skips im2col, and with and without bias.
    private static IEnumerable<ConvolutionTests.Case> Cases()
    {
        yield return new("k3 pad 1 batch 7 (7,3,8,7)*(5,3,3,3) +b", [7, 3, 8, 7], [5, 3, 3, 3], true, (1, 1), (1, 1), (1, 1));
        yield return new("k3 stride 2 pad 1 batch 9 (9,4,9,10)*(3,4,3,3)", [9, 4, 9, 10], [3, 4, 3, 3], false, (2, 2), (1, 1), (1, 1));
        yield return new("k3 dilation 2 pad 2 batch 6 (6,2,9,8)*(3,2,3,3) +b", [6, 2, 9, 8], [3, 2, 3, 3], true, (1, 1), (2, 2), (2, 2));
        yield return new("pointwise batch 5 (5,3,4,5)*(4,3,1,1) +b", [5, 3, 4, 5], [4, 3, 1, 1], true, (1, 1), (0, 0), (1, 1));
        yield return new("batch 1 (1,3,8,7)*(5,3,3,3) +b", [1, 3, 8, 7], [5, 3, 3, 3], true, (1, 1), (1, 1), (1, 1));
        yield return new("batch 4 k5 stride 2 pad 2 (4,1,11,8)*(2,1,5,5)", [4, 1, 11, 8], [2, 1, 5, 5], false, (2, 2), (2, 2), (1, 1));
        yield return new("batch 13 non-square (13,3,6,8)*(2,3,2,5) +b", [13, 3, 6, 8], [2, 3, 2, 5], true, (2, 3), (1, 2), (2, 1));
    }

    [TestCaseSource(nameof(Cases))]
    public void SharedBatchMatchesTheDirectConvolution(ConvolutionTests.Case c)
    {
        ConvolutionKernel.MinMultiplyAddsPerThread = 0; // even these small shapes go through the threads
        Gemm.MaxThreads = 2;

        Run(c, out float[] y, out float[] dx, out float[] dw, out float[]? db, out Tensor x, out Tensor w, out Tensor dy);

        Tensor? b = c.Bias ? Bias(c) : null;
        ConvolutionReference.AssertClose(y, ConvolutionReference.Forward(x, w, b, c.Stride, c.Padding, c.Dilation), "y");
        ConvolutionReference.AssertClose(dx, ConvolutionReference.InputGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂x");
        ConvolutionReference.AssertClose(dw, ConvolutionReference.WeightGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂w");
        if (db is not null)
        {
            // A float sum of N·Ho·Wo (≤ 13·42) terms of size ~1: 1e-4 is about 30 times its worst rounding.
            Assert.That(db, Is.EqualTo(ConvolutionReference.BiasGradient(dy)).Within(1e-4), "∂b");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ResultsAreBitwiseTheSameForAnyThreadCount(ConvolutionTests.Case c)
    {
        ConvolutionKernel.MinMultiplyAddsPerThread = 0;
        Gemm.MaxThreads = 1;
        Run(c, out float[] y1, out float[] dx1, out float[] dw1, out float[]? db1, out _, out _, out _);
        foreach (int threads in (int[])[2, 3])
        {
            Gemm.MaxThreads = threads;
            Run(c, out float[] y, out float[] dx, out float[] dw, out float[]? db, out _, out _, out _);
            Assert.That(y, Is.EqualTo(y1), $"y, {threads} threads");
            Assert.That(dx, Is.EqualTo(dx1), $"∂x, {threads} threads");
            Assert.That(dw, Is.EqualTo(dw1), $"∂w, {threads} threads");
            Assert.That(db, Is.EqualTo(db1), $"∂b, {threads} threads");
        }
    }

    [Test]
    public void TheBenchmarkLayerIsBitwiseTheSameOnOneAndTwoThreads()
    {
        // The CNN's second layer at batch 10 (three chunks, the last ragged) with the default work threshold, so the
        // threads are used because the work is large enough, as in training.
        ConvolutionTests.Case c = new("(10,32,28,28)*(32,32,3,3) +b", [10, 32, 28, 28], [32, 32, 3, 3], true, (1, 1), (1, 1), (1, 1));
        Gemm.MaxThreads = 1;
        Run(c, out float[] y1, out float[] dx1, out float[] dw1, out float[]? db1, out _, out _, out _);
        Gemm.MaxThreads = 2;
        Run(c, out float[] y2, out float[] dx2, out float[] dw2, out float[]? db2, out _, out _, out _);

        Assert.That(y2, Is.EqualTo(y1), "y");
        Assert.That(dx2, Is.EqualTo(dx1), "∂x");
        Assert.That(dw2, Is.EqualTo(dw1), "∂w");
        Assert.That(db2, Is.EqualTo(db1), "∂b");
    }

    [Test]
    public void OnlyTheWeightGradientIsComputedWhenOnlyTheWeightNeedsOne()
    {
        ConvolutionKernel.MinMultiplyAddsPerThread = 0;
        Gemm.MaxThreads = 2;
        ConvolutionTests.Case c = Cases().First();
        Tensor x = GradientCase.Normal(41, c.Input);
        Tensor w = GradientCase.Normal(42, c.Weight).RequireGrad();

        Tensor y = x.Conv2d(w, null, c.Stride, c.Padding, c.Dilation);
        Tensor dy = GradientCase.Normal(43, y.Shape.ToArray());
        y.Backward(dy);

        Assert.That(x.Grad, Is.Null);
        ConvolutionReference.AssertClose(w.Grad!.AsSpan(), ConvolutionReference.WeightGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂w");
    }

    [Test]
    public void AHelperFailureIsRethrownOnTheCaller()
    {
        // A sink too short for the batch makes the ∂x of the last images throw inside whichever thread runs them.
        ConvolutionKernel.MinMultiplyAddsPerThread = 0;
        Gemm.MaxThreads = 2;
        var window = new Window2d(2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        ConvolutionGeometry geometry = new(8, 3, window);
        float[] x = new float[8 * 2 * 25], w = new float[3 * 2 * 9], dy = new float[8 * 3 * 25];
        ConvolutionSinks sinks = new(new float[3 * 2 * 25], 0, null, 0, null, 0);

        Assert.That(() => ConvolutionKernel.Backward(geometry, x, 0, w, 0, dy, 0, sinks), Throws.InstanceOf<ArgumentException>());

        // The job is reusable afterwards.
        ConvolutionSinks good = new(new float[8 * 2 * 25], 0, null, 0, null, 0);
        Assert.That(() => ConvolutionKernel.Backward(geometry, x, 0, w, 0, dy, 0, good), Throws.Nothing);
    }

    [Test]
    public void AfterWarmUpTheThreadedKernelsAllocateNothing()
    {
        // Column buffers (144·256 floats = 144 KiB each here) belong to the job, one per participant, all grown by the
        // caller: if any participant still allocated its own, ten calls would allocate at least one such buffer. The
        // bound (all threads, 4 KiB) leaves room for the test runner's own bookkeeping only.
        ConvolutionKernel.MinMultiplyAddsPerThread = 0;
        Gemm.MaxThreads = 2;
        var window = new Window2d(16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1);
        ConvolutionGeometry geometry = new(8, 16, window);
        float[] x = new float[8 * 16 * 256], w = new float[16 * 144], y = new float[8 * 16 * 256], bias = new float[16];
        ConvolutionSinks sinks = new(new float[x.Length], 0, new float[w.Length], 0, new float[16], 0);
        for (int warmUp = 0; warmUp < 3; warmUp++)
        {
            ConvolutionKernel.Forward(geometry, x, 0, w, 0, bias, 0, y, 0);
            ConvolutionKernel.Backward(geometry, x, 0, w, 0, y, 0, sinks);
        }

        // Which thread runs which chunk is left to chance, so a helper may run its first chunk (and size its own
        // GEMM packing workspace, once per thread for the life of the process) only after the warm-up: seen once
        // on CI, 72 KiB in one window. A per-call allocation would show in every window; so one quiet window of
        // ten calls out of five is required.
        var windows = new List<long>();
        for (int window10 = 0; window10 < 5; window10++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int call = 0; call < 10; call++)
            {
                ConvolutionKernel.Forward(geometry, x, 0, w, 0, bias, 0, y, 0);
                ConvolutionKernel.Backward(geometry, x, 0, w, 0, y, 0, sinks);
            }
            windows.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
            if (windows[^1] < 4096)
            {
                break;
            }
        }

        Assert.That(windows[^1], Is.LessThan(4096),
            $"bytes allocated by each window of 10 threaded forward+backward calls: {string.Join(", ", windows)}");
    }

    private static Tensor Bias(ConvolutionTests.Case c) => GradientCase.Normal(33, c.Weight[0]);

    private static void Run(ConvolutionTests.Case c, out float[] y, out float[] dx, out float[] dw, out float[]? db,
        out Tensor x, out Tensor w, out Tensor dy)
    {
        x = GradientCase.Normal(31, c.Input).RequireGrad();
        w = GradientCase.Normal(32, c.Weight).RequireGrad();
        Tensor? b = c.Bias ? Bias(c).RequireGrad() : null;
        Tensor result = x.Conv2d(w, b, c.Stride, c.Padding, c.Dilation);
        dy = GradientCase.Normal(34, result.Shape.ToArray());
        y = result.ToArray();
        result.Backward(dy);
        dx = x.Grad!.ToArray();
        dw = w.Grad!.ToArray();
        db = b?.Grad!.ToArray();
        Tape.Current.Reset();
    }
}
