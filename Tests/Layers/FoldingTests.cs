using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>Folding an eval-mode BatchNorm1d or MeanOnlyBatchNorm1d into the preceding Linear: identical outputs.</summary>
[TestFixture]
public sealed class FoldingTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // Outputs are O(1..10); the folded and unfolded paths round differently (a scaled weight vs a scaled output),
    // ~1e-6 relative each: 1e-5 relative to the largest output (the bound) holds with margin.
    private static void AssertSameOutputs(Module original, Module folded, Tensor x)
    {
        using (Tape.NoGrad())
        {
            float[] expected = original.Forward(x).ToArray();
            float[] actual = folded.Forward(x).ToArray();
            double scale = Math.Max(1, expected.Max(Math.Abs));
            Assert.That(actual, Is.EqualTo(expected).Within(1e-5 * scale));
        }
    }

    [TestCase(true, true)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    public void BatchNormFoldsIntoLinear(bool linearBias, bool affine)
    {
        var random = new RandomGenerator(71);
        var linear = new Linear(20, 13, linearBias, random);
        var norm = new BatchNorm1d(13, affine: affine);
        var model = new Sequential(linear, norm);
        for (int step = 0; step < 3; step++)
        {
            model.Forward(Tensor.RandomNormal(random, [32, 20], mean: 1f, std: 2f));   // training: moves the running stats
        }
        if (affine)
        {
            random.FillUniform(norm.Weight!.AsSpan(), 0.5f, 2f);
            random.FillNormal(norm.Bias!.AsSpan());
        }
        model.Eval();

        Linear folded = Folding.FoldBatchNorm(linear, norm);

        Assert.That(folded.InFeatures, Is.EqualTo(20));
        Assert.That(folded.OutFeatures, Is.EqualTo(13));
        Assert.That(folded.Bias, Is.Not.Null);
        AssertSameOutputs(model, folded, Tensor.RandomNormal(random, [9, 20], mean: 1f, std: 2f));
    }

    [Test]
    public void MeanOnlyBatchNormFoldsIntoLinear()
    {
        var random = new RandomGenerator(72);
        var linear = new Linear(7, 5, random: random);
        var norm = new MeanOnlyBatchNorm1d(5);
        var model = new Sequential(linear, norm);
        for (int step = 0; step < 4; step++)
        {
            model.Forward(Tensor.RandomNormal(random, [16, 7], mean: 2f));
        }
        random.FillNormal(norm.Bias.AsSpan());
        model.Eval();

        Linear folded = Folding.FoldBatchNorm(linear, norm);

        Assert.That(folded.Weight.ToArray(), Is.EqualTo(linear.Weight.ToArray()), "mean-only BN only shifts");
        AssertSameOutputs(model, folded, Tensor.RandomNormal(random, [6, 7]));
    }

    [Test]
    public void FoldingLeavesTheOriginalsUnchanged()
    {
        var linear = new Linear(4, 3, random: new RandomGenerator(73));
        var norm = new BatchNorm1d(3);
        norm.RunningVar.AsSpan().Fill(4f);
        float[] weight = linear.Weight.ToArray();

        Linear folded = Folding.FoldBatchNorm(linear, norm);

        Assert.That(linear.Weight.ToArray(), Is.EqualTo(weight));
        Assert.That(folded.Weight, Is.Not.SameAs(linear.Weight));
    }

    [Test]
    public void MismatchedFeaturesAreRejectedNamingBothLayers()
    {
        var error = Assert.Throws<ArgumentException>(() => Folding.FoldBatchNorm(new Linear(4, 3), new BatchNorm1d(5)));
        Assert.That(error!.Message, Is.EqualTo("Folding BatchNorm1d(5) into Linear(4→3): the norm has 5 features, the layer 3 outputs; expected the same."));
        Assert.Throws<ArgumentException>(() => Folding.FoldBatchNorm(new Linear(4, 3), new MeanOnlyBatchNorm1d(2)));
    }
}
