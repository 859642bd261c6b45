using System.Runtime.InteropServices;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// The 2×2, stride-2, unpadded fast path of <see cref="PoolingKernel.MaxForward(ReadOnlySpan{float}, Span{float}, Span{int}, in Window2d)"/> against a naive window loop with
/// the documented choice rule (first of equal values, NaN wins and propagates), on planes full of ties, NaNs and
/// infinities, odd sizes (the last row and column are dropped) and dilation, and rows of windows that fill the 8- or
/// 4-window vector blocks exactly, end with an overlapping block, or are too short for one.
/// </summary>
[TestFixture]
[NonParallelizable] // One test switches Gemm.MaxThreads, which is global.
public sealed class MaxPool2x2Tests
{
    [TestCase(3, 6, 6, 1)]
    [TestCase(2, 7, 5, 1)]
    [TestCase(4, 2, 2, 1)]
    [TestCase(1, 9, 11, 2)]
    [TestCase(2, 5, 4, 3)]
    [TestCase(2, 4, 16, 1)]   // one block of 8 windows
    [TestCase(2, 5, 34, 1)]   // 2 blocks of 8 + 1 window (an overlapping last block)
    [TestCase(1, 6, 57, 1)]   // odd width: 3 blocks + 4 windows, the last column dropped
    [TestCase(1, 2, 2014, 1)] // 125 blocks + 7 windows
    [TestCase(2, 6, 14, 1)]   // 7 windows a row: blocks of 4, the second overlapping
    [TestCase(1, 4, 9, 1)]    // exactly 4 windows a row
    [TestCase(3, 2, 6, 1)]    // 3 windows a row: no block fits
    public void FastPathMatchesTheNaiveWindowLoop(int planes, int height, int width, int dilation)
    {
        var window = new Window2d(planes, height, width, 2, 2, 2, 2, 0, 0, dilation, dilation);
        float[] input = SpecialValues(planes * height * width, seed: planes * 1000 + height * 10 + width);
        int outputs = planes * window.OutputHeight * window.OutputWidth;
        float[] output = new float[outputs];
        int[] argmax = new int[outputs];

        PoolingKernel.MaxForward(input, output, argmax, window);

        (float[] expected, int[] expectedIndex) = Naive(input, window);
        Assert.That(argmax, Is.EqualTo(expectedIndex), "argmax");
        Assert.That(output, Is.EqualTo(expected), "max"); // NUnit treats NaN as equal to NaN
    }

    [Test]
    public void WithoutIndicesTheMaximaAreTheSame()
    {
        var window = new Window2d(2, 6, 8, 2, 2, 2, 2, 0, 0, 1, 1);
        float[] input = SpecialValues(2 * 6 * 8, seed: 5);
        float[] output = new float[2 * 3 * 4];

        PoolingKernel.MaxForward(input, output, [], window);

        Assert.That(output, Is.EqualTo(Naive(input, window).Max));
    }

    [TestCase(1, true)]
    [TestCase(2, true)]
    [TestCase(3, true)]
    [TestCase(2, false)]
    public void PlanesSharedAmongThreadsGiveTheSameBits(int threads, bool withIndices)
    {
        // 301 planes of 30×31 (280 000 elements, past the split threshold): chunks of 70 planes, the last one ragged.
        var window = new Window2d(301, 30, 31, 2, 2, 2, 2, 0, 0, 1, 1);
        float[] input = SpecialValues(301 * 30 * 31, seed: 77);
        int outputs = 301 * window.OutputHeight * window.OutputWidth;
        float[] expected = new float[outputs];
        int[] expectedIndex = new int[outputs];
        PoolingKernel.MaxForward(input, expected, expectedIndex, window);

        int saved = Gemm.MaxThreads;
        try
        {
            Gemm.MaxThreads = threads;
            const int offset = 5;
            float[] shifted = [.. new float[offset], .. input];
            float[] output = new float[outputs + offset];
            float[]? indexBits = withIndices ? new float[outputs + offset] : null;
            PoolingKernel.MaxForward(shifted, offset, output, offset, indexBits, offset, window);

            Assert.That(output[offset..], Is.EqualTo(expected), "max");
            if (indexBits is not null)
            {
                Assert.That(MemoryMarshal.Cast<float, int>(indexBits.AsSpan(offset)).ToArray(), Is.EqualTo(expectedIndex), "argmax");
            }
        }
        finally
        {
            Gemm.MaxThreads = saved;
        }
    }

    // Small integers (so ties are common), with NaN, +∞ and −∞ sprinkled in.
    private static float[] SpecialValues(int count, int seed)
    {
        var random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = random.Next(12) switch
            {
                0 => float.NaN,
                1 => float.PositiveInfinity,
                2 => float.NegativeInfinity,
                _ => random.Next(-3, 4),
            };
        }
        return values;
    }

    private static (float[] Max, int[] Index) Naive(float[] input, Window2d window)
    {
        int ho = window.OutputHeight, wo = window.OutputWidth, h = window.Height, w = window.Width;
        float[] max = new float[window.Channels * ho * wo];
        int[] index = new int[max.Length];
        for (int p = 0; p < window.Channels; p++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    float best = float.NaN;
                    int bestIndex = -1;
                    for (int ki = 0; ki < 2; ki++)
                    {
                        for (int kj = 0; kj < 2; kj++)
                        {
                            int at = ((oy * 2) + (ki * window.DilationHeight)) * w + (ox * 2) + (kj * window.DilationWidth);
                            float value = input[(p * h * w) + at];
                            if (bestIndex < 0 || value > best || (float.IsNaN(value) && !float.IsNaN(best)))
                            {
                                (best, bestIndex) = (value, at);
                            }
                        }
                    }
                    max[(p * ho * wo) + (oy * wo) + ox] = best;
                    index[(p * ho * wo) + (oy * wo) + ox] = bestIndex;
                }
            }
        }
        return (max, index);
    }
}
