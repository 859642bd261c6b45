using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// <see cref="Tensor.MaxPool2d(int, int?, int)"/>, <see cref="Tensor.AvgPool2d(int, int?, int)"/> and
/// <see cref="Tensor.GlobalAvgPool2d"/>: forward and backward against naive loops in double, PyTorch's conventions
/// (stride defaults to the kernel, padding in the average's divisor, the first of tied maxima), and bad input.
/// </summary>
[TestFixture]
public sealed class PoolingTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    /// <summary>One pooling: input shape, (h, w) kernel, stride and padding.</summary>
    public sealed record Case(string Name, int[] Input, (int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Padding)
    {
        public override string ToString() => Name;
    }

    private static IEnumerable<Case> Cases()
    {
        yield return new("k2 s2 (2,3,6,6)", [2, 3, 6, 6], (2, 2), (2, 2), (0, 0));
        yield return new("k2 s2 odd size floors (1,2,7,5)", [1, 2, 7, 5], (2, 2), (2, 2), (0, 0));
        yield return new("k3 s2 p1 (2,2,7,6)", [2, 2, 7, 6], (3, 3), (2, 2), (1, 1));
        yield return new("k3 s1 p1 overlapping (1,3,5,5)", [1, 3, 5, 5], (3, 3), (1, 1), (1, 1));
        yield return new("k1 (3,2,1,1)", [3, 2, 1, 1], (1, 1), (1, 1), (0, 0));
        yield return new("kernel = plane (2,2,4,5)", [2, 2, 4, 5], (4, 5), (1, 1), (0, 0));
        yield return new("non-square k(2,3) s(1,2) p(1,1) (2,1,5,7)", [2, 1, 5, 7], (2, 3), (1, 2), (1, 1));
        yield return new("k2 p1 1x1 plane (1,2,1,1)", [1, 2, 1, 1], (2, 2), (1, 1), (1, 1));
    }

    [TestCaseSource(nameof(Cases))]
    public void MaxPoolMatchesNaiveForwardAndBackward(Case c)
    {
        Tensor x = Autodiff.GradientCase.Normal(1, c.Input).RequireGrad();

        Tensor y = x.MaxPool2d(c.Kernel, c.Stride, c.Padding);
        (double[] expected, int[] winners) = NaivePool(x, c, max: true);
        Assert.That(y.ToArray(), Is.EqualTo(expected));

        Tensor dy = Autodiff.GradientCase.Normal(2, y.Shape.ToArray());
        y.Backward(dy);
        var dx = new double[x.Count];
        for (int o = 0; o < winners.Length; o++)
        {
            dx[winners[o]] += dy.AsSpan()[o];
        }
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(dx).Within(1e-6));
    }

    [TestCaseSource(nameof(Cases))]
    public void AvgPoolMatchesNaiveForwardAndBackward(Case c)
    {
        Tensor x = Autodiff.GradientCase.Normal(3, c.Input).RequireGrad();

        Tensor y = x.AvgPool2d(c.Kernel, c.Stride, c.Padding);
        (double[] expected, _) = NaivePool(x, c, max: false);
        Assert.That(y.ToArray(), Is.EqualTo(expected).Within(1e-5));

        // ∂x[i] = Σ over the windows that contain i of ∂y / (kh·kw)
        Tensor dy = Autodiff.GradientCase.Normal(4, y.Shape.ToArray());
        y.Backward(dy);
        var dx = new double[x.Count];
        ForEachWindowElement(c, (o, i) => dx[i] += dy.AsSpan()[o] / (double)(c.Kernel.H * c.Kernel.W));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(dx).Within(1e-5));
    }

    [Test]
    public void GlobalAvgPoolIsThePlaneMeanAndSpreadsItsGradient()
    {
        Tensor x = Autodiff.GradientCase.Normal(5, [2, 3, 4, 5]).RequireGrad();

        Tensor y = x.GlobalAvgPool2d();

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        float[] values = x.ToArray();
        double[] expected = Enumerable.Range(0, 6).Select(p => values.Skip(p * 20).Take(20).Select(v => (double)v).Average()).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected).Within(1e-6));

        Tensor dy = Autodiff.GradientCase.Normal(6, [2, 3]);
        y.Backward(dy);
        double[] dx = Enumerable.Range(0, x.Count).Select(i => dy.AsSpan()[i / 20] / 20.0).ToArray();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(dx).Within(1e-7));
    }

    [Test]
    public void StrideDefaultsToTheKernelSize()
    {
        Tensor x = Autodiff.GradientCase.Normal(7, [2, 2, 7, 9]);

        Assert.That(x.MaxPool2d(3).ToArray(), Is.EqualTo(x.MaxPool2d(3, 3).ToArray()));
        Assert.That(x.MaxPool2d(3).Shape.ToArray(), Is.EqualTo(new[] { 2, 2, 2, 3 }));
        Assert.That(x.AvgPool2d(2).ToArray(), Is.EqualTo(x.AvgPool2d((2, 2), (2, 2), (0, 0)).ToArray()));
        Assert.That(x.MaxPool2d((2, 3)).Shape.ToArray(), Is.EqualTo(new[] { 2, 2, 3, 3 }));
    }

    [Test]
    public void AveragePaddingCountsInTheDivisor()
    {
        // count_include_pad=True: the corner window of a 2×2 plane of ones with kernel 3, padding 1 holds 4 ones and
        // 5 padding zeros, so its average is 4/9, not 1.
        Tensor y = Tensor.Ones(1, 1, 2, 2).AvgPool2d(3, 1, 1);

        Assert.That(y.ToArray(), Is.EqualTo(Enumerable.Repeat(4f / 9f, 4).ToArray()).Within(1e-7));
    }

    [Test]
    public void MaxPoolGivesATieToTheFirstElementAndIgnoresPadding()
    {
        // One 2×2 window of equal negative values: the max is that value (padding is never chosen, even when larger
        // than every element), and the gradient goes to the first element only.
        Tensor x = Tensor.Full(-3f, 1, 1, 2, 2).RequireGrad();

        Tensor y = x.MaxPool2d(2, 2, 1); // (1, 1, 2, 2): four windows, each holding one real element

        Assert.That(y.ToArray(), Is.EqualTo(new[] { -3f, -3f, -3f, -3f }));
        Tensor z = x.MaxPool2d(2);
        z.Backward(Tensor.Ones(1, 1, 1, 1));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 0f, 0f, 0f }));
    }

    [Test]
    public void MaxPoolPropagatesNaN()
    {
        Tensor x = Tensor.FromArray([1f, float.NaN, 3f, 2f], 1, 1, 2, 2);

        Assert.That(float.IsNaN(x.MaxPool2d(2).Item()), Is.True);
    }

    [Test]
    public void RecordedAndNoGradForwardsAgree()
    {
        Tensor x = Autodiff.GradientCase.Normal(8, [2, 3, 7, 6]);
        Tensor[] plain = [x.MaxPool2d(3, 2, 1), x.AvgPool2d(3, 2, 1), x.GlobalAvgPool2d()];

        x.RequiresGrad = true;
        Tensor[] recorded = [x.MaxPool2d(3, 2, 1), x.AvgPool2d(3, 2, 1), x.GlobalAvgPool2d()];

        Assert.That(Tape.Current.OpNames(), Is.EqualTo(new[] { "max_pool2d", "avg_pool2d", "global_avg_pool2d" }));
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.That(recorded[i].ToArray(), Is.EqualTo(plain[i].ToArray()), recorded[i].ToString());
        }
    }

    [Test]
    public void AStridedViewIsPooledByItsLogicalLayout()
    {
        Tensor stored = Autodiff.GradientCase.Normal(9, [1, 2, 5, 6]).RequireGrad();

        Tensor y = stored.Transpose(2, 3).MaxPool2d(2);
        y.Backward(Tensor.Ones(y.Shape.ToArray()));
        float[] values = y.ToArray(); // read before the next step resets the tape and releases y

        Tensor copy = stored.Transpose(2, 3).Copy().RequireGrad();
        Tensor y2 = copy.MaxPool2d(2);
        y2.Backward(Tensor.Ones(y2.Shape.ToArray()));
        Assert.That(values, Is.EqualTo(y2.ToArray()));
        Assert.That(stored.Grad!.Transpose(2, 3).ToArray(), Is.EqualTo(copy.Grad!.ToArray()));
    }

    // ---------------------------------------------------------------- bad input

    private static IEnumerable<TestCaseData> BadInputs()
    {
        yield return Bad("rank 3", [3, 8, 8], 2, 2, 0, "MaxPool2d: input (3, 8, 8) has rank 3; expected (N, C, H, W).");
        yield return Bad("empty plane", [1, 3, 0, 8], 2, 2, 0, "MaxPool2d: input (1, 3, 0, 8) has an empty 0×8 plane; expected H ≥ 1 and W ≥ 1.");
        yield return Bad("kernel 0", [1, 3, 8, 8], 0, 1, 0,
            "MaxPool2d: kernel 0×0, stride (1, 1), padding (0, 0); expected kernel ≥ 1, stride ≥ 1 and padding ≥ 0.");
        yield return Bad("stride 0", [1, 3, 8, 8], 2, 0, 0,
            "MaxPool2d: kernel 2×2, stride (0, 0), padding (0, 0); expected kernel ≥ 1, stride ≥ 1 and padding ≥ 0.");
        yield return Bad("negative padding", [1, 3, 8, 8], 2, 2, -1,
            "MaxPool2d: kernel 2×2, stride (2, 2), padding (-1, -1); expected kernel ≥ 1, stride ≥ 1 and padding ≥ 0.");
        yield return Bad("padding over half the kernel", [1, 3, 8, 8], 3, 1, 2,
            "MaxPool2d: padding (2, 2) with kernel 3×3; expected padding ≤ half the kernel size.");
        yield return Bad("kernel larger than the plane", [1, 3, 2, 2], 3, 3, 0,
            "MaxPool2d: input (1, 3, 2, 2) with kernel 3×3, stride (3, 3), padding (0, 0) gives an output of 0×0; expected at least 1×1.");

        static TestCaseData Bad(string name, int[] input, int kernel, int stride, int padding, string message) =>
            new TestCaseData(input, kernel, stride, padding, message).SetName($"MaxPool2d rejects {name}");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void RejectsBadInputNamingTheShapes(int[] input, int kernel, int stride, int padding, string message)
    {
        Tensor x = Tensor.Ones(input).RequireGrad();

        var max = Assert.Throws<ArgumentException>(() => x.MaxPool2d(kernel, stride, padding));
        var avg = Assert.Throws<ArgumentException>(() => x.AvgPool2d(kernel, stride, padding));

        Assert.That(max!.Message, Is.EqualTo(message));
        Assert.That(avg!.Message, Is.EqualTo(message.Replace("MaxPool2d", "AvgPool2d", StringComparison.Ordinal)));
        Assert.That(Tape.Current.Count, Is.Zero, "nothing recorded");
    }

    [TestCase(new[] { 2, 3, 4 })]
    [TestCase(new[] { 2, 3, 0, 4 })]
    public void GlobalAvgPoolRejectsBadShapes(int[] input)
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Ones(input).GlobalAvgPool2d());

        Assert.That(error!.Message, Is.EqualTo($"GlobalAvgPool2d: input {NeuralCore.Engine.Shapes.Format(input)}; expected (N, C, H, W) with H ≥ 1 and W ≥ 1."));
    }

    // ---------------------------------------------------------------- references

    /// <summary>Max (with the index of the first maximum) or the padded-average of every window, by the definition.</summary>
    private static (double[] Values, int[] Winners) NaivePool(Tensor x, Case c, bool max)
    {
        float[] xs = x.ToArray();
        int outputs = OutputCount(c);
        var values = new double[outputs];
        var winners = new int[outputs];
        Array.Fill(values, max ? double.NegativeInfinity : 0);
        Array.Fill(winners, -1);
        ForEachWindowElement(c, (o, i) =>
        {
            if (!max)
            {
                values[o] += xs[i] / (double)(c.Kernel.H * c.Kernel.W);
            }
            else if (winners[o] < 0 || xs[i] > values[o])
            {
                values[o] = xs[i];
                winners[o] = i;
            }
        });
        return (values, winners);
    }

    private static int OutputCount(Case c) =>
        c.Input[0] * c.Input[1] * OutputSize(c.Input[2], c.Kernel.H, c.Stride.H, c.Padding.H) * OutputSize(c.Input[3], c.Kernel.W, c.Stride.W, c.Padding.W);

    private static int OutputSize(int size, int kernel, int stride, int padding) => (size + 2 * padding - kernel) / stride + 1;

    /// <summary>Visits (output index, input index) for every in-bounds element of every window, in row-major window order.</summary>
    private static void ForEachWindowElement(Case c, Action<int, int> visit)
    {
        int planes = c.Input[0] * c.Input[1], height = c.Input[2], width = c.Input[3];
        int outHeight = OutputSize(height, c.Kernel.H, c.Stride.H, c.Padding.H);
        int outWidth = OutputSize(width, c.Kernel.W, c.Stride.W, c.Padding.W);
        for (int p = 0; p < planes; p++)
        {
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    for (int ki = 0; ki < c.Kernel.H; ki++)
                    {
                        for (int kj = 0; kj < c.Kernel.W; kj++)
                        {
                            int iy = oy * c.Stride.H - c.Padding.H + ki, ix = ox * c.Stride.W - c.Padding.W + kj;
                            if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                            {
                                visit((p * outHeight + oy) * outWidth + ox, (p * height + iy) * width + ix);
                            }
                        }
                    }
                }
            }
        }
    }
}
