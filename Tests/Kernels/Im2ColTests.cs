using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// <see cref="Im2Col"/> against its definition (element by element), col2im as its exact adjoint, and
/// <see cref="Window2d"/>'s output sizes and valid ranges against brute force.
/// </summary>
[TestFixture]
public sealed class Im2ColTests
{
    // (C, H, W, kh, kw, sh, sw, ph, pw, dh, dw): dense, strided (the scalar column loop), padded beyond the kernel,
    // dilated, non-square, 1×1 images (with kernel 5 most taps of a row lie wholly in the padding), and the pointwise shape.
    private static readonly int[][] s_windows =
    [
        [1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1],
        [3, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1],
        [2, 9, 10, 3, 3, 2, 2, 1, 1, 1, 1],
        [2, 7, 9, 5, 5, 1, 1, 2, 2, 1, 1],
        [2, 9, 8, 3, 3, 1, 1, 2, 2, 2, 2],
        [3, 6, 8, 2, 5, 2, 3, 1, 2, 2, 1],
        [4, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1],
        [1, 3, 3, 2, 2, 1, 1, 3, 3, 1, 1],
        [5, 4, 3, 1, 1, 1, 1, 0, 0, 1, 1],
        [2, 11, 5, 2, 3, 3, 1, 0, 2, 1, 3],
        [2, 1, 1, 5, 5, 1, 1, 2, 2, 1, 1],
        [1, 2, 3, 5, 5, 1, 2, 4, 4, 1, 1],
    ];

    private static IEnumerable<TestCaseData> Windows() =>
        s_windows.Select(g => new TestCaseData(g).SetName($"Im2Col {Window2d.FromInts(g).Describe()} on ({g[0]}, {g[1]}, {g[2]})"));

    [TestCaseSource(nameof(Windows))]
    public void ToColumnsMatchesTheDefinition(int[] geometry)
    {
        Window2d window = Window2d.FromInts(geometry);
        float[] image = Random(1, window.InputSize);
        // NaN everywhere first: every element must be written (padding entries with an explicit 0).
        float[] columns = Enumerable.Repeat(float.NaN, window.ColumnRows * window.ColumnCount).ToArray();

        Im2Col.ToColumns(image, columns, window);

        Assert.That(columns, Is.EqualTo(NaiveColumns(image, window)));
    }

    [TestCaseSource(nameof(Windows))]
    public void AccumulateToImageMatchesTheDefinitionAndAdds(int[] geometry)
    {
        Window2d window = Window2d.FromInts(geometry);
        float[] columns = Random(2, window.ColumnRows * window.ColumnCount);
        float[] image = Random(3, window.InputSize);
        double[] expected = image.Select(v => (double)v).ToArray();
        ForEachEntry(window, (row, position, pixel) => expected[pixel] += columns[row * window.ColumnCount + position]);

        Im2Col.AccumulateToImage(columns, image, window);

        Assert.That(image, Is.EqualTo(expected).Within(1e-5));
    }

    [TestCaseSource(nameof(Windows))]
    public void Col2ImIsTheAdjointOfIm2Col(int[] geometry)
    {
        // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩: the identity backward relies on.
        Window2d window = Window2d.FromInts(geometry);
        float[] x = Random(4, window.InputSize);
        float[] c = Random(5, window.ColumnRows * window.ColumnCount);
        float[] columns = new float[c.Length];
        float[] image = new float[x.Length];

        Im2Col.ToColumns(x, columns, window);
        Im2Col.AccumulateToImage(c, image, window);

        double left = columns.Zip(c, (p, q) => (double)p * q).Sum();
        double right = x.Zip(image, (p, q) => (double)p * q).Sum();
        Assert.That(left, Is.EqualTo(right).Within(1e-4 * (1 + Math.Abs(left))));
    }

    [Test]
    public void TheWorkedExampleOfTheDocComment()
    {
        // a..i = 1..9 in a 3×3 image, 2×2 kernel: each row is one tap slid over the 4 positions.
        Window2d window = new(1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1);
        float[] columns = new float[16];

        Im2Col.ToColumns([1, 2, 3, 4, 5, 6, 7, 8, 9], columns, window);

        Assert.That(columns, Is.EqualTo(new float[]
        {
            1, 2, 4, 5,
            2, 3, 5, 6,
            4, 5, 7, 8,
            5, 6, 8, 9,
        }));
    }

    [Test]
    public void ValidRangeMatchesBruteForce()
    {
        for (int width = 1; width <= 7; width++)
        {
            for (int stride = 1; stride <= 4; stride++)
            {
                for (int offset = -9; offset <= 9; offset++)
                {
                    for (int outWidth = 1; outWidth <= 8; outWidth++)
                    {
                        Window2d.ValidRange(offset, stride, width, outWidth, out int begin, out int end);
                        int[] valid = Enumerable.Range(0, outWidth).Where(ox => ox * stride + offset >= 0 && ox * stride + offset < width).ToArray();
                        string where = $"offset {offset}, stride {stride}, width {width}, outWidth {outWidth}";
                        if (valid.Length == 0)
                        {
                            Assert.That(end - begin, Is.Zero, where);
                        }
                        else
                        {
                            Assert.That((begin, end), Is.EqualTo((valid[0], valid[^1] + 1)), where);
                        }
                    }
                }
            }
        }
    }

    [TestCase(5, 3, 1, 0, 1, 3)]
    [TestCase(5, 3, 1, 1, 1, 5)]
    [TestCase(5, 3, 2, 1, 1, 3)]
    [TestCase(9, 3, 1, 2, 2, 9)]
    [TestCase(2, 3, 1, 0, 1, 0)]
    [TestCase(1, 3, 1, 1, 1, 1)]
    [TestCase(7, 2, 3, 0, 1, 2)]
    public void OutputSizeFollowsPyTorch(int size, int kernel, int stride, int padding, int dilation, int expected) =>
        Assert.That(Window2d.OutputSize(size, kernel, stride, padding, dilation), Is.EqualTo(expected));

    [Test]
    public void RejectsBuffersThatAreTooShort()
    {
        Window2d window = new(2, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1); // columns (18, 4)

        var error = Assert.Throws<ArgumentException>(() => Im2Col.ToColumns(new float[32], new float[71], window));

        Assert.That(error!.Message, Does.StartWith("Im2Col.ToColumns: image of 32 and columns of 71 elements for a (2, 4, 4) image"));
    }

    // ---------------------------------------------------------------- references

    private static float[] NaiveColumns(float[] image, Window2d window)
    {
        var columns = new float[window.ColumnRows * window.ColumnCount]; // zeros where a tap reads padding
        ForEachEntry(window, (row, position, pixel) => columns[row * window.ColumnCount + position] = image[pixel]);
        return columns;
    }

    /// <summary>Visits (column row, column position, image index) for every column entry that reads a real pixel.</summary>
    private static void ForEachEntry(Window2d w, Action<int, int, int> visit)
    {
        int outHeight = (w.Height + 2 * w.PaddingHeight - w.DilationHeight * (w.KernelHeight - 1) - 1) / w.StrideHeight + 1;
        int outWidth = (w.Width + 2 * w.PaddingWidth - w.DilationWidth * (w.KernelWidth - 1) - 1) / w.StrideWidth + 1;
        for (int c = 0; c < w.Channels; c++)
        {
            for (int ki = 0; ki < w.KernelHeight; ki++)
            {
                for (int kj = 0; kj < w.KernelWidth; kj++)
                {
                    int row = (c * w.KernelHeight + ki) * w.KernelWidth + kj;
                    for (int oy = 0; oy < outHeight; oy++)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                        {
                            int iy = oy * w.StrideHeight - w.PaddingHeight + ki * w.DilationHeight;
                            int ix = ox * w.StrideWidth - w.PaddingWidth + kj * w.DilationWidth;
                            if (iy >= 0 && iy < w.Height && ix >= 0 && ix < w.Width)
                            {
                                visit(row, oy * outWidth + ox, (c * w.Height + iy) * w.Width + ix);
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] Random(ulong seed, int count)
    {
        var values = new float[count];
        new RandomGenerator(seed).FillNormal(values);
        return values;
    }
}
