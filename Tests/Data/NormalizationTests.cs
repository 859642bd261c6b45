using NeuralCore.Benchmarks.Data;
using NUnit.Framework;

namespace NeuralCore.Tests.Data;

[TestFixture]
public sealed class NormalizationTests
{
    private static Dataset TwoChannels() =>
        // Two examples of 2 channels × 1 × 2: channel 0 holds 0, 255, 51, 102; channel 1 holds 10, 20, 30, 40.
        new([0, 255, 10, 20, 51, 102, 30, 40], [0, 1], 2, 1, 2, ["a", "b"]);

    [Test]
    public void FixedRangesMapPixelValues()
    {
        float[] values = [0, 127.5f, 255];
        Normalization.UnitRange.Apply(values, 1, 3);
        Assert.That(values, Is.EqualTo(new[] { 0f, 0.5f, 1f }).Within(1e-6f));

        values = [0, 127.5f, 255];
        Normalization.SymmetricRange.Apply(values, 1, 3);
        Assert.That(values, Is.EqualTo(new[] { -1f, 0f, 1f }).Within(1e-6f));

        values = [0, 127.5f, 255];
        Normalization.PaperCifar.Apply(values, 1, 3);
        Assert.That(values, Is.EqualTo(new[] { -127.5f / 128, 0f, 127.5f / 128 }).Within(1e-6f));
    }

    [Test]
    public void PerChannelUsesEachChannelsValues()
    {
        Dataset dataset = Normalization.PerChannel([0f, 10f], [255f, 10f]).Apply(TwoChannels());
        Assert.That(dataset.Images.ToArray(), Is.EqualTo(new[] { 0f, 1f, 0f, 1f, 0.2f, 0.4f, 2f, 3f }).Within(1e-6f));
    }

    [Test]
    public void FittedPerChannelGivesZeroMeanAndUnitVariance()
    {
        Dataset dataset = TwoChannels();
        Normalization normalization = Normalization.FitPerChannel(dataset);
        Assert.That(normalization.MeanOf(1), Is.EqualTo(25f).Within(1e-5f));
        normalization.Apply(dataset);

        float[] images = dataset.Images.ToArray();
        foreach (int c in new[] { 0, 1 })
        {
            float[] channel = [images[c * 2], images[c * 2 + 1], images[4 + c * 2], images[4 + c * 2 + 1]];
            double mean = channel.Average();
            double variance = channel.Average(v => (v - mean) * (v - mean));
            Assert.That(mean, Is.EqualTo(0).Within(1e-5), $"channel {c} mean");
            Assert.That(variance, Is.EqualTo(1).Within(1e-4), $"channel {c} variance");
        }
    }

    [Test]
    public void WrongChannelCountOrBadValuesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Normalization.PerChannel([0f, 0f, 0f], [1f, 1f, 1f]).Apply(TwoChannels()));
        Assert.Throws<ArgumentException>(() => Normalization.PerChannel([0f], [0f]));
        Assert.Throws<ArgumentException>(() => Normalization.PerChannel([float.NaN], [1f]));
    }
}
