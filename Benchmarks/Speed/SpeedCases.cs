using System.Globalization;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// The cases of issue 3, in the order they run. <c>Benchmarks/peers/pytorch_speed.py</c> lists the same names;
/// change both together.
/// </summary>
internal static class SpeedCases
{
    /// <summary>Every case: square GEMMs, the MLP's GEMMs, the convolution's passes, then the networks of <see cref="StepCases"/>.</summary>
    public static IReadOnlyList<SpeedCase> All()
    {
        var cases = new List<SpeedCase>();
        foreach (int size in (int[])[64, 128, 256, 512, 1024, 2048])
        {
            cases.Add(GemmCase(false, false, size, size, size));
        }
        // A 784-1000-1000 MLP on a batch of 100, weights stored (out, in) as in PyTorch:
        cases.Add(GemmCase(false, true, 100, 1000, 784));   // forward 1: x (100, 784) · W1ᵀ, W1 (1000, 784)
        cases.Add(GemmCase(false, true, 100, 1000, 1000));  // forward 2: h (100, 1000) · W2ᵀ, W2 (1000, 1000)
        cases.Add(GemmCase(true, false, 1000, 784, 100));   // backward ∂W1 = δᵀ · x: δ (100, 1000), x (100, 784)
        cases.Add(GemmCase(false, false, 100, 784, 1000));  // backward ∂x = δ · W1: δ (100, 1000), W1 (1000, 784)
        cases.AddRange(ConvolutionCases(batch: 100, channels: 32, size: 28, outChannels: 32, kernel: 3, padding: 1));
        cases.AddRange(StepCases.All()); // issue 7: whole training steps and inference
        return cases;
    }

    /// <summary>The name of a GEMM case, e.g. <c>gemm 100x1000x784 NT</c> for C (100, 1000) = A (100, 784) · Bᵀ.</summary>
    public static string GemmName(bool transA, bool transB, int m, int n, int k) =>
        string.Create(CultureInfo.InvariantCulture, $"gemm {m}x{n}x{k} {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')}");

    /// <summary>C (m, n) = op(A) · op(B) with A and B in [-0.5, 0.5), beta = 0; 2·m·n·k FLOPs.</summary>
    private static SpeedCase GemmCase(bool transA, bool transB, int m, int n, int k)
    {
        string form = $"{(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')}";
        KeyValuePair<string, object>[] fields = [new("m", m), new("n", n), new("k", k), new("form", form)];
        return new SpeedCase("gemm", GemmName(transA, transB, m, n, k), 2.0 * m * n * k, fields, seconds =>
        {
            var random = new RandomGenerator(1);
            float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
            random.FillUniform(a, -0.5f, 0.5f);
            random.FillUniform(b, -0.5f, 0.5f);
            int lda = transA ? m : k, ldb = transB ? k : n;
            return SpeedTimer.Measure(() => Gemm.Multiply(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n), seconds);
        });
    }

    /// <summary>
    /// Conv2d (no bias, stride 1) through the tape, as training runs it. <c>forward</c> and <c>forward+backward</c>
    /// (both gradients) are timed directly; <c>backward-data</c> and <c>backward-weight</c> are the paired
    /// difference of forward+backward with only x (or only W) requiring grad and the same forward, because the
    /// backward kernels are private to <c>Tensor.Convolution.cs</c>: with one input requiring grad, the tape runs
    /// only that input's half of the backward (∂x: TN GEMM + col2im; ∂W: im2col + NT GEMM).
    /// </summary>
    private static IEnumerable<SpeedCase> ConvolutionCases(int batch, int channels, int size, int outChannels, int kernel, int padding)
    {
        int outSize = size + (2 * padding) - kernel + 1;
        double pass = 2.0 * batch * outChannels * channels * kernel * kernel * outSize * outSize;
        string shape = string.Create(CultureInfo.InvariantCulture,
            $"conv2d {batch}x{channels}x{size}x{size} {kernel}x{kernel} pad{padding} -> {outChannels}");
        ConvolutionFixture? fixture = null;
        ConvolutionFixture Fixture() => fixture ??= new ConvolutionFixture(batch, channels, size, outChannels, kernel, padding);

        KeyValuePair<string, object>[] Fields(string passName, int passes) =>
        [
            new("batch", batch), new("in_channels", channels), new("height", size), new("width", size),
            new("out_channels", outChannels), new("kernel", kernel), new("stride", 1), new("padding", padding),
            new("pass", passName), new("passes", passes),
        ];

        yield return new SpeedCase("conv2d", shape + " forward", pass, Fields("forward", 1),
            seconds => SpeedTimer.Measure(Fixture().Forward(input: true, weight: true), seconds));
        yield return new SpeedCase("conv2d", shape + " backward-data", pass, Fields("backward-data", 1),
            seconds => SpeedTimer.MeasureDifference(Fixture().Forward(input: true, weight: false),
                Fixture().ForwardBackward(input: true, weight: false), seconds));
        yield return new SpeedCase("conv2d", shape + " backward-weight", pass, Fields("backward-weight", 1),
            seconds => SpeedTimer.MeasureDifference(Fixture().Forward(input: false, weight: true),
                Fixture().ForwardBackward(input: false, weight: true), seconds));
        yield return new SpeedCase("conv2d", shape + " forward+backward", 3 * pass, Fields("forward+backward", 3),
            seconds => SpeedTimer.Measure(Fixture().ForwardBackward(input: true, weight: true), seconds));
    }

    /// <summary>The convolution's input, weight and a fixed output gradient, made once for its four cases.</summary>
    private sealed class ConvolutionFixture
    {
        private readonly Tensor _x;   // (N, C, H, W)
        private readonly Tensor _w;   // (O, C, k, k)
        private readonly Tensor _dy;  // (N, O, Ho, Wo)
        private readonly int _padding;

        public ConvolutionFixture(int batch, int channels, int size, int outChannels, int kernel, int padding)
        {
            var random = new RandomGenerator(2);
            int outSize = size + (2 * padding) - kernel + 1;
            _x = Tensor.RandomNormal(random, [batch, channels, size, size]);
            _w = Tensor.RandomNormal(random, [outChannels, channels, kernel, kernel], std: 0.05f);
            _dy = Tensor.RandomNormal(random, [batch, outChannels, outSize, outSize]);
            _padding = padding;
        }

        /// <summary>y = conv2d(x, W), recorded on the tape (its output buffer comes from the tape's pool), then the step ends.</summary>
        public Action Forward(bool input, bool weight) => () =>
        {
            SetRequiresGrad(input, weight);
            _x.Conv2d(_w, null, 1, _padding);
            Tape.Current.Reset();
        };

        /// <summary>
        /// Zero the gradients of the leaves that require grad (as a training step does), y = conv2d(x, W), y.Backward(∂y), end the step.
        /// </summary>
        public Action ForwardBackward(bool input, bool weight) => () =>
        {
            SetRequiresGrad(input, weight);
            if (input)
            {
                _x.ZeroGrad();
            }
            if (weight)
            {
                _w.ZeroGrad();
            }
            Tensor y = _x.Conv2d(_w, null, 1, _padding);
            y.Backward(_dy);
            Tape.Current.Reset();
        };

        private void SetRequiresGrad(bool input, bool weight)
        {
            _x.RequiresGrad = input;
            _w.RequiresGrad = weight;
        }
    }
}
