using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// Forward values of sum, mean, max, var, softmax and log_softmax against naive double-precision references;
/// result shapes; tie sharing and NaN in max; accuracy of long sums and of the two-pass variance; non-contiguous
/// inputs; bad arguments; and the hand-written SIMD operator against its scalar twin.
/// </summary>
[TestFixture]
public sealed class ReductionOpTests
{
    // Groups here hold at most 120 standard normal values. The float32 rounding of their sum grows like
    // √n·ε·|x| ≈ 11 · 6e-8 · 3 ≈ 2e-6 (the variance and mean divide it further), so 1e-4 absolute leaves a wide
    // margin, while a wrong grouping, axis or correction gives errors of order 1.
    private const double Tolerance = 1e-4;

    public enum Op
    {
        Sum,
        Mean,
        Max,
        Var,
    }

    private static IEnumerable<TestCaseData> ReductionCases()
    {
        (int[] Shape, int[]? Axes)[] layouts =
        [
            ([17], null),
            ([3, 17], null),
            ([3, 17], [1]),
            ([3, 17], [0]),
            ([3, 17], [-1]),
            ([2, 3, 5], [1]),
            ([2, 3, 5], [0, 2]),
            ([2, 3, 5], [-3, -1]),
            ([4, 1, 33], [0]),
            ([4, 1, 33], [1]),
            ([2, 3, 4, 5], [1, 3]),
            ([2, 3, 4, 5], [0, 1]),
            ([2, 3, 4, 5], [2, 3]),
        ];
        foreach (Op op in Enum.GetValues<Op>())
        {
            foreach ((int[] shape, int[]? axes) in layouts)
            {
                if (op == Op.Var && shape is [_, 1, ..] && axes is [1])
                {
                    continue; // one element per output: no degrees of freedom (VarWithoutDegreesOfFreedomThrows)
                }
                foreach (bool keepDim in new[] { false, true })
                {
                    string axesText = axes is null ? "all" : string.Join(",", axes);
                    yield return new TestCaseData(op, shape, axes, keepDim)
                        .SetName($"{op} ({string.Join(",", shape)}) axes [{axesText}] keepDim={keepDim}");
                }
            }
        }
    }

    [TestCaseSource(nameof(ReductionCases))]
    public void ReductionMatchesDoubleReference(Op op, int[] shape, int[]? axes, bool keepDim)
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(7), shape);

        Tensor y = op switch
        {
            Op.Sum => x.Sum(axes, keepDim),
            Op.Mean => x.Mean(axes, keepDim),
            Op.Max => x.Max(axes, keepDim),
            _ => x.Var(axes, correction: 1, keepDim),
        };

        (int[] expectedShape, double[] expected) = Reference(x.ToArray(), shape, axes, keepDim, op);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expectedShape));
        Assert.That(y.ToArray(), Is.EqualTo(expected).Within(Tolerance));
    }

    [Test]
    public void FullReductionsGiveRankZero()
    {
        Tensor x = Tensor.Arange(6);

        Assert.That(x.Sum().Rank, Is.Zero);
        Assert.That(x.Sum([]).Item(), Is.EqualTo(15f));
        Assert.That(x.Mean().Item(), Is.EqualTo(2.5f));
        Assert.That(x.Max().Item(), Is.EqualTo(5f));
        Assert.That(x.Var(correction: 0).Item(), Is.EqualTo(35f / 12f).Within(1e-6));
        Assert.That(x.Sum(keepDim: true).Shape.ToArray(), Is.EqualTo(Values(1)));
    }

    [Test]
    public void EmptyTensorsFollowPyTorch()
    {
        Tensor empty = Tensor.Zeros(0, 3);

        Assert.That(empty.Sum().Item(), Is.Zero);
        Assert.That(empty.Sum(0).ToArray(), Is.EqualTo(new float[3]));
        Assert.That(float.IsNaN(empty.Mean().Item()), Is.True, "mean over no elements is 0/0");
        Assert.That(empty.Max(1).Shape.ToArray(), Is.EqualTo(Values(0)));
    }

    [Test]
    public void LongSumIsAccurate()
    {
        // 1,000,003 values in [0, 1): a float running total would reach 5e5, where one ulp is 0.03, and drift by
        // ~3e-5 relative (TensorPrimitives.Sum's scalar fallback does exactly that). Summed in blocks of 1024 whose
        // totals add in double, the error is that of one block, ~1e-7 relative, on every SIMD path; 1e-6 holds
        // with margin and fails for a running total (~3e-5) or a dropped or repeated block (~1e-3).
        Tensor x = Tensor.RandomUniform(new RandomGenerator(3), [1_000_003]);
        double expected = 0;
        foreach (float v in x.ToArray())
        {
            expected += v;
        }

        Assert.That(x.Sum().Item(), Is.EqualTo(expected).Within(1e-6 * expected));
        Assert.That(x.Mean().Item(), Is.EqualTo(expected / 1_000_003).Within(1e-6 * expected / 1_000_003));
    }

    [Test]
    public void VarianceIsTwoPassAccurate()
    {
        // Values 1e4 + N(0, 1): E[x²] − mean² would cancel 1e8 against 1e8 (float ulp 8) and lose every digit.
        Tensor x = Tensor.RandomNormal(new RandomGenerator(11), [4, 1001], mean: 1e4f, std: 1f);

        Tensor v = x.Var(1);

        (_, double[] expected) = Reference(x.ToArray(), [4, 1001], [1], false, Op.Var);
        float[] actual = v.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-3 * expected[i]), $"row {i}");
        }
    }

    [Test]
    public void MaxSharesTheGradientEvenlyBetweenTies()
    {
        Tensor x = Tensor.FromArray([1f, 3f, 3f, 2f]).RequireGrad();
        x.Max().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(0f, 0.5f, 0.5f, 0f)));

        Tensor m = Tensor.FromArray(new float[,] { { 5, 5, 5 }, { 1, 2, 2 } }).RequireGrad();
        m.Max(1).Backward(Tensor.FromArray([3f, 1f]));
        Assert.That(m.Grad!.ToArray(), Is.EqualTo(Values(1f, 1f, 1f, 0f, 0.5f, 0.5f)));

        // Reduction over the outer axis (the inner axis is kept, so ties are counted per column).
        Tensor c = Tensor.FromArray(new float[,] { { 4, 1 }, { 4, 0 } }).RequireGrad();
        c.Max(0, keepDim: true).Backward(Tensor.FromArray([1f, 1f], 1, 2));
        Assert.That(c.Grad!.ToArray(), Is.EqualTo(Values(0.5f, 1f, 0.5f, 0f)));
    }

    [Test]
    public void MaxPropagatesNaN()
    {
        Tensor x = Tensor.FromArray(new float[,] { { 1, float.NaN, 2 }, { 0, 4, 3 } });

        Assert.That(float.IsNaN(x.Max().Item()), Is.True);
        float[] byRow = x.Max(1).ToArray();
        Assert.That(float.IsNaN(byRow[0]), Is.True);
        Assert.That(byRow[1], Is.EqualTo(4f));
        float[] byColumn = x.Max(0).ToArray();
        Assert.That(float.IsNaN(byColumn[1]), Is.True);
        Assert.That(byColumn[0], Is.EqualTo(1f));
        Assert.That(byColumn[2], Is.EqualTo(3f));
    }

    [TestCase(new[] { 4, 17 }, -1)]
    [TestCase(new[] { 4, 17 }, 0)]
    [TestCase(new[] { 2, 5, 33 }, 1)]
    [TestCase(new[] { 3, 4, 2, 5 }, -3)]
    [TestCase(new[] { 1003 }, 0)]
    public void SoftmaxAndLogSoftmaxMatchDoubleReference(int[] shape, int axis)
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(5), shape, std: 3f);

        (double[] softmax, double[] logSoftmax) = SoftmaxReference(x.ToArray(), shape, axis < 0 ? axis + shape.Length : axis);

        // Softmax values are in [0, 1] with float rounding ~1e-7; log-softmax values are O(10) here.
        Assert.That(x.Softmax(axis).ToArray(), Is.EqualTo(softmax).Within(1e-6));
        Assert.That(x.LogSoftmax(axis).ToArray(), Is.EqualTo(logSoftmax).Within(1e-5));
    }

    [Test]
    public void SoftmaxIsStableForHugeInputs()
    {
        // exp(1e4) overflows float; after subtracting the max the largest term is exp(0) = 1.
        Tensor x = Tensor.FromArray(new float[,] { { 1e4f, 0f, -1e4f }, { 1e4f, 1e4f, 9999f } });

        float[] softmax = x.Softmax(-1).ToArray();
        float[] logSoftmax = x.LogSoftmax(-1).ToArray();
        float[] byColumn = x.Softmax(0).ToArray();

        Assert.That(softmax.All(float.IsFinite) && logSoftmax.All(float.IsFinite) && byColumn.All(float.IsFinite), Is.True);
        Assert.That(softmax[..3], Is.EqualTo(Values(1f, 0f, 0f)));
        Assert.That(logSoftmax[..3], Is.EqualTo(Values(0f, -1e4f, -2e4f)));
        double e = Math.Exp(-1);
        Assert.That(softmax[3..], Is.EqualTo(Values(1 / (2 + e), 1 / (2 + e), e / (2 + e))).Within(1e-6));
        Assert.That(byColumn, Is.EqualTo(Values(0.5f, 0f, 0f, 0.5f, 1f, 1f)));
    }

    [Test]
    public void NonContiguousInputsGiveTheSameResults()
    {
        // A transposed view built by hand: (5, 3) with strides (1, 5) over a (3, 5) buffer.
        Tensor source = Tensor.RandomNormal(new RandomGenerator(9), [3, 5]);
        var view = new Tensor(source, 0, [5, 3], [1, 5]);
        Tensor copy = view.Copy();
        Assert.That(view.IsContiguous, Is.False);

        Assert.That(view.Sum(0).ToArray(), Is.EqualTo(copy.Sum(0).ToArray()));
        Assert.That(view.Mean(-1, keepDim: true).ToArray(), Is.EqualTo(copy.Mean(-1, keepDim: true).ToArray()));
        Assert.That(view.Max(1).ToArray(), Is.EqualTo(copy.Max(1).ToArray()));
        Assert.That(view.Var(0).ToArray(), Is.EqualTo(copy.Var(0).ToArray()));
        Assert.That(view.Softmax(-1).ToArray(), Is.EqualTo(copy.Softmax(-1).ToArray()));
        Assert.That(view.LogSoftmax(0).ToArray(), Is.EqualTo(copy.LogSoftmax(0).ToArray()));

        // Gradients arrive in the view's logical (5, 3) layout.
        view.RequiresGrad = true;
        copy.RequiresGrad = true;
        view.Var(0).Backward(Tensor.FromArray([1f, -2f, 0.5f]));
        copy.Var(0).Backward(Tensor.FromArray([1f, -2f, 0.5f]));
        Assert.That(view.Grad!.ToArray(), Is.EqualTo(copy.Grad!.ToArray()));
    }

    [Test]
    public void BadAxesThrowNamingTheOp()
    {
        Tensor x = Tensor.Zeros(2, 3);

        Assert.That(() => x.Sum(2), Throws.ArgumentException.With.Message.Contains("Sum").And.Message.Contains("(2, 3)"));
        Assert.That(() => x.Mean(-3), Throws.ArgumentException.With.Message.Contains("Mean"));
        Assert.That(() => x.Max([0, -2]), Throws.ArgumentException.With.Message.Contains("Max").And.Message.Contains("twice"));
        Assert.That(() => x.Var(5), Throws.ArgumentException.With.Message.Contains("Var"));
        Assert.That(() => x.Softmax(2), Throws.ArgumentException.With.Message.Contains("Softmax"));
        Assert.That(() => x.LogSoftmax(-3), Throws.ArgumentException.With.Message.Contains("LogSoftmax"));
        Assert.That(() => Tensor.Scalar(1f).Softmax(0), Throws.ArgumentException.With.Message.Contains("Softmax"));
    }

    [Test]
    public void MaxOverAnEmptyAxisThrows()
    {
        Assert.That(() => Tensor.Zeros(3, 0).Max(1), Throws.ArgumentException.With.Message.Contains("Max").And.Message.Contains("no elements"));
        Assert.That(() => Tensor.Zeros(0).Max(), Throws.ArgumentException.With.Message.Contains("Max"));
    }

    [Test]
    public void VarWithoutDegreesOfFreedomThrows()
    {
        Tensor x = Tensor.Zeros(4, 1);

        Assert.That(() => x.Var(1), Throws.ArgumentException.With.Message.Contains("Var").And.Message.Contains("correction 1"));
        Assert.That(() => x.Var(0, correction: 4), Throws.ArgumentException.With.Message.Contains("Var"));
        Assert.That(() => x.Var(0, correction: -1), Throws.ArgumentException.With.Message.Contains("Var"));
        Assert.That(x.Var(1, correction: 0).ToArray(), Is.EqualTo(new float[4]));
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(1003)]
    public void EqualMaskVectorPathMatchesScalarTwin(int length)
    {
        // Every third pair equal (including −0 against +0, equal in IEEE), the others differ, over negative,
        // positive and large values and infinities. A period of 3 puts both outcomes in every lane position.
        var x = new float[length];
        var y = new float[length];
        var random = new RandomGenerator((ulong)length);
        float[] specials = [-0f, float.PositiveInfinity, float.NegativeInfinity, 3e38f, -1e-30f];
        for (int i = 0; i < length; i++)
        {
            x[i] = i % 7 == 3 ? specials[i % specials.Length] : (float)random.NextNormal() * 1e3f;
            y[i] = i % 3 == 0 ? x[i] : x[i] + 1f;
            if (x[i] == 0f && y[i] == 0f)
            {
                y[i] = 0f; // +0 against −0
            }
        }
        var vector = new float[length];
        var scalar = new float[length];

        Elementwise.Zip<EqualMaskOperator>(x, y, vector);
        Elementwise.ZipScalar<EqualMaskOperator>(x, y, scalar);

        Assert.That(vector, Is.EqualTo(scalar));
        Assert.That(scalar.Sum(), Is.GreaterThan(0f).And.LessThan(length + 1f));
    }

    // ---------------------------------------------------------------- references, in double

    private static T[] Values<T>(params T[] values) => values;

    /// <summary>The reduction written the obvious way: group every element by its output index, then reduce each group.</summary>
    private static (int[] Shape, double[] Values) Reference(float[] x, int[] shape, int[]? axes, bool keepDim, Op op)
    {
        int rank = shape.Length;
        bool[] reduced = new bool[rank];
        foreach (int axis in axes is null || axes.Length == 0 ? Enumerable.Range(0, rank) : axes)
        {
            reduced[axis < 0 ? axis + rank : axis] = true;
        }
        int[] keepShape = shape.Select((size, axis) => reduced[axis] ? 1 : size).ToArray();
        int outputs = keepShape.Aggregate(1, (a, b) => a * b);
        var groups = new List<double>[outputs];
        for (int j = 0; j < outputs; j++)
        {
            groups[j] = [];
        }
        var index = new int[rank];
        for (int flat = 0; flat < x.Length; flat++)
        {
            int rest = flat;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                index[axis] = rest % shape[axis];
                rest /= shape[axis];
            }
            int output = 0;
            for (int axis = 0; axis < rank; axis++)
            {
                output = output * keepShape[axis] + (reduced[axis] ? 0 : index[axis]);
            }
            groups[output].Add(x[flat]);
        }
        double[] values = groups.Select(g => op switch
        {
            Op.Sum => g.Sum(),
            Op.Mean => g.Average(),
            Op.Max => g.Max(),
            _ => g.Sum(v => (v - g.Average()) * (v - g.Average())) / (g.Count - 1),
        }).ToArray();
        int[] resultShape = keepDim ? keepShape : shape.Where((_, axis) => !reduced[axis]).ToArray();
        return (resultShape, values);
    }

    private static (double[] Softmax, double[] LogSoftmax) SoftmaxReference(float[] x, int[] shape, int axis)
    {
        int n = shape[axis];
        int inner = shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        var softmax = new double[x.Length];
        var logSoftmax = new double[x.Length];
        for (int start = 0; start < x.Length; start += n * inner)
        {
            for (int i = 0; i < inner; i++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += Math.Exp(x[start + k * inner + i]);
                }
                for (int k = 0; k < n; k++)
                {
                    int at = start + k * inner + i;
                    softmax[at] = Math.Exp(x[at]) / sum;
                    logSoftmax[at] = x[at] - Math.Log(sum);
                }
            }
        }
        return (softmax, logSoftmax);
    }
}
