using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Tests.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary><see cref="Tensor.Matmul(Tensor)"/>: forward values against a naive double-precision loop, views, errors.</summary>
[TestFixture]
public sealed class MatmulOpTests
{
    private static readonly string[] s_copyThenMatmul = ["contiguous", "matmul"];

    private static IEnumerable<TestCaseData> Shapes()
    {
        yield return Case([1, 1], [1, 1]);
        yield return Case([97, 83], [83, 61]);
        yield return Case([2, 3, 4], [2, 4, 5]);
        yield return Case([5, 3, 4], [4, 2]);            // a weight shared across the batch on the right
        yield return Case([3, 4], [5, 4, 2]);            // ... and on the left
        yield return Case([2, 1, 3, 4], [5, 4, 6]);      // broadcasting on both sides
        yield return Case([1, 3, 2, 17], [4, 1, 17, 3]);
        yield return Case([3, 0], [0, 4]);               // empty inner dimension: zeros
        yield return Case([0, 3], [2, 3, 2]);            // empty result

        static TestCaseData Case(int[] a, int[] b) =>
            new TestCaseData(a, b).SetName($"Matmul {NeuralCore.Engine.Shapes.Format(a)} x {NeuralCore.Engine.Shapes.Format(b)}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void ForwardMatchesNaiveReference(int[] aShape, int[] bShape)
    {
        Tensor a = GradientCaseNormal(1, aShape);
        Tensor b = GradientCaseNormal(2, bShape);

        AssertMatchesReference(a.Matmul(b), a, b);
    }

    [Test]
    public void StaticFormEqualsInstanceForm()
    {
        Tensor a = GradientCaseNormal(3, [2, 3, 4]);
        Tensor b = GradientCaseNormal(4, [4, 5]);

        Assert.That(Tensor.Matmul(a, b).ToArray(), Is.EqualTo(a.Matmul(b).ToArray()));
    }

    // Views the GEMM reads in place (a transpose, a column slice with a padded row stride, a batch broadcast by
    // stride 0) and one it cannot (every other column), which goes through a recorded Contiguous() copy.
    private static IEnumerable<TestCaseData> Views()
    {
        yield return new TestCaseData("transposed A", "plain B").SetName("Matmul view: Aᵀ @ B");
        yield return new TestCaseData("plain A", "transposed B").SetName("Matmul view: A @ Bᵀ");
        yield return new TestCaseData("transposed A", "transposed B").SetName("Matmul view: Aᵀ @ Bᵀ");
        yield return new TestCaseData("sliced A", "strided B").SetName("Matmul view: column slice @ every other column");
        yield return new TestCaseData("batched transposed A", "expanded B").SetName("Matmul view: batched Aᵀ @ expanded B");
    }

    [TestCaseSource(nameof(Views))]
    public void ViewsGiveTheSameValuesAndGradientsAsCopies(string aKind, string bKind)
    {
        Tensor a = MakeView(aKind, 10, rows: 5, cols: 7); // (…, 5, 7)
        Tensor b = MakeView(bKind, 20, rows: 7, cols: 3); // (…, 7, 3)
        a.RequiresGrad = true;
        b.RequiresGrad = true;

        Tensor c = a.Matmul(b);
        AssertMatchesReference(c, a, b);

        // ∂L/∂c = r; the gradients of the views must equal those of contiguous copies of them.
        Tensor r = GradientCaseNormal(30, c.ShapeArray);
        c.Backward(r);
        Tensor a2 = a.Copy().RequireGrad(), b2 = b.Copy().RequireGrad();
        a2.Matmul(b2).Backward(r);
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(a2.Grad!.ToArray()).Within(1e-5f), "∂A");
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(b2.Grad!.ToArray()).Within(1e-5f), "∂B");
        Tape.Current.Reset();
    }

    [Test]
    public void OnlyANonGemmLayoutIsCopied()
    {
        Tensor transposed = MakeView("transposed A", 40, rows: 3, cols: 4).RequireGrad();
        Tensor strided = MakeView("strided B", 41, rows: 4, cols: 2).RequireGrad();

        Tensor c = transposed.Matmul(strided);

        Assert.That(c.RecordingTape!.OpNames(), Is.EqualTo(s_copyThenMatmul));
        Tape.Current.Reset();
    }

    [Test]
    public void BackwardMatchesNaiveGradientsWithBroadcastOnBothSides()
    {
        // ∂A[b] = Σ over the batches that reused A[b] of ∂C·Bᵀ; same for B with Aᵀ·∂C. A (2, 1, 3, 4), B (5, 4, 6).
        Tensor a = GradientCaseNormal(50, [2, 1, 3, 4]).RequireGrad();
        Tensor b = GradientCaseNormal(51, [5, 4, 6]).RequireGrad();
        Tensor dc = GradientCaseNormal(52, [2, 5, 3, 6]);

        a.Matmul(b).Backward(dc);

        var gradA = new double[2 * 3 * 4];
        var gradB = new double[5 * 4 * 6];
        for (int s = 0; s < 2; s++)
        {
            for (int t = 0; t < 5; t++)
            {
                for (int i = 0; i < 3; i++)
                {
                    for (int j = 0; j < 6; j++)
                    {
                        double g = dc[s, t, i, j];
                        for (int p = 0; p < 4; p++)
                        {
                            gradA[(s * 3 + i) * 4 + p] += g * b[t, p, j];
                            gradB[(t * 4 + p) * 6 + j] += a[s, 0, i, p] * g;
                        }
                    }
                }
            }
        }
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(gradA).Within(1e-4), "∂A");
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(gradB).Within(1e-4), "∂B");
        Tape.Current.Reset();
    }

    [Test]
    public void RejectsMismatchedInnerDimensionsNamingBothShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 4).Matmul(Tensor.Zeros(5, 2)));

        Assert.That(error!.Message, Is.EqualTo("Matmul: (3, 4) × (5, 2): inner dimensions 4 and 5 differ"));
    }

    [Test]
    public void RejectsOneDimensionalOperands()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Zeros(4).Matmul(Tensor.Zeros(4, 2)));

        Assert.That(error!.Message, Does.StartWith("Matmul: (4) × (4, 2): both operands need rank ≥ 2"));
    }

    [Test]
    public void RejectsBatchAxesThatDoNotBroadcast()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3, 4).Matmul(Tensor.Zeros(5, 4, 6)));

        Assert.That(error!.Message, Does.StartWith("Matmul: (2, 3, 4) × (5, 4, 6): batch dimensions (2) and (5) cannot be broadcast"));
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor GradientCaseNormal(ulong seed, int[] shape) => Autodiff.GradientCase.Normal(seed, shape);

    /// <summary>Views over a fresh buffer; "rows"×"cols" is the logical matrix shape each presents.</summary>
    private static Tensor MakeView(string kind, ulong seed, int rows, int cols)
    {
        switch (kind)
        {
            case "plain A":
            case "plain B":
                return GradientCaseNormal(seed, [rows, cols]);
            case "transposed A":
            case "transposed B":
            {
                // A (cols, rows) buffer read with strides (1, rows): the transpose view.
                Tensor stored = GradientCaseNormal(seed, [cols, rows]);
                return new Tensor(stored, 0, [rows, cols], [1, rows]);
            }
            case "sliced A":
            {
                // Columns 2 .. 2 + cols of a (rows, cols + 3) buffer: row stride cols + 3, offset 2.
                Tensor stored = GradientCaseNormal(seed, [rows, cols + 3]);
                return new Tensor(stored, 2, [rows, cols], [cols + 3, 1]);
            }
            case "strided B":
            {
                // Every other column of a (rows, 2·cols) buffer: column stride 2, which no GEMM flag expresses.
                Tensor stored = GradientCaseNormal(seed, [rows, 2 * cols]);
                return new Tensor(stored, 0, [rows, cols], [2 * cols, 2]);
            }
            case "batched transposed A":
            {
                // (3, cols, rows) buffer seen as (3, rows, cols).
                Tensor stored = GradientCaseNormal(seed, [3, cols, rows]);
                return new Tensor(stored, 0, [3, rows, cols], [rows * cols, 1, rows]);
            }
            case "expanded B":
            {
                // One (rows, cols) matrix expanded to (3, rows, cols) with batch stride 0.
                Tensor stored = GradientCaseNormal(seed, [rows, cols]);
                return new Tensor(stored, 0, [3, rows, cols], [0, cols, 1]);
            }
            default:
                throw new ArgumentException($"unknown view kind {kind}", nameof(kind));
        }
    }

    /// <summary>
    /// Compares <paramref name="c"/> with C = A·B computed in double by the definition, broadcasting the batch axes
    /// by index (a size-1 or missing axis reads index 0), element by element through the indexer so that views are
    /// read exactly as they present themselves. Tolerance: the float error bound of a k-term dot product.
    /// </summary>
    private static void AssertMatchesReference(Tensor c, Tensor a, Tensor b)
    {
        int rank = c.Rank, m = c.Size(-2), n = c.Size(-1), k = a.Size(-1);
        int[] cIndex = new int[rank], aIndex = new int[a.Rank], bIndex = new int[b.Rank];
        Assert.That(c.ShapeArray[..^2], Is.EqualTo(BroadcastBatch(a.ShapeArray, b.ShapeArray)), "batch shape");
        Assert.That((c.Size(-2), c.Size(-1)), Is.EqualTo((a.Size(-2), b.Size(-1))), "matrix shape");
        int batchCount = c.ShapeArray[..^2].Aggregate(1, (x, y) => x * y);
        for (int t = 0; t < batchCount; t++)
        {
            for (int axis = rank - 3, rest = t; axis >= 0; axis--)
            {
                cIndex[axis] = rest % c.ShapeArray[axis];
                rest /= c.ShapeArray[axis];
            }
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, magnitude = 0;
                    for (int p = 0; p < k; p++)
                    {
                        SetMatrixIndex(aIndex, cIndex, a.ShapeArray, i, p);
                        SetMatrixIndex(bIndex, cIndex, b.ShapeArray, p, j);
                        double product = (double)a[aIndex] * b[bIndex];
                        sum += product;
                        magnitude += Math.Abs(product);
                    }
                    cIndex[rank - 2] = i;
                    cIndex[rank - 1] = j;
                    Assert.That(c[cIndex], Is.EqualTo(sum).Within(GemmContractTests.Tolerance(k, magnitude)), $"C[{string.Join(", ", cIndex)}]");
                }
            }
        }
    }

    private static void SetMatrixIndex(int[] index, int[] cIndex, int[] shape, int row, int col)
    {
        int shift = cIndex.Length - index.Length;
        for (int axis = 0; axis < index.Length - 2; axis++)
        {
            index[axis] = shape[axis] == 1 ? 0 : cIndex[axis + shift];
        }
        index[^2] = row;
        index[^1] = col;
    }

    private static int[] BroadcastBatch(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length) - 2;
        var batch = new int[rank];
        for (int axis = 0; axis < rank; axis++)
        {
            int ia = axis - (rank - (a.Length - 2)), ib = axis - (rank - (b.Length - 2));
            batch[axis] = Math.Max(ia >= 0 ? a[ia] : 1, ib >= 0 ? b[ib] : 1);
        }
        return batch;
    }
}
