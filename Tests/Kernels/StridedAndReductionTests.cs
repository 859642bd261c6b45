using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

[TestFixture]
public sealed class StridedAndReductionTests
{
    [Test]
    public void GatherReadsATransposedAndBroadcastLayout()
    {
        // Buffer holds a (2, 3) matrix; read it as its (3, 2) transpose: strides (1, 3).
        float[] buffer = [0, 1, 2, 3, 4, 5];
        var transposed = new float[6];
        Strided.Gather(buffer, 0, [3, 2], [1, 3], transposed);
        Assert.That(transposed, Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));

        // Row 1 (offset 3) broadcast to (2, 3): stride 0 on the first axis.
        var broadcast = new float[6];
        Strided.Gather(buffer, 3, [2, 3], [0, 1], broadcast);
        Assert.That(broadcast, Is.EqualTo(new float[] { 3, 4, 5, 3, 4, 5 }));

        // Column 2 of the matrix broadcast along the rows: inner stride 0.
        var column = new float[6];
        Strided.Gather(buffer, 2, [2, 3], [3, 0], column);
        Assert.That(column, Is.EqualTo(new float[] { 2, 2, 2, 5, 5, 5 }));
    }

    [Test]
    public void ScatterIsTheInverseOfGather()
    {
        float[] values = [0, 3, 1, 4, 2, 5];
        var buffer = new float[6];
        Strided.Scatter(values, buffer, 0, [3, 2], [1, 3]);
        Assert.That(buffer, Is.EqualTo(new float[] { 0, 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void AddingFormsAccumulateInsteadOfOverwriting()
    {
        // The (3, 2) transpose of a (2, 3) buffer, gathered into ones: 1 + each element.
        float[] buffer = [0, 1, 2, 3, 4, 5];
        float[] gathered = [1, 1, 1, 1, 1, 1];
        Strided.GatherAdd(buffer, 0, [3, 2], [1, 3], gathered);
        Assert.That(gathered, Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));

        // Broadcast read (stride 0 on the inner axis) adds the repeated element.
        float[] repeated = [10, 20, 30];
        Strided.GatherAdd(buffer, 4, [3], [0], repeated);
        Assert.That(repeated, Is.EqualTo(new float[] { 14, 24, 34 }));

        // Scattering the transpose back adds into the buffer's own layout.
        float[] target = [1, 1, 1, 1, 1, 1];
        Strided.ScatterAdd([0, 3, 1, 4, 2, 5], target, 0, [3, 2], [1, 3]);
        Assert.That(target, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
    }

    [TestCase(new[] { 2, 3, 4 }, new[] { 3, 1 })]
    [TestCase(new[] { 2, 3, 4 }, new[] { 2, 1, 4 })]
    [TestCase(new[] { 2, 3, 4 }, new[] { 1 })]
    [TestCase(new[] { 5, 17 }, new[] { 17 })]
    [TestCase(new[] { 5, 17 }, new[] { 5, 1 })]
    [TestCase(new[] { 3, 1, 5 }, new[] { 1, 5 })]
    public void SumToShapeMatchesANaiveReduction(int[] shape, int[] target)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var x = new float[count];
        new RandomGenerator(1).FillUniform(x, -1f, 1f);
        int targetCount = target.Aggregate(1, (a, b) => a * b);
        var initial = new float[targetCount];
        new RandomGenerator(2).FillUniform(initial, -1f, 1f);
        float[] actual = (float[])initial.Clone();

        Reduction.SumToShape(x, shape, actual, target);

        double[] expected = initial.Select(v => (double)v).ToArray();
        int[] index = new int[shape.Length];
        for (int flat = 0; flat < count; flat++)
        {
            int rest = flat;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                index[axis] = rest % shape[axis];
                rest /= shape[axis];
            }
            int t = 0;
            for (int axis = 0; axis < target.Length; axis++)
            {
                int sourceAxis = axis + shape.Length - target.Length;
                t = t * target[axis] + (target[axis] == 1 ? 0 : index[sourceAxis]);
            }
            expected[t] += x[flat];
        }
        Assert.That(actual, Is.EqualTo(expected.Select(v => (float)v).ToArray()).Within(1e-5f));
    }

    [Test]
    public void SumToShapeRejectsIncompatibleShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => Reduction.SumToShape(new float[6], [2, 3], new float[2], [2]));
        Assert.That(error!.Message, Does.Contain("SumToShape").And.Contain("(2, 3)"));
    }
}
