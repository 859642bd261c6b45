using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// Views (reshape, transpose, permute, squeeze, unsqueeze, narrow, expand), joins (concat, stack) and indexing
/// (gather, index_select): memory sharing, shapes and strides, values against naive index arithmetic in double, and
/// bad input. Gradients are checked in <c>GradientCases.Views</c>; the backward tests here pin down exact values
/// where the scatter-add must accumulate.
/// </summary>
[TestFixture]
public sealed class ViewOpTests
{
    // Values are copies of float data (no arithmetic), so the expected values are compared exactly.

    private static Tensor Sequence(params int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, count).Select(i => (float)((i * 7 % 23) - 11)).ToArray(), shape);
    }

    private static string StrideText(Tensor t) => $"({string.Join(", ", t.Strides.ToArray())})";

    private static T[] Values<T>(params T[] values) => values;

    private static int[] RowMajorStrides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }
        return strides;
    }

    private static IEnumerable<int[]> AllIndices(int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        for (int flat = 0; flat < count; flat++)
        {
            var index = new int[shape.Length];
            int rest = flat;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                index[axis] = rest % shape[axis];
                rest /= shape[axis];
            }
            yield return index;
        }
    }

    private static double At(float[] values, int[] shape, int[] index)
    {
        int[] strides = RowMajorStrides(shape);
        int flat = 0;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            flat += index[axis] * strides[axis];
        }
        return values[flat];
    }

    // ------------------------------------------------------------ reshape

    [Test]
    public void ReshapeOfContiguousIsAViewSharingTheBuffer()
    {
        Tensor x = Sequence(24);
        Tensor y = x.Reshape(4, -1);

        Assert.That(y.ShapeText, Is.EqualTo("(4, 6)"));
        Assert.That(StrideText(y), Is.EqualTo("(6, 1)"));
        Assert.That(y.ToArray(), Is.EqualTo(x.ToArray()));
        y[1, 2] = 100f;
        Assert.That(x[8], Is.EqualTo(100f), "a write through the view shows in the base");
    }

    [Test]
    public void ReshapeOfNonContiguousCopiesInRowMajorOrder()
    {
        Tensor x = Sequence(3, 4);
        Tensor t = x.T; // (4, 3)
        Tensor y = t.Reshape(2, 6);

        float[] expected = AllIndices([4, 3]).Select(i => (float)At(x.ToArray(), [3, 4], [i[1], i[0]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        y[0, 0] = 100f;
        Assert.That(x[0, 0], Is.Not.EqualTo(100f), "a copy does not share the base's buffer");
    }

    [Test]
    public void ReshapeToAndFromAScalar()
    {
        Tensor scalar = Tensor.FromArray([5f], 1, 1).Reshape();
        Assert.That(scalar.Rank, Is.Zero);
        Assert.That(scalar.Item(), Is.EqualTo(5f));
        Assert.That(scalar.Reshape(-1).ShapeText, Is.EqualTo("(1)"));
    }

    [TestCase(new[] { 5, 5 }, "24 elements")]
    [TestCase(new[] { -1, -1 }, "more than one")]
    [TestCase(new[] { 5, -1 }, "does not divide")]
    [TestCase(new[] { -2, 12 }, "size -2")]
    public void ReshapeRejectsBadShapes(int[] shape, string expected)
    {
        Tensor x = Sequence(2, 3, 4);

        var error = Assert.Throws<ArgumentException>(() => x.Reshape(shape));
        Assert.That(error.Message, Does.StartWith("Reshape:").And.Contain(expected));
    }

    [Test]
    public void ReshapeCannotInferFromZeroElements()
    {
        Tensor x = Tensor.Zeros(0, 3);

        Assert.That(x.Reshape(3, 0).ShapeText, Is.EqualTo("(3, 0)"));
        var error = Assert.Throws<ArgumentException>(() => x.Reshape(0, -1));
        Assert.That(error.Message, Does.StartWith("Reshape:"));
    }

    // ------------------------------------------------------------ transpose, permute

    [Test]
    public void TransposeSwapsShapeAndStridesAndSharesTheBuffer()
    {
        Tensor x = Sequence(2, 3, 5);
        Tensor y = x.Transpose(0, -1);

        Assert.That(y.ShapeText, Is.EqualTo("(5, 3, 2)"));
        Assert.That(StrideText(y), Is.EqualTo("(1, 5, 15)"));
        Assert.That(y.IsContiguous, Is.False);
        float[] xs = x.ToArray();
        float[] expected = AllIndices([5, 3, 2]).Select(i => (float)At(xs, [2, 3, 5], [i[2], i[1], i[0]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        y[4, 1, 0] = 100f;
        Assert.That(x[0, 1, 4], Is.EqualTo(100f));
    }

    [Test]
    public void TIsTheTwoDimensionalTranspose()
    {
        Tensor x = Sequence(3, 17);
        Tensor y = x.T;

        Assert.That(y.ShapeText, Is.EqualTo("(17, 3)"));
        Assert.That(y[16, 2], Is.EqualTo(x[2, 16]));
        Assert.That(y.T.ToArray(), Is.EqualTo(x.ToArray()));
        var error = Assert.Throws<InvalidOperationException>(() => _ = Sequence(2, 3, 4).T);
        Assert.That(error.Message, Does.StartWith("T:"));
    }

    [Test]
    public void PermuteMatchesNaiveIndexing()
    {
        int[] shape = [2, 3, 4, 5];
        Tensor x = Sequence(shape);
        Tensor y = x.Permute(0, -2, -1, 1); // (N, C, H, W) -> (N, H, W, C)

        Assert.That(y.ShapeText, Is.EqualTo("(2, 4, 5, 3)"));
        float[] xs = x.ToArray();
        float[] expected = AllIndices([2, 4, 5, 3]).Select(i => (float)At(xs, shape, [i[0], i[3], i[1], i[2]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        Assert.That(y.Contiguous().ToArray(), Is.EqualTo(expected));
    }

    [TestCase(new[] { 0, 1 }, "expected a permutation")]
    [TestCase(new[] { 0, 1, 1 }, "twice")]
    [TestCase(new[] { 0, 1, 3 }, "out of range")]
    public void PermuteRejectsBadPermutations(int[] axes, string expected)
    {
        Tensor x = Sequence(2, 3, 4);

        var error = Assert.Throws<ArgumentException>(() => x.Permute(axes));
        Assert.That(error.Message, Does.StartWith("Permute:").And.Contain(expected));
    }

    [Test]
    public void TransposeRejectsOutOfRangeAxes()
    {
        var error = Assert.Throws<ArgumentException>(() => Sequence(2, 3).Transpose(0, 2));
        Assert.That(error.Message, Does.StartWith("Transpose:").And.Contain("axis 2"));
    }

    // ------------------------------------------------------------ squeeze, unsqueeze

    [Test]
    public void SqueezeAndUnsqueezeChangeOnlySizeOneAxes()
    {
        Tensor x = Sequence(1, 3, 1, 2);

        Assert.That(x.Squeeze().ShapeText, Is.EqualTo("(3, 2)"));
        Assert.That(x.Squeeze(-2).ShapeText, Is.EqualTo("(1, 3, 2)"));
        Assert.That(x.Squeeze().Unsqueeze(0).ShapeText, Is.EqualTo("(1, 3, 2)"));
        Assert.That(x.Squeeze().Unsqueeze(-1).ShapeText, Is.EqualTo("(3, 2, 1)"));
        Assert.That(x.Squeeze().Unsqueeze(1).ShapeText, Is.EqualTo("(3, 1, 2)"));
        Assert.That(x.Squeeze().Unsqueeze(1).IsContiguous, Is.True);
        Assert.That(x.Squeeze().ToArray(), Is.EqualTo(x.ToArray()));
        Tensor view = x.Squeeze();
        view[2, 1] = 100f;
        Assert.That(x[0, 2, 0, 1], Is.EqualTo(100f));
    }

    [Test]
    public void UnsqueezeOfATransposeKeepsItsValues()
    {
        Tensor x = Sequence(3, 4);
        Tensor y = x.T.Unsqueeze(1); // (4, 1, 3)

        Assert.That(y.ShapeText, Is.EqualTo("(4, 1, 3)"));
        Assert.That(y.ToArray(), Is.EqualTo(x.T.ToArray()));
    }

    [Test]
    public void SqueezeOfANonUnitAxisThrows()
    {
        var error = Assert.Throws<ArgumentException>(() => Sequence(2, 3).Squeeze(1));
        Assert.That(error.Message, Does.StartWith("Squeeze:").And.Contain("size 3"));
    }

    [TestCase(3)]
    [TestCase(-4)]
    public void UnsqueezeRejectsOutOfRangeAxes(int axis)
    {
        var error = Assert.Throws<ArgumentException>(() => Sequence(2, 3).Unsqueeze(axis));
        Assert.That(error.Message, Does.StartWith("Unsqueeze:").And.Contain($"axis {axis}"));
    }

    // ------------------------------------------------------------ narrow (slice)

    [Test]
    public void NarrowIsAStridedViewOfTheRange()
    {
        Tensor x = Sequence(5, 17);
        Tensor y = x.Narrow(1, 3, 9);

        Assert.That(y.ShapeText, Is.EqualTo("(5, 9)"));
        Assert.That(StrideText(y), Is.EqualTo("(17, 1)"));
        float[] xs = x.ToArray();
        float[] expected = AllIndices([5, 9]).Select(i => (float)At(xs, [5, 17], [i[0], i[1] + 3])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        y[4, 0] = 100f;
        Assert.That(x[4, 3], Is.EqualTo(100f));
    }

    [Test]
    public void NarrowWithNegativeStartCountsFromTheEnd()
    {
        Tensor x = Sequence(6);

        Assert.That(x.Narrow(0, -2, 2).ToArray(), Is.EqualTo(x.ToArray()[4..]));
        Assert.That(x.Narrow(-1, 6, 0).Count, Is.Zero);
    }

    [TestCase(0, 4, 3)]
    [TestCase(0, 7, 0)]
    [TestCase(0, -7, 1)]
    [TestCase(0, 0, -1)]
    [TestCase(2, 0, 1)]
    public void NarrowRejectsRangesOutsideTheAxis(int axis, int start, int length)
    {
        var error = Assert.Throws<ArgumentException>(() => Sequence(6, 2).Narrow(axis, start, length));
        Assert.That(error.Message, Does.StartWith("Narrow:"));
    }

    // ------------------------------------------------------------ expand

    [Test]
    public void ExpandBroadcastsWithStrideZero()
    {
        Tensor x = Sequence(3, 1);
        Tensor y = x.Expand(2, -1, 4);

        Assert.That(y.ShapeText, Is.EqualTo("(2, 3, 4)"));
        Assert.That(StrideText(y), Is.EqualTo("(0, 1, 0)"));
        float[] xs = x.ToArray();
        float[] expected = AllIndices([2, 3, 4]).Select(i => xs[i[1]]).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        x[1, 0] = 100f;
        Assert.That(y[1, 1, 3], Is.EqualTo(100f), "the base's change shows through every expanded copy");
    }

    [TestCase(new[] { 3, 4 }, "size 2")]
    [TestCase(new[] { 5 }, "at least 2")]
    [TestCase(new[] { -1, 2, 4 }, "new leading axis")]
    public void ExpandRejectsBadShapes(int[] shape, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Sequence(2, 1).Expand(shape));
        Assert.That(error.Message, Does.StartWith("Expand:").And.Contain(expected));
    }

    // ------------------------------------------------------------ concat, stack

    [Test]
    public void ConcatMatchesNaiveJoin()
    {
        Tensor a = Sequence(2, 3, 4);
        Tensor b = Sequence(4, 3, 2).Permute(2, 1, 0); // (2, 3, 4), not contiguous
        Tensor c = Sequence(2, 1, 4);
        Tensor y = Tensor.Concat([a, b, c], -2);

        Assert.That(y.ShapeText, Is.EqualTo("(2, 7, 4)"));
        float[] av = a.ToArray(), bv = b.ToArray(), cv = c.ToArray();
        float[] expected = AllIndices([2, 7, 4]).Select(i =>
            i[1] < 3 ? (float)At(av, [2, 3, 4], i)
            : i[1] < 6 ? (float)At(bv, [2, 3, 4], [i[0], i[1] - 3, i[2]])
            : (float)At(cv, [2, 1, 4], [i[0], 0, i[2]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        a[0, 0, 0] = 100f;
        Assert.That(y[0, 0, 0], Is.Not.EqualTo(100f), "concat copies");
    }

    [Test]
    public void ConcatAcceptsArraysAndLists()
    {
        Tensor a = Sequence(2), b = Sequence(3);
        Tensor[] array = [a, b];
        List<Tensor> list = [a, b];

        Assert.That(Tensor.Concat(array, 0).ToArray(), Is.EqualTo(a.ToArray().Concat(b.ToArray())));
        Assert.That(Tensor.Concat(list, 0).ToArray(), Is.EqualTo(a.ToArray().Concat(b.ToArray())));
    }

    [Test]
    public void ConcatRejectsBadInput()
    {
        Tensor a = Sequence(2, 3);

        Assert.Multiple(() =>
        {
            Assert.That(() => Tensor.Concat([a, Sequence(2, 4)], 0),
                Throws.ArgumentException.With.Message.StartsWith("Concat:").And.Message.Contains("(2, 4)"));
            Assert.That(() => Tensor.Concat([a, Sequence(2, 3, 1)], 0),
                Throws.ArgumentException.With.Message.StartsWith("Concat:").And.Message.Contains("same rank"));
            Assert.That(() => Tensor.Concat([a, a], 2),
                Throws.ArgumentException.With.Message.StartsWith("Concat:").And.Message.Contains("axis 2"));
            Assert.That(() => Tensor.Concat(ReadOnlySpan<Tensor>.Empty, 0),
                Throws.ArgumentException.With.Message.StartsWith("Concat:").And.Message.Contains("no tensors"));
            Assert.That(() => Tensor.Concat([Tensor.Scalar(1f)], 0),
                Throws.ArgumentException.With.Message.StartsWith("Concat:"));
        });
    }

    [Test]
    public void StackPutsEachTensorAtItsIndexOfTheNewAxis()
    {
        Tensor a = Sequence(2, 5), b = a * 2f, c = Sequence(5, 2).T;
        Tensor y = Tensor.Stack([a, b, c], 1);

        Assert.That(y.ShapeText, Is.EqualTo("(2, 3, 5)"));
        float[][] parts = [a.ToArray(), b.ToArray(), c.ToArray()];
        float[] expected = AllIndices([2, 3, 5]).Select(i => (float)At(parts[i[1]], [2, 5], [i[0], i[2]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
        Assert.That(Tensor.Stack([a, b], -1).ShapeText, Is.EqualTo("(2, 5, 2)"));
        Assert.That(Tensor.Stack(new List<Tensor> { Tensor.Scalar(1f), Tensor.Scalar(2f) }, 0).ToArray(), Is.EqualTo(Values(1f, 2f)));
    }

    [Test]
    public void StackRejectsBadInput()
    {
        Tensor a = Sequence(2, 5);

        Assert.Multiple(() =>
        {
            Assert.That(() => Tensor.Stack([a, Sequence(5, 2)], 0),
                Throws.ArgumentException.With.Message.StartsWith("Stack:").And.Message.Contains("(5, 2)"));
            Assert.That(() => Tensor.Stack([a, a], 3),
                Throws.ArgumentException.With.Message.StartsWith("Stack:").And.Message.Contains("axis 3"));
            Assert.That(() => Tensor.Stack([a, a], -4),
                Throws.ArgumentException.With.Message.StartsWith("Stack:").And.Message.Contains("axis -4"));
            Assert.That(() => Tensor.Stack(ReadOnlySpan<Tensor>.Empty, 0),
                Throws.ArgumentException.With.Message.StartsWith("Stack:"));
        });
    }

    // ------------------------------------------------------------ gather, index_select

    [Test]
    public void GatherMatchesNaiveIndexing()
    {
        Tensor x = Sequence(4, 17);
        int[] index = [0, 16, 16, 3, 5, 5, 1, 2, 9];
        Tensor y = x.Gather(1, index, [3, 3]);

        Assert.That(y.ShapeText, Is.EqualTo("(3, 3)"));
        float[] xs = x.ToArray();
        float[] expected = AllIndices([3, 3]).Select(i => (float)At(xs, [4, 17], [i[0], index[(i[0] * 3) + i[1]]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void GatherReadsNonContiguousInputs()
    {
        Tensor x = Sequence(5, 3);
        int[] index = [2, 0, 1, 1, 2, 0];
        Tensor y = x.T.Gather(0, index, [2, 3]); // y[i, j] = xᵀ[index[i, j], j] = x[j, index[i, j]]

        float[] xs = x.ToArray();
        float[] expected = AllIndices([2, 3]).Select(i => (float)At(xs, [5, 3], [i[1], index[(i[0] * 3) + i[1]]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void GatherRejectsBadIndices()
    {
        Tensor x = Sequence(4, 6);

        Assert.Multiple(() =>
        {
            Assert.That(() => x.Gather(1, [0, 6], [2, 1]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("index 6").And.Message.Contains("size 6"));
            Assert.That(() => x.Gather(1, [-1], [1, 1]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("index -1"));
            Assert.That(() => x.Gather(1, [0, 1, 2], [2, 1]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("3 indices"));
            Assert.That(() => x.Gather(1, [0, 1], [2]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("rank"));
            Assert.That(() => x.Gather(1, [0, 0, 0, 0, 0], [5, 1]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("axis 0"));
            Assert.That(() => x.Gather(2, [0], [1, 1]),
                Throws.ArgumentException.With.Message.StartsWith("Gather:").And.Message.Contains("axis 2"));
        });
    }

    [Test]
    public void IndexSelectMatchesNaiveIndexing()
    {
        int[] shape = [2, 3, 17];
        Tensor x = Sequence(shape);
        int[] indices = [16, 0, 5, 5];
        Tensor y = x.IndexSelect(-1, indices);

        Assert.That(y.ShapeText, Is.EqualTo("(2, 3, 4)"));
        float[] xs = x.ToArray();
        float[] expected = AllIndices([2, 3, 4]).Select(i => (float)At(xs, shape, [i[0], i[1], indices[i[2]]])).ToArray();
        Assert.That(y.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void IndexSelectRejectsOutOfRangeIndices()
    {
        Tensor x = Sequence(5, 3);

        Assert.Multiple(() =>
        {
            Assert.That(() => x.IndexSelect(0, [0, 5]),
                Throws.ArgumentException.With.Message.StartsWith("IndexSelect:").And.Message.Contains("index 5").And.Message.Contains("size 5"));
            Assert.That(() => x.IndexSelect(1, [-1]),
                Throws.ArgumentException.With.Message.StartsWith("IndexSelect:").And.Message.Contains("index -1"));
            Assert.That(() => x.IndexSelect(-3, [0]),
                Throws.ArgumentException.With.Message.StartsWith("IndexSelect:").And.Message.Contains("axis -3"));
        });
    }

    // ------------------------------------------------------------ backward specifics

    [Test]
    public void RepeatedIndicesAccumulateTheirGradients()
    {
        Tensor x = Sequence(3, 2).RequireGrad();
        x.IndexSelect(0, [2, 0, 2, 2]).Backward(Tensor.Ones(4, 2));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(1f, 1f, 0f, 0f, 3f, 3f)));

        Tensor z = Sequence(2, 3).RequireGrad();
        z.Gather(1, [1, 1, 0, 2, 2, 2], [2, 3]).Backward(Tensor.FromArray([1f, 2f, 4f, 8f, 16f, 32f], 2, 3));
        Assert.That(z.Grad!.ToArray(), Is.EqualTo(Values(4f, 3f, 0f, 0f, 0f, 56f)));
    }

    [Test]
    public void SliceGradientIsZeroOutsideTheSlice()
    {
        Tensor x = Sequence(4, 3).RequireGrad();
        x.Narrow(0, 1, 2).Backward(Tensor.Full(2f, 2, 3));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Values(0f, 0f, 0f, 2f, 2f, 2f, 2f, 2f, 2f, 0f, 0f, 0f)));
    }

    [Test]
    public void ViewOpsRecordTheirLabels()
    {
        Tensor x = Sequence(2, 3).RequireGrad();
        Tensor y = x.T.Reshape(6).Narrow(0, 1, 4).Unsqueeze(0).Squeeze().Expand(2, 4);

        // Reshape of the (non-contiguous) transpose copies first; everything after it is a view of that copy.
        Assert.That(y.RecordingTape!.OpNames().TakeLast(7),
            Is.EqualTo(Values("transpose", "contiguous", "reshape", "slice", "unsqueeze", "squeeze", "expand")));
        Assert.That(y.ShapeText, Is.EqualTo("(2, 4)"));
        Tape.Current.Reset();
    }

    [Test]
    public void AViewOfAStepResultIsReleasedWithIt()
    {
        Tensor x = Sequence(2, 3).RequireGrad();
        Tensor view = (x * 2f).T;
        Tape.Current.Reset();

        Assert.That(() => view.ToArray(), Throws.InvalidOperationException.With.Message.Contains("released"));
    }
}
