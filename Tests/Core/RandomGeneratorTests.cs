using NeuralCore.Engine;
using NUnit.Framework;

namespace NeuralCore.Tests.Core;

[TestFixture]
public sealed class RandomGeneratorTests
{
    // From Tests/Fixtures/xoshiro_reference.py, an independent implementation of the published algorithm:
    // the sequence is fixed by the algorithm, not by this code or the .NET version.
    [TestCase(0UL, 0x99EC5F36CB75F2B4UL, 0xBF6E1F784956452AUL, 0x1A5F849D4933E6E0UL, 0x6AA594F1262D2D2CUL)]
    [TestCase(42UL, 0x15780B2E0C2EC716UL, 0x6104D9866D113A7EUL, 0xAE17533239E499A1UL, 0xECB8AD4703B360A1UL)]
    public void MatchesTheReferenceSequence(ulong seed, ulong first, ulong second, ulong third, ulong fourth)
    {
        var random = new RandomGenerator(seed);
        ulong[] actual = [random.NextUInt64(), random.NextUInt64(), random.NextUInt64(), random.NextUInt64()];
        Assert.That(actual, Is.EqualTo(new[] { first, second, third, fourth }));
    }

    [Test]
    public void UniformFloatsStayInRangeWithTheRightMoments()
    {
        var random = new RandomGenerator(7);
        var values = new float[200_000];
        random.FillUniform(values, -2f, 6f);

        Assert.That(values.Min(), Is.GreaterThanOrEqualTo(-2f));
        Assert.That(values.Max(), Is.LessThan(6f));
        // Mean 2, variance 64/12; the standard error of the mean is ~0.005, so 0.03 is six standard errors.
        Assert.That(values.Average(v => (double)v), Is.EqualTo(2.0).Within(0.03));
        Assert.That(Variance(values), Is.EqualTo(64.0 / 12).Within(0.05));
    }

    [Test]
    public void NormalsHaveTheRequestedMeanAndStd()
    {
        var random = new RandomGenerator(8);
        var values = new float[200_000];
        random.FillNormal(values, 1.5f, 0.25f);

        Assert.That(values.Average(v => (double)v), Is.EqualTo(1.5).Within(0.003));
        Assert.That(Math.Sqrt(Variance(values)), Is.EqualTo(0.25).Within(0.003));
        // About 4.55% of a normal lies beyond two standard deviations.
        double tail = values.Count(v => Math.Abs(v - 1.5) > 0.5) / (double)values.Length;
        Assert.That(tail, Is.EqualTo(0.0455).Within(0.003));
    }

    [Test]
    public void NextIntIsInRangeAndUnbiased()
    {
        var random = new RandomGenerator(9);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++)
        {
            counts[random.NextInt(7)]++;
        }
        // Each bucket expects 10 000 with standard deviation ~93.
        Assert.That(counts, Has.All.InRange(9_600, 10_400));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt(0));
    }

    [Test]
    public void ShuffleIsAPermutationAndDependsOnlyOnTheSeed()
    {
        int[] a = Enumerable.Range(0, 100).ToArray();
        int[] b = Enumerable.Range(0, 100).ToArray();
        new RandomGenerator(3).Shuffle<int>(a);
        new RandomGenerator(3).Shuffle<int>(b);

        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(Enumerable.Range(0, 100).ToArray()));
        Assert.That(a.Order().ToArray(), Is.EqualTo(Enumerable.Range(0, 100).ToArray()));
    }

    [Test]
    public void SavedStateResumesTheSequenceExactly()
    {
        var random = new RandomGenerator(11);
        _ = random.NextNormal(); // leaves a spare normal in the state
        ulong[] state = random.GetState();
        double[] expected = [random.NextNormal(), random.NextNormal(), random.NextDouble()];

        var resumed = new RandomGenerator(0);
        resumed.SetState(state);

        Assert.That(new[] { resumed.NextNormal(), resumed.NextNormal(), resumed.NextDouble() }, Is.EqualTo(expected));
        Assert.Throws<ArgumentException>(() => resumed.SetState(new ulong[3]));
    }

    [Test]
    public void InvalidDistributionParametersAreRejected()
    {
        var random = new RandomGenerator(1);
        var error = Assert.Throws<ArgumentException>(() => random.FillNormal(new float[2], 0f, float.NaN));
        Assert.That(error!.Message, Does.Contain("FillNormal"));
        Assert.Throws<ArgumentException>(() => random.FillUniform(new float[2], 1f, 0f));
    }

    private static double Variance(float[] values)
    {
        double mean = values.Average(v => (double)v);
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
    }
}
