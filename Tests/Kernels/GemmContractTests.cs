using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.Multiply"/> in all four transpose forms against a naive double-precision triple loop, with
/// alpha ≠ 1, beta ≠ 0, non-zero offsets and padded leading dimensions.
/// </summary>
[TestFixture]
public sealed class GemmContractTests
{
    private const float Alpha = 1.5f;
    private const float Beta = -0.75f;
    private const float CPadding = 12345f;

    // (m, n, k): a single element, odd sizes with SIMD tails on the row (n = 19, 17) and the dot (k = 13, 33),
    // and an empty inner dimension, where C = beta·C.
    private static readonly float[] s_doubled = [2f, 4f, 6f, 8f];

    private static readonly int[][] s_sizes = [[1, 1, 1], [7, 19, 13], [33, 17, 5], [5, 9, 33], [4, 3, 0]];

    private static IEnumerable<TestCaseData> Forms()
    {
        foreach (int[] size in s_sizes)
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    yield return new TestCaseData(transA, transB, size[0], size[1], size[2])
                        .SetName($"Multiply {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} m={size[0]} n={size[1]} k={size[2]}");
                }
            }
        }
    }

    [TestCaseSource(nameof(Forms))]
    public void MatchesNaiveReference(bool transA, bool transB, int m, int n, int k)
    {
        var random = new RandomGenerator((ulong)(m * 1000 + n * 10 + k));
        // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k). Padding of A and B is NaN, so a read
        // outside a matrix would poison the result; padding of C is a sentinel that must survive.
        Stored a = Stored.Make(random, transA ? k : m, transA ? m : k, offset: 3, pad: 2, padding: float.NaN);
        Stored b = Stored.Make(random, transB ? n : k, transB ? k : n, offset: 1, pad: 3, padding: float.NaN);
        Stored c = Stored.Make(random, m, n, offset: 2, pad: 1, padding: CPadding);
        float[] c0 = (float[])c.Data.Clone();

        Gemm.Multiply(transA, transB, m, n, k, Alpha, a.Data, a.Offset, a.Ld, b.Data, b.Offset, b.Ld, Beta, c.Data, c.Offset, c.Ld);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double product = (double)(transA ? a[p, i] : a[i, p]) * (transB ? b[j, p] : b[p, j]);
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                double cOld = c0[c.Offset + i * c.Ld + j];
                double expected = Alpha * sum + Beta * cOld;
                Assert.That(c[i, j], Is.EqualTo(expected).Within(Tolerance(k, Alpha * magnitude + Math.Abs(Beta * cOld))), $"C[{i},{j}]");
            }
        }
        Assert.That(c.PaddingValues(), Is.All.EqualTo(CPadding), "C's padding and the elements before its offset are untouched");
    }

    /// <summary>
    /// A float dot product of k terms, scaled and added to beta·C, carries at most about (k + 3) roundings of
    /// relative size 2⁻²⁴ of Σ|terms| (the classic γₖ bound); twice that is still far below the error of a single
    /// wrong or missing term.
    /// </summary>
    internal static double Tolerance(int k, double magnitude) => 2 * (k + 3) * Math.Pow(2, -24) * magnitude + 1e-30;

    [Test]
    public void BetaZeroIgnoresOldContentsOfC()
    {
        float[] a = [2f, 3f];      // 1×2
        float[] b = [5f, 7f];      // 2×1
        float[] c = [float.NaN];   // write-only when beta = 0, as in BLAS

        Gemm.Multiply(false, false, 1, 1, 2, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);

        Assert.That(c[0], Is.EqualTo(31f));
    }

    [Test]
    public void AlphaZeroScalesCByBeta()
    {
        float[] a = [1f, 2f, 3f, 4f];
        float[] c = [1f, 2f, 3f, 4f];

        Gemm.Multiply(false, false, 2, 2, 2, 0f, a, 0, 2, a, 0, 2, 2f, c, 0, 2);

        Assert.That(c, Is.EqualTo(s_doubled));
    }

    [Test]
    public void RejectsALeadingDimensionShorterThanARow()
    {
        float[] a = new float[12], b = new float[12], c = new float[12];

        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3));

        Assert.That(error!.Message, Does.StartWith("Gemm: A is 3×4").And.Contain("lda must be ≥ 4"));
    }

    [Test]
    public void RejectsAnArrayTooShortBeforeWritingAnything()
    {
        float[] a = new float[6], b = new float[8], c = Enumerable.Repeat(9f, 6).ToArray();

        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 3, 3, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3));

        Assert.That(error!.Message, Does.StartWith("Gemm: B is 3×3").And.Contain("needs 9 elements"));
        Assert.That(c, Is.All.EqualTo(9f), "C was not partly written");
    }

    [Test]
    public void RejectsNegativeSizes()
    {
        float[] x = new float[4];

        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, -1, 2, 2, 1f, x, 0, 2, x, 0, 2, 0f, x, 0, 2));

        Assert.That(error!.Message, Does.StartWith("Gemm: sizes m=-1"));
    }

    /// <summary>A rows×cols matrix inside a larger array: after <c>offset</c> elements, rows <c>ld = cols + pad</c> apart.</summary>
    private sealed record Stored(float[] Data, int Offset, int Ld, int Rows, int Cols)
    {
        public float this[int i, int j] => Data[Offset + i * Ld + j];

        public static Stored Make(RandomGenerator random, int rows, int cols, int offset, int pad, float padding)
        {
            int ld = Math.Max(cols, 1) + pad;
            var array = new float[offset + rows * ld + pad];
            System.Array.Fill(array, padding);
            var values = new float[Math.Max(cols, 1)];
            for (int i = 0; i < rows; i++)
            {
                random.FillNormal(values, 0f, 1f);
                values.AsSpan(0, cols).CopyTo(array.AsSpan(offset + i * ld, cols));
            }
            return new Stored(array, offset, ld, rows, cols);
        }

        public IEnumerable<float> PaddingValues()
        {
            for (int at = 0; at < Data.Length; at++)
            {
                int inside = at - Offset;
                bool isElement = inside >= 0 && inside / Ld < Rows && inside % Ld < Cols;
                if (!isElement)
                {
                    yield return Data[at];
                }
            }
        }
    }
}
