using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NUnit.Framework;
using static NeuralCore.Tests.Optimizers.OptimizerTestSupport;

namespace NeuralCore.Tests.Optimizers;

/// <summary>Gradient clipping, parameter averaging and the parameter-role helpers.</summary>
[TestFixture]
public sealed class TrainingAidsTests
{
    [Test]
    public void ClipByGlobalNormScalesAllGradientsAndReturnsThePreClipNorm()
    {
        Tensor a = Tensor.Zeros(2).RequireGrad(), b = Tensor.Zeros(1).RequireGrad(), none = Tensor.Zeros(1).RequireGrad();
        SetGradient(a, [3f, 0f]);
        SetGradient(b, [4f]);
        float norm = GradientClipping.ClipByGlobalNorm([a, b, none], maxNorm: 1.0);
        Assert.That(norm, Is.EqualTo(5f));
        float scale = (float)(1.0 / (5 + 1e-6));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 3f * scale, 0f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 4f * scale }));
        Assert.That(GradientClipping.GlobalNorm([a, b]), Is.EqualTo(1f).Within(1e-6));

        // Below the limit nothing changes; the optimizer overload sees every group.
        var sgd = new Sgd([new ParameterGroup([a]), new ParameterGroup([b])], learningRate: 0.1);
        float[] before = [.. a.Grad!.ToArray(), .. b.Grad!.ToArray()];
        Assert.That(GradientClipping.ClipByGlobalNorm(sgd, maxNorm: 10.0), Is.EqualTo(1f).Within(1e-6));
        Assert.That(a.Grad!.ToArray().Concat(b.Grad!.ToArray()), Is.EqualTo(before));
        Assert.Throws<ArgumentException>(() => GradientClipping.ClipByGlobalNorm([a], -1));
    }

    [Test]
    public void ClipByValueClampsElementwiseAndReturnsThePreClipNorm()
    {
        Tensor a = Tensor.Zeros(4).RequireGrad();
        SetGradient(a, [-3f, 0.5f, 4f, -0.25f]);
        float norm = GradientClipping.ClipByValue([a], clipValue: 1.0);
        Assert.That(norm, Is.EqualTo(MathF.Sqrt(9f + 0.25f + 16f + 0.0625f)).Within(1e-6));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { -1f, 0.5f, 1f, -0.25f }));
    }

    [Test]
    public void ExponentialMovingAverageFollowsTheFormulaAndSwaps()
    {
        Tensor p = Tensor.FromArray([1f, 2f]).RequireGrad();
        var average = new ExponentialMovingAverage([p], decay: 0.5);
        p.AsSpan()[0] = 3f;
        p.AsSpan()[1] = 6f;
        average.Update();
        Assert.That(average.Averages[0].ToArray(), Is.EqualTo(new[] { 2f, 4f }));   // 0.5·old + 0.5·new
        Assert.That(average.UpdateCount, Is.EqualTo(1));

        using (average.SwapIn())
        {
            Assert.That(average.IsSwappedIn, Is.True);
            Assert.That(p.ToArray(), Is.EqualTo(new[] { 2f, 4f }));
            Assert.Throws<InvalidOperationException>(average.Update);
            Assert.Throws<InvalidOperationException>(() => average.SwapIn());
        }
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 3f, 6f }));
        average.SwapIn();
        average.SwapOut();
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 3f, 6f }));
        Assert.Throws<InvalidOperationException>(average.SwapOut);
        Assert.Throws<ArgumentException>(() => new ExponentialMovingAverage([p], decay: 1.5));
    }

    [Test]
    public void EqualWeightPolyakAverageByChangingTheDecay()
    {
        Tensor p = Tensor.FromArray([0f]).RequireGrad();
        var average = new ExponentialMovingAverage([p]);
        float[] iterates = [4f, 8f, 0f];
        // Averages start at the initial value 0 (iterate 0); with δ = t/(t+1) the average is the mean of all iterates.
        for (int t = 1; t <= iterates.Length; t++)
        {
            p.AsSpan()[0] = iterates[t - 1];
            average.Decay = t / (t + 1.0);
            average.Update();
        }
        Assert.That(average.Averages[0][0], Is.EqualTo(3f).Within(1e-6));
    }

    [TestCase("features.0.weight_g", ParameterRole.Magnitude)]
    [TestCase("fc.parametrizations.weight.original0", ParameterRole.Magnitude)]
    [TestCase("features.0.weight_v", ParameterRole.Direction)]
    [TestCase("fc.parametrizations.weight.original1", ParameterRole.Direction)]
    [TestCase("fc.bias", ParameterRole.Bias)]
    [TestCase("attn.in_proj_bias", ParameterRole.Bias)]
    [TestCase("bn1.weight", ParameterRole.Normalization)]
    [TestCase("bn1.bias", ParameterRole.Normalization)]
    [TestCase("layers.2.norm.weight", ParameterRole.Normalization)]
    [TestCase("block.layer_norm.bias", ParameterRole.Normalization)]
    [TestCase("conv.mean_only_bn.bias", ParameterRole.Normalization)]
    [TestCase("fc.weight", ParameterRole.Other)]
    [TestCase("bnx.weight", ParameterRole.Other)]
    [TestCase("embedding", ParameterRole.Other)]
    public void ClassifyReadsTheRoleFromTheName(string name, ParameterRole role) =>
        Assert.That(ParameterRoles.Classify(name), Is.EqualTo(role));

    [Test]
    public void APredicateDecidesWhichModulesAreNormalizationLayers()
    {
        Assert.That(ParameterRoles.Classify("features.1.weight"), Is.EqualTo(ParameterRole.Other));
        Assert.That(ParameterRoles.Classify("features.1.weight", module => module == "features.1"), Is.EqualTo(ParameterRole.Normalization));
        Assert.That(ParameterRoles.Classify("bn1.bias", _ => false), Is.EqualTo(ParameterRole.Bias));
    }

    [Test]
    public void HelpersBuildTheUsualGroupsInOneLine()
    {
        Tensor g = Tensor.Ones(4, 1).RequireGrad(), v = Tensor.Ones(4, 3).RequireGrad(), b = Tensor.Zeros(4).RequireGrad();
        Tensor gamma = Tensor.Ones(4).RequireGrad(), w = Tensor.Ones(2, 4).RequireGrad();
        KeyValuePair<string, Tensor>[] named =
        [
            new("fc1.weight_g", g), new("fc1.weight_v", v), new("fc1.bias", b), new("bn1.weight", gamma), new("fc2.weight", w),
        ];
        ParameterSplit split = ParameterRoles.Split(named);
        Assert.That(split.Magnitudes, Is.EqualTo(new[] { g }));
        Assert.That(split.Directions, Is.EqualTo(new[] { v }));
        Assert.That(split.Biases, Is.EqualTo(new[] { b }));
        Assert.That(split.Normalization, Is.EqualTo(new[] { gamma }));
        Assert.That(split.Others, Is.EqualTo(new[] { w }));

        var adam = new Adam(ParameterRoles.SeparateMagnitudes(named, magnitudeLearningRate: 3e-3), learningRate: 1e-3);
        Assert.That(adam.Groups.Select(group => group.LearningRate), Is.EqualTo(new double?[] { 3e-3, 1e-3 }));
        Assert.That(adam.Groups[0].Parameters, Is.EqualTo(new[] { g }));

        var adamw = new AdamW(ParameterRoles.ExemptFromWeightDecay(named), weightDecay: 0.05);
        Assert.That(adamw.Groups[0].Parameters, Is.EquivalentTo(new[] { w, v }));
        Assert.That(adamw.Groups[0].WeightDecay, Is.EqualTo(0.05));
        Assert.That(adamw.Groups[1].Parameters, Is.EquivalentTo(new[] { b, gamma, g }));
        Assert.That(adamw.Groups[1].WeightDecay, Is.Zero);

        Assert.Throws<ArgumentException>(() => ParameterRoles.Split([new("a", g), new("a", v)]));
    }
}
