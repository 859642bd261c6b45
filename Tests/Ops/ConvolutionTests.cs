using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// <see cref="Tensor.Conv2d(Tensor, Tensor?, int, int, int)"/>: forward, backward-data, backward-weight and the bias
/// gradient against a direct double-precision convolution (<see cref="ConvolutionReference"/>), views, buffer reuse
/// and bad input.
/// </summary>
[TestFixture]
public sealed class ConvolutionTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    /// <summary>One convolution: shapes and (h, w) stride, padding, dilation.</summary>
    public sealed record Case(string Name, int[] Input, int[] Weight, bool Bias, (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation)
    {
        public override string ToString() => Name;
    }

    // Kernels 1, 3, 5 and non-square; stride 2 and 3 and a different stride per axis; padding 1, 2 and more than the
    // kernel; dilation 2; 1×1 images; batch 1 and 3; channel counts (17, 19) that leave SIMD tails in the GEMM rows;
    // the pointwise case that skips im2col and 1×1 cases that do not (stride 2, padding 1).
    private static IEnumerable<Case> Cases()
    {
        yield return new("k1 pointwise (2,3,4,5)*(4,3,1,1) +b", [2, 3, 4, 5], [4, 3, 1, 1], true, (1, 1), (0, 0), (1, 1));
        yield return new("k1 stride 2 (1,3,5,5)*(2,3,1,1)", [1, 3, 5, 5], [2, 3, 1, 1], false, (2, 2), (0, 0), (1, 1));
        yield return new("k1 padding 1 (1,2,3,3)*(2,2,1,1) +b", [1, 2, 3, 3], [2, 2, 1, 1], true, (1, 1), (1, 1), (1, 1));
        yield return new("k3 padding 1 batch 3 (3,3,8,7)*(5,3,3,3) +b", [3, 3, 8, 7], [5, 3, 3, 3], true, (1, 1), (1, 1), (1, 1));
        yield return new("k3 stride 2 padding 1 (2,4,9,10)*(3,4,3,3)", [2, 4, 9, 10], [3, 4, 3, 3], false, (2, 2), (1, 1), (1, 1));
        yield return new("k5 padding 2 (1,2,7,9)*(3,2,5,5) +b", [1, 2, 7, 9], [3, 2, 5, 5], true, (1, 1), (2, 2), (1, 1));
        yield return new("k5 stride 2 padding 2 (2,1,11,8)*(2,1,5,5)", [2, 1, 11, 8], [2, 1, 5, 5], false, (2, 2), (2, 2), (1, 1));
        yield return new("k3 dilation 2 padding 2 (2,2,9,8)*(3,2,3,3) +b", [2, 2, 9, 8], [3, 2, 3, 3], true, (1, 1), (2, 2), (2, 2));
        yield return new("k3 dilation 2 no padding (1,2,7,6)*(2,2,3,3)", [1, 2, 7, 6], [2, 2, 3, 3], false, (1, 1), (0, 0), (2, 2));
        yield return new("1x1 image k3 padding 1 batch 3 (3,4,1,1)*(2,4,3,3) +b", [3, 4, 1, 1], [2, 4, 3, 3], true, (1, 1), (1, 1), (1, 1));
        yield return new("1x1 image k5 padding 2 (2,3,1,1)*(2,3,5,5)", [2, 3, 1, 1], [2, 3, 5, 5], false, (1, 1), (2, 2), (1, 1));
        yield return new("1x1 image k1 (1,4,1,1)*(3,4,1,1) +b", [1, 4, 1, 1], [3, 4, 1, 1], true, (1, 1), (0, 0), (1, 1));
        yield return new("non-square everything (1,3,6,8)*(2,3,2,5) +b", [1, 3, 6, 8], [2, 3, 2, 5], true, (2, 3), (1, 2), (2, 1));
        yield return new("stride larger than kernel (1,2,9,9)*(2,2,2,2)", [1, 2, 9, 9], [2, 2, 2, 2], false, (3, 3), (0, 0), (1, 1));
        yield return new("padding larger than kernel (1,1,3,3)*(1,1,2,2) +b", [1, 1, 3, 3], [1, 1, 2, 2], true, (1, 1), (2, 2), (1, 1));
        yield return new("kernel = image (2,3,4,5)*(2,3,4,5) +b", [2, 3, 4, 5], [2, 3, 4, 5], true, (1, 1), (0, 0), (1, 1));
        yield return new("SIMD tails (2,17,6,6)*(19,17,3,3) +b", [2, 17, 6, 6], [19, 17, 3, 3], true, (1, 1), (1, 1), (1, 1));
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesDirectConvolution(Case c)
    {
        (Tensor x, Tensor w, Tensor? b) = MakeInputs(c, seed: 1);

        Tensor y = x.Conv2d(w, b, c.Stride, c.Padding, c.Dilation);

        ConvolutionReference.Result expected = ConvolutionReference.Forward(x, w, b, c.Stride, c.Padding, c.Dilation);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        ConvolutionReference.AssertClose(y.AsSpan(), expected, "y");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardMatchesDirectConvolutionGradients(Case c)
    {
        (Tensor x, Tensor w, Tensor? b) = MakeInputs(c, seed: 2);
        x.RequiresGrad = true;
        w.RequiresGrad = true;
        b?.RequiresGrad = true;

        Tensor y = x.Conv2d(w, b, c.Stride, c.Padding, c.Dilation);
        // The recorded forward (tape-owned result) must equal the no-grad one.
        ConvolutionReference.AssertClose(y.AsSpan(), ConvolutionReference.Forward(x, w, b, c.Stride, c.Padding, c.Dilation), "recorded y");
        Tensor dy = Autodiff.GradientCase.Normal(3, y.Shape.ToArray());
        y.Backward(dy);

        ConvolutionReference.AssertClose(x.Grad!.AsSpan(), ConvolutionReference.InputGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂x");
        ConvolutionReference.AssertClose(w.Grad!.AsSpan(), ConvolutionReference.WeightGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂w");
        if (b is not null)
        {
            Assert.That(b.Grad!.ToArray(), Is.EqualTo(ConvolutionReference.BiasGradient(dy)).Within(1e-4), "∂b");
        }
    }

    [Test]
    public void OnlyTheInputsThatRequireGradReceiveOne()
    {
        Case c = Cases().Single(k => k.Name.StartsWith("k3 stride 2", StringComparison.Ordinal));
        (Tensor x, Tensor w, _) = MakeInputs(c, seed: 4);
        w.RequiresGrad = true;

        Tensor y = x.Conv2d(w, null, c.Stride, c.Padding, c.Dilation);
        Tensor dy = Autodiff.GradientCase.Normal(5, y.Shape.ToArray());
        y.Backward(dy);

        Assert.That(x.Grad, Is.Null);
        ConvolutionReference.AssertClose(w.Grad!.AsSpan(), ConvolutionReference.WeightGradient(x, w, dy, c.Stride, c.Padding, c.Dilation), "∂w");
    }

    [Test]
    public void GradientsAccumulateAcrossTwoUses()
    {
        // y = conv(x, w) + conv(x, w): each gradient is twice that of one use, so the rule adds (+=) into the sinks.
        Tensor x = Autodiff.GradientCase.Normal(6, [2, 3, 5, 5]).RequireGrad();
        Tensor w = Autodiff.GradientCase.Normal(7, [2, 3, 3, 3]).RequireGrad();
        Tensor dy = Autodiff.GradientCase.Normal(8, [2, 2, 3, 3]);

        (x.Conv2d(w) + x.Conv2d(w)).Backward(dy);

        ConvolutionReference.Result dx = ConvolutionReference.InputGradient(x, w, dy, (1, 1), (0, 0), (1, 1));
        ConvolutionReference.Result dw = ConvolutionReference.WeightGradient(x, w, dy, (1, 1), (0, 0), (1, 1));
        ConvolutionReference.AssertClose(x.Grad!.AsSpan(), Twice(dx), "∂x");
        ConvolutionReference.AssertClose(w.Grad!.AsSpan(), Twice(dw), "∂w");

        static ConvolutionReference.Result Twice(ConvolutionReference.Result r) =>
            new(r.Values.Select(v => 2 * v).ToArray(), r.Magnitudes.Select(m => 2 * m).ToArray(), r.Shape);
    }

    [Test]
    public void ViewsGiveTheSameValuesAndGradientsAsCopies()
    {
        // x and w as transposed views (H and W swapped): read through a recorded copy, gradients reach the views.
        Tensor xStored = Autodiff.GradientCase.Normal(9, [2, 3, 7, 6]).RequireGrad();
        Tensor wStored = Autodiff.GradientCase.Normal(10, [4, 3, 2, 3]).RequireGrad();
        Tensor b = Autodiff.GradientCase.Normal(11, [4]).RequireGrad();
        Tensor y = xStored.Transpose(2, 3).Conv2d(wStored.Transpose(2, 3), b, stride: 2, padding: 1);
        Tensor dy = Autodiff.GradientCase.Normal(12, y.Shape.ToArray());
        y.Backward(dy);
        float[] values = y.ToArray(); // read before the next step resets the tape and releases y

        Tensor x2 = xStored.Transpose(2, 3).Copy().RequireGrad();
        Tensor w2 = wStored.Transpose(2, 3).Copy().RequireGrad();
        Tensor b2 = b.Copy().RequireGrad();
        Tensor y2 = x2.Conv2d(w2, b2, stride: 2, padding: 1);
        y2.Backward(dy);

        Assert.That(values, Is.EqualTo(y2.ToArray()));
        Assert.That(xStored.Grad!.Transpose(2, 3).ToArray(), Is.EqualTo(x2.Grad!.ToArray()), "∂x");
        Assert.That(wStored.Grad!.Transpose(2, 3).ToArray(), Is.EqualTo(w2.Grad!.ToArray()), "∂w");
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(b2.Grad!.ToArray()), "∂b");
    }

    [Test]
    public void IntArgumentsMeanTheSameOnBothAxes()
    {
        Tensor x = Autodiff.GradientCase.Normal(13, [1, 2, 9, 8]);
        Tensor w = Autodiff.GradientCase.Normal(14, [3, 2, 3, 3]);
        Tensor b = Autodiff.GradientCase.Normal(15, [3]);

        Assert.That(x.Conv2d(w, b, stride: 2, padding: 1, dilation: 2).ToArray(),
            Is.EqualTo(x.Conv2d(w, b, (2, 2), (1, 1), (2, 2)).ToArray()));
        Assert.That(x.Conv2d(w).ToArray(), Is.EqualTo(x.Conv2d(w, null, (1, 1), (0, 0), (1, 1)).ToArray()));
    }

    [Test]
    public void AnEmptyBatchGivesAnEmptyResult()
    {
        Tensor y = Tensor.Zeros(0, 3, 5, 5).Conv2d(Tensor.Ones(2, 3, 3, 3), Tensor.Ones(2), padding: 1);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 0, 2, 5, 5 }));
    }

    [Test]
    public void TheColumnBufferIsReusedNotReallocated()
    {
        // im2col of one (16, 32, 32) image with a 3×3 kernel is 144·1024 floats (576 KiB); the result is 64 KiB. Once the
        // pooled buffer exists, a forward allocates the result and small bookkeeping, far less than one column buffer.
        Tensor x = Autodiff.GradientCase.Normal(16, [2, 16, 32, 32]);
        Tensor w = Autodiff.GradientCase.Normal(17, [16, 16, 3, 3]);
        x.Conv2d(w, padding: 1); // warm-up: the pool creates the buffer

        long before = GC.GetAllocatedBytesForCurrentThread();
        x.Conv2d(w, padding: 1);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        long resultBytes = 2L * 16 * 32 * 32 * sizeof(float);
        Assert.That(allocated, Is.LessThan(resultBytes + 16 * 1024), $"{allocated} bytes allocated");
    }

    // ---------------------------------------------------------------- bad input

    private static IEnumerable<TestCaseData> BadInputs()
    {
        yield return Bad("channels differ", [2, 3, 8, 8], [16, 4, 3, 3], null, 1, 0, 1,
            "Conv2d: input (2, 3, 8, 8) has 3 channels, weight (16, 4, 3, 3) expects 4.");
        yield return Bad("input rank 3", [3, 8, 8], [16, 3, 3, 3], null, 1, 0, 1,
            "Conv2d: input (3, 8, 8) has rank 3; expected (N, C, H, W).");
        yield return Bad("weight rank 2", [2, 3, 8, 8], [16, 27], null, 1, 0, 1,
            "Conv2d: weight (16, 27) has rank 2; expected (O, C, kh, kw).");
        yield return Bad("bias of the wrong length", [2, 3, 8, 8], [16, 3, 3, 3], [15], 1, 0, 1,
            "Conv2d: bias (15) for weight (16, 3, 3, 3); expected (16), one value per output channel.");
        yield return Bad("bias of rank 2", [2, 3, 8, 8], [16, 3, 3, 3], [1, 16], 1, 0, 1,
            "Conv2d: bias (1, 16) for weight (16, 3, 3, 3); expected (16), one value per output channel.");
        yield return Bad("empty kernel", [2, 3, 8, 8], [16, 3, 0, 3], null, 1, 0, 1,
            "Conv2d: weight (16, 3, 0, 3) has a 0×3 kernel; expected at least 1×1.");
        yield return Bad("stride 0", [2, 3, 8, 8], [16, 3, 3, 3], null, 0, 0, 1,
            "Conv2d: stride (0, 0), padding (0, 0), dilation (1, 1); expected stride ≥ 1, padding ≥ 0 and dilation ≥ 1.");
        yield return Bad("negative padding", [2, 3, 8, 8], [16, 3, 3, 3], null, 1, -1, 1,
            "Conv2d: stride (1, 1), padding (-1, -1), dilation (1, 1); expected stride ≥ 1, padding ≥ 0 and dilation ≥ 1.");
        yield return Bad("dilation 0", [2, 3, 8, 8], [16, 3, 3, 3], null, 1, 0, 0,
            "Conv2d: stride (1, 1), padding (0, 0), dilation (0, 0); expected stride ≥ 1, padding ≥ 0 and dilation ≥ 1.");
        yield return Bad("kernel larger than the image", [1, 3, 2, 2], [4, 3, 3, 3], null, 1, 0, 1,
            "Conv2d: input (1, 3, 2, 2) with kernel 3×3, stride (1, 1), padding (0, 0), dilation (1, 1) gives an output of 0×0; " +
            "expected at least 1×1 (the dilated kernel is larger than the padded input).");
        yield return Bad("dilated kernel larger than the image", [1, 3, 5, 5], [4, 3, 3, 3], null, 1, 0, 3,
            "Conv2d: input (1, 3, 5, 5) with kernel 3×3, stride (1, 1), padding (0, 0), dilation (3, 3) gives an output of 0×0; " +
            "expected at least 1×1 (the dilated kernel is larger than the padded input).");

        static TestCaseData Bad(string name, int[] input, int[] weight, int[]? bias, int stride, int padding, int dilation, string message) =>
            new TestCaseData(input, weight, bias, stride, padding, dilation, message).SetName($"Conv2d rejects {name}");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void RejectsBadInputNamingTheShapes(int[] input, int[] weight, int[]? bias, int stride, int padding, int dilation, string message)
    {
        Tensor x = Tensor.Ones(input).RequireGrad();
        Tensor w = Tensor.Ones(weight).RequireGrad();
        Tensor? b = bias is null ? null : Tensor.Ones(bias);

        var error = Assert.Throws<ArgumentException>(() => x.Conv2d(w, b, stride, padding, dilation));

        Assert.That(error!.Message, Is.EqualTo(message));
        Assert.That(Tape.Current.Count, Is.Zero, "nothing recorded");
    }

    [Test]
    public void RejectsANonSquareEmptyOutputNamingBothSizes()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Tensor.Ones(1, 1, 9, 2).Conv2d(Tensor.Ones(1, 1, 3, 3), null, (1, 1), (0, 0), (1, 1)));

        Assert.That(error!.Message, Does.Contain("gives an output of 7×0"));
    }

    // ---------------------------------------------------------------- helpers

    private static (Tensor X, Tensor W, Tensor? B) MakeInputs(Case c, ulong seed) =>
    (
        Autodiff.GradientCase.Normal(seed * 10 + 1, c.Input),
        Autodiff.GradientCase.Normal(seed * 10 + 2, c.Weight),
        c.Bias ? Autodiff.GradientCase.Normal(seed * 10 + 3, c.Weight[0]) : null
    );
}
