using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;
using NeuralCore.Tests.Autodiff;
using NeuralCore.Tests.Ops;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// <see cref="DirectConvolution"/> (the stride-1 convolution on the padded grid) against the double-precision
/// convolution by definition, called directly so the shapes can be chosen to hit every edge: output channels that do
/// not fill a 6-row tile (1, 5, 7, 13) or a 16-channel tile (7, 17), tap counts that do not fill 6 (9, 10, 45), grids
/// whose length Ho·Wp is not a multiple of 16 or spans two slices of the sum, padding 0 and more than the kernel, asymmetric padding, dilation and
/// non-square windows; then the convolution kernel's ∂x through the flipped filters, and every result added onto
/// existing values as well as written.
/// </summary>
[TestFixture]
[NonParallelizable] // The last test switches Gemm.Kernel, which is global.
public sealed class DirectConvolutionTests
{
    public sealed record Case(string Name, int Channels, int Height, int Width, int OutChannels, (int H, int W) Kernel,
        (int H, int W) Padding, (int H, int W) Dilation)
    {
        public override string ToString() => Name;

        internal Window2d Window => new(Channels, Height, Width, Kernel.H, Kernel.W, 1, 1, Padding.H, Padding.W, Dilation.H, Dilation.W);
    }

    private static IEnumerable<Case> Cases()
    {
        yield return new("3x3 pad 1, 32 -> 32 on 9x9", 32, 9, 9, 32, (3, 3), (1, 1), (1, 1));
        yield return new("3x3 pad 1, 1 -> 7 (9 taps)", 1, 6, 5, 7, (3, 3), (1, 1), (1, 1));
        yield return new("3x3 pad 0, 5 -> 13 (45 taps)", 5, 7, 11, 13, (3, 3), (0, 0), (1, 1));
        yield return new("2x5 pad (1, 2), 2 -> 17 (20 taps)", 2, 5, 9, 17, (2, 5), (1, 2), (1, 1));
        yield return new("3x3 dilation 2 pad 2, 3 -> 5", 3, 8, 7, 5, (3, 3), (2, 2), (2, 2));
        yield return new("3x3 pad 3 (more than the kernel), 4 -> 6", 4, 4, 5, 6, (3, 3), (3, 3), (1, 1));
        yield return new("1x3 pad (0, 1), 10 -> 1 (30 taps)", 10, 3, 17, 1, (1, 3), (0, 1), (1, 1));
        yield return new("5x5 pad 2 on 1x1, 2 -> 16", 2, 1, 1, 16, (5, 5), (2, 2), (1, 1));
        yield return new("3x3 pad 1, 4 -> 16 on 20x21 (grid of 460: two slices of the ∂W sum)", 4, 20, 21, 16, (3, 3), (1, 1), (1, 1));
    }

    [TestCaseSource(nameof(Cases))]
    public void ImageMatchesTheDefinition(Case c)
    {
        if (!AssumeSupported(c))
        {
            return;
        }
        (Tensor x, Tensor w, _) = Operands(c);
        ConvolutionReference.Result expected = ConvolutionReference.Forward(x, w, null, (1, 1), c.Padding, c.Dilation);
        int taps = c.Window.ColumnRows;
        float[] packed = new float[DirectConvolution.PackedFiltersLength(c.OutChannels, taps)];
        DirectConvolution.PackFilters(w.ToArray(), c.OutChannels, taps, packed);

        float[] y = Enumerable.Repeat(float.NaN, expected.Values.Length).ToArray(); // overwritten, never read
        DirectConvolution.Image(packed, c.OutChannels, x.ToArray(), c.Window, y, accumulate: false);
        ConvolutionReference.AssertClose(y, expected, "y");

        // accumulate: onto 1, 2, 3, ... every result moves by exactly what was there.
        float[] onto = Enumerable.Range(0, y.Length).Select(i => (float)(i % 5)).ToArray();
        DirectConvolution.Image(packed, c.OutChannels, x.ToArray(), c.Window, onto, accumulate: true);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.That(onto[i] - (i % 5), Is.EqualTo(y[i]).Within(1e-5 * (1 + Math.Abs(y[i]) + (i % 5))), $"y + old, element {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WeightGradientMatchesTheDefinition(Case c)
    {
        if (!AssumeSupported(c))
        {
            return;
        }
        (Tensor x, Tensor w, Tensor dy) = Operands(c);
        ConvolutionReference.Result expected = ConvolutionReference.WeightGradient(x, w, dy, (1, 1), c.Padding, c.Dilation);
        int taps = c.Window.ColumnRows;

        float[] partial = Enumerable.Repeat(float.NaN, taps * c.OutChannels).ToArray(); // ∂Wᵀ (taps, O)
        DirectConvolution.WeightGradient(x.ToArray(), c.Window, dy.ToArray(), c.OutChannels, partial, accumulate: false);
        ConvolutionReference.AssertClose(Transpose(partial, taps, c.OutChannels), expected, "∂W");

        float[] again = (float[])partial.Clone();
        DirectConvolution.WeightGradient(x.ToArray(), c.Window, dy.ToArray(), c.OutChannels, again, accumulate: true);
        for (int i = 0; i < partial.Length; i++)
        {
            Assert.That(again[i], Is.EqualTo(2 * partial[i]).Within(1e-5 * (1 + Math.Abs(partial[i]))), $"∂W twice, element {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void InputGradientThroughTheFlippedFiltersMatchesTheDefinition(Case c)
    {
        // Through the convolution kernel, which sends ∂x to the direct path when the flipped window allows it and
        // the input channels fill the tiles, and otherwise to ∂columns + col2im: either way the values must be right.
        (Tensor x, Tensor w, Tensor dy) = Operands(c);
        ConvolutionReference.Result expected = ConvolutionReference.InputGradient(x, w, dy, (1, 1), c.Padding, c.Dilation);
        float[] dx = Enumerable.Range(0, x.Count).Select(i => (float)(i % 3)).ToArray(); // the sink is added to
        ConvolutionKernel.Backward(new ConvolutionGeometry(1, c.OutChannels, c.Window), x.ToArray(), 0, w.ToArray(), 0, dy.ToArray(), 0,
            new ConvolutionSinks(dx, 0, null, 0, null, 0));
        for (int i = 0; i < dx.Length; i++)
        {
            dx[i] -= i % 3;
        }
        ConvolutionReference.AssertClose(dx, expected, "∂x");
    }

    [Test]
    public void TheDirectPathIsTakenOnlyForStrideOneOnAvx2()
    {
        var strided = new Window2d(3, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1);
        var unit = new Window2d(3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.That(DirectConvolution.Handles(strided), Is.False);
        Assert.That(DirectConvolution.Handles(unit), Is.EqualTo(DirectConvolution.IsSupported));
        Assert.That(DirectConvolution.FillsTiles(32, 6), Is.True);   // 36 rows for 32: 11 % waste
        Assert.That(DirectConvolution.FillsTiles(1, 6), Is.False);   // 6 rows for 1
        Assert.That(DirectConvolution.FillsTiles(10, 16), Is.False); // 16 columns for 10
    }

    [Test]
    public void OtherKernelsFallBackToIm2Col()
    {
        GemmKernelKind saved = Gemm.Kernel;
        try
        {
            Gemm.Kernel = GemmKernelKind.Vector128;
            Assert.That(DirectConvolution.IsSupported, Is.False);
            Case c = Cases().First();
            (Tensor x, Tensor w, _) = Operands(c);
            Tensor y = x.Conv2d(w, null, (1, 1), c.Padding, c.Dilation);
            ConvolutionReference.AssertClose(y.ToArray(), ConvolutionReference.Forward(x, w, null, (1, 1), c.Padding, c.Dilation), "y (im2col)");
        }
        finally
        {
            Gemm.Kernel = saved;
            Tape.Current.Reset();
        }
    }

    private static bool AssumeSupported(Case c)
    {
        if (DirectConvolution.IsSupported)
        {
            return true;
        }
        // Without AVX2 (CI forces it off) the convolution must not route anything here.
        Assert.That(DirectConvolution.Handles(c.Window), Is.False);
        return false;
    }

    private static (Tensor X, Tensor W, Tensor Dy) Operands(Case c)
    {
        Tensor x = GradientCase.Normal(11, 1, c.Channels, c.Height, c.Width);
        Tensor w = GradientCase.Normal(12, c.OutChannels, c.Channels, c.Kernel.H, c.Kernel.W);
        int outHeight = ConvolutionReference.OutputSize(c.Height, c.Kernel.H, 1, c.Padding.H, c.Dilation.H);
        int outWidth = ConvolutionReference.OutputSize(c.Width, c.Kernel.W, 1, c.Padding.W, c.Dilation.W);
        Tensor dy = GradientCase.Normal(13, 1, c.OutChannels, outHeight, outWidth);
        return (x, w, dy);
    }

    private static float[] Transpose(float[] values, int rows, int cols)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int q = 0; q < cols; q++)
            {
                result[(q * rows) + r] = values[(r * cols) + q];
            }
        }
        return result;
    }
}
