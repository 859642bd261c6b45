using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// <see cref="ReluPass"/> against a plain loop, bit for bit, on sizes that hit the vector body and remainder of one
/// chunk and, past 2¹⁸ elements, several chunks split across threads; and ReLU's backward storing its gradient when it
/// comes first and adding it when another contribution came before.
/// </summary>
[TestFixture]
[NonParallelizable] // Switches Gemm.MaxThreads, which is global.
public sealed class ReluPassTests
{
    private int _savedThreads;

    [SetUp]
    public void SaveThreads() => _savedThreads = Gemm.MaxThreads;

    [TearDown]
    public void RestoreThreads()
    {
        Gemm.MaxThreads = _savedThreads;
        Tape.Current.Reset();
    }

    [TestCase(1, 1)]
    [TestCase(7, 1)]
    [TestCase(16, 1)]
    [TestCase(17, 1)]
    [TestCase(1003, 1)]
    [TestCase((1 << 18) + 5, 1)]
    [TestCase((1 << 18) + 5, 2)]
    [TestCase((1 << 19) + 3, 3)]
    public void MatchesThePlainLoopBitForBit(int count, int threads)
    {
        Gemm.MaxThreads = threads;
        float[] x = Values(count, 1), dy = Values(count, 2), old = Values(count, 3);
        const int offset = 3; // every array is read from an offset, as a tensor's buffer may be
        float[] Padded(float[] values) => [.. new float[offset], .. values];

        float[] y = new float[count + offset];
        ReluPass.Forward(Padded(x), offset, y, offset, count);
        float[] stored = Padded(Values(count, 4));
        ReluPass.Backward(Padded(x), offset, Padded(dy), offset, stored, offset, count, overwrite: true);
        float[] added = Padded(old);
        ReluPass.Backward(Padded(x), offset, Padded(dy), offset, added, offset, count, overwrite: false);

        for (int i = 0; i < count; i++)
        {
            float gradient = x[i] > 0 ? dy[i] : 0f;
            Assert.That(y[offset + i], Is.EqualTo(MathF.Max(x[i], 0f)), $"y[{i}] for x = {x[i]}");
            Assert.That(stored[offset + i], Is.EqualTo(gradient), $"stored ∂x[{i}]");
            Assert.That(added[offset + i], Is.EqualTo(old[i] + gradient), $"added ∂x[{i}]");
        }
        Assert.That(y[..offset], Is.All.EqualTo(0f), "nothing written before the offset");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TheBackwardStoresOrAddsAsItsTurnComes(bool reluFirst)
    {
        // z = relu(x) + 2x: ∂x = (x > 0) + 2, whichever of the two contributions reaches ∂x first.
        Tensor x = Tensor.FromArray(Values(600, 5), [600]).RequireGrad();
        Tensor z = reluFirst ? (x * 2f).Add(x.Relu()) : x.Relu().Add((x * 2f));
        z.Sum().Backward();
        float[] values = x.ToArray(), grad = x.Grad!.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.That(grad[i], Is.EqualTo((values[i] > 0 ? 1f : 0f) + 2f), $"∂x[{i}] for x = {values[i]}");
        }
    }

    // Normal-ish values with exact zeros, −0, ±∞ and NaN sprinkled in.
    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = random.Next(40) switch
            {
                0 => float.NaN,
                1 => float.PositiveInfinity,
                2 => float.NegativeInfinity,
                3 => 0f,
                4 => -0f,
                _ => (float)(random.NextDouble() * 4 - 2),
            };
        }
        return values;
    }
}
