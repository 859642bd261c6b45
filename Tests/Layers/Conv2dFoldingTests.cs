using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>Folding an eval-mode BatchNorm2d or MeanOnlyBatchNorm2d into the preceding Conv2d: identical outputs.</summary>
[TestFixture]
public sealed class Conv2dFoldingTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // Outputs are O(1..10); folded and unfolded round differently (a scaled filter vs a scaled output), ~1e-6 relative
    // each: 1e-5 relative to the largest output (the bound) holds with margin.
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

    [TestCase(true, true, false)]
    [TestCase(false, true, false)]
    [TestCase(true, false, false)]
    [TestCase(true, true, true)]
    public void BatchNormFoldsIntoConv(bool convBias, bool affine, bool weightNorm)
    {
        var random = new RandomGenerator(81);
        var conv = new Conv2d(3, 5, 3, stride: 2, padding: 1, dilation: 1, bias: convBias, random: random);
        if (weightNorm)
        {
            conv.WithWeightNorm();
            random.FillUniform(conv.WeightG!.AsSpan(), 0.5f, 2f);
        }
        var norm = new BatchNorm2d(5, affine: affine);
        var model = new Sequential(conv, norm);
        for (int step = 0; step < 3; step++)
        {
            model.Forward(Tensor.RandomNormal(random, [4, 3, 7, 6], mean: 1f, std: 2f)); // training: moves the running stats
        }
        if (affine)
        {
            random.FillUniform(norm.Weight!.AsSpan(), 0.5f, 2f);
            random.FillNormal(norm.Bias!.AsSpan());
        }
        model.Eval();

        Conv2d folded = Folding.FoldBatchNorm(conv, norm);

        Assert.That(folded.ToString(), Is.EqualTo("Conv2d(3→5, k3, s2, p1)"));
        Assert.That(folded.IsWeightNormalized, Is.False);
        Assert.That(folded.Bias, Is.Not.Null);
        AssertSameOutputs(model, folded, Tensor.RandomNormal(random, [3, 3, 7, 6], mean: 1f, std: 2f));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void MeanOnlyBatchNormFoldsIntoConv(bool weightNorm)
    {
        var random = new RandomGenerator(82);
        var conv = new Conv2d(2, 4, 3, padding: 2, dilation: 2, random: random);
        if (weightNorm)
        {
            conv.WithWeightNorm();
        }
        var norm = new MeanOnlyBatchNorm2d(4);
        var model = new Sequential(conv, norm);
        for (int step = 0; step < 4; step++)
        {
            model.Forward(Tensor.RandomNormal(random, [3, 2, 6, 5], mean: 2f));
        }
        random.FillNormal(norm.Bias.AsSpan());
        model.Eval();

        Conv2d folded = Folding.FoldBatchNorm(conv, norm);

        Assert.That(folded.Weight.ToArray(), Is.EqualTo(conv.Weight.ToArray()), "mean-only BN only shifts");
        Assert.That(folded.Dilation, Is.EqualTo(2));
        AssertSameOutputs(model, folded, Tensor.RandomNormal(random, [2, 2, 6, 5]));
    }

    [Test]
    public void MismatchedChannelsAreRejectedNamingBothLayers()
    {
        var error = Assert.Throws<ArgumentException>(() => Folding.FoldBatchNorm(new Conv2d(3, 4, 3), new BatchNorm2d(5)));
        Assert.That(error!.Message, Is.EqualTo("Folding BatchNorm2d(5) into Conv2d(3→4, k3, s1, p0): the norm has 5 features, the layer 4 outputs; expected the same."));
        Assert.Throws<ArgumentException>(() => Folding.FoldBatchNorm(new Conv2d(3, 4, 3), new MeanOnlyBatchNorm2d(2)));
    }
}
