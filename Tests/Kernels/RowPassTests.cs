using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// <see cref="RowPass.MultiplyAddRows"/> (the weight-norm correction pass): against a plain double loop, and the same
/// bits on 1, 2 and 3 threads for a size large enough to be split.
/// </summary>
[TestFixture]
[NonParallelizable] // changes Gemm.MaxThreads, which is global
public sealed class RowPassTests
{
    [TestCase(1, 1)]
    [TestCase(7, 17)]
    [TestCase(33, 1003)]
    [TestCase(1000, 1000)] // 10⁶ elements: split across threads
    public void MatchesAPlainLoop(int rows, int rowLength)
    {
        var random = new Random(rows * 31 + rowLength);
        float[] source = Values(random, 3 + (rows * rowLength)), sink = Values(random, 5 + (rows * rowLength)), factor = Values(random, rows);
        float[] before = (float[])sink.Clone();
        RowPass.MultiplyAddRows(source, 3, factor, sink, 5, rows, rowLength);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < rowLength; j++)
            {
                int at = 5 + (i * rowLength) + j;
                double product = (double)factor[i] * source[3 + (i * rowLength) + j];
                double expected = before[at] + product;
                // At most two roundings (an unfused multiply, then the add), each within half an ulp of its operands'
                // size; a wrong row, factor or offset is off by the size of a whole term.
                double tolerance = 2.0 / (1 << 24) * (Math.Abs(before[at]) + Math.Abs(product));
                Assert.That((double)sink[at], Is.EqualTo(expected).Within(tolerance), $"row {i}, column {j}");
            }
        }
        Assert.That(sink.AsSpan(0, 5).ToArray(), Is.EqualTo(before.AsSpan(0, 5).ToArray()).AsCollection, "before the offset");
    }

    [Test]
    public void SameBitsForAnyThreadCount()
    {
        int saved = Gemm.MaxThreads;
        try
        {
            var random = new Random(5);
            float[] source = Values(random, 1000 * 700), start = Values(random, 1000 * 700), factor = Values(random, 1000);
            float[] Run(int threads)
            {
                Gemm.MaxThreads = threads;
                float[] sink = (float[])start.Clone();
                RowPass.MultiplyAddRows(source, 0, factor, sink, 0, 1000, 700);
                return sink;
            }
            float[] one = Run(1);
            Assert.That(Run(2), Is.EqualTo(one).AsCollection);
            Assert.That(Run(3), Is.EqualTo(one).AsCollection);
        }
        finally
        {
            Gemm.MaxThreads = saved;
        }
    }

    private static float[] Values(Random random, int count)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }
        return values;
    }
}
