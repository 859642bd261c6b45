using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// The pooling modules: each is its Tensor op (tested against references in Tests/Ops/PoolingTests.cs) with PyTorch's
/// defaults, a name, argument checks and errors naming the layer and the shape; gradients through the module.
/// </summary>
[TestFixture]
public sealed class PoolingLayerTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void MaxPoolIsTheTensorOpWithStrideDefaultingToTheKernel()
    {
        var layer = new MaxPool2d(2);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(1), [2, 3, 5, 6]);

        Tensor y = layer.Forward(x);

        Assert.That((layer.KernelSize, layer.Stride, layer.Padding), Is.EqualTo((2, 2, 0)));
        Assert.That(layer.ToString(), Is.EqualTo("MaxPool2d(k2, s2)"));
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 2, 3 }));
        Assert.That(y.ToArray(), Is.EqualTo(x.MaxPool2d(2).ToArray()));
        Assert.That(new MaxPool2d(3, 2, 1).Forward(x).ToArray(), Is.EqualTo(x.MaxPool2d(3, 2, 1).ToArray()));
        Assert.That(new MaxPool2d(3, 2, 1).ToString(), Is.EqualTo("MaxPool2d(k3, s2, p1)"));
        Assert.That(layer.NamedParameters(), Is.Empty);
    }

    [Test]
    public void MaxPoolOfAKnownPlane()
    {
        Tensor x = Tensor.FromArray([1f, 5f, 2f, 0f, -1f, 3f, 4f, 7f, 6f, 8f, -2f, 9f, 0f, 0f, 1f, 2f], [1, 1, 4, 4]);

        Assert.That(new MaxPool2d(2).Forward(x).ToArray(), Is.EqualTo(new[] { 5f, 7f, 8f, 9f }));
        Assert.That(new AvgPool2d(2).Forward(x).ToArray(), Is.EqualTo(new[] { 2f, 3.25f, 3.5f, 2.5f }));
        Assert.That(new GlobalAvgPool2d().Forward(x).ToArray(), Is.EqualTo(new[] { 45f / 16f }));
    }

    [Test]
    public void AvgPoolIsTheTensorOpWithPaddingCountedInTheDivisor()
    {
        var layer = new AvgPool2d(3, 2, 1);
        Tensor x = Tensor.RandomNormal(new RandomGenerator(2), [2, 2, 5, 6]);

        Assert.That(layer.ToString(), Is.EqualTo("AvgPool2d(k3, s2, p1)"));
        Assert.That(layer.Forward(x).ToArray(), Is.EqualTo(x.AvgPool2d(3, 2, 1).ToArray()));
        Assert.That(new AvgPool2d(2).Stride, Is.EqualTo(2));
        // The corner window of ones with padding 1 holds 4 ones and 5 zeros of padding: 4/9 (count_include_pad).
        Assert.That(layer.Forward(Tensor.Ones(1, 1, 4, 4))[0, 0, 0, 0], Is.EqualTo(4f / 9f).Within(1e-6f));
    }

    [Test]
    public void GlobalAvgPoolGivesOneValuePerChannel()
    {
        Tensor x = Tensor.RandomNormal(new RandomGenerator(3), [2, 3, 4, 5]);

        Tensor y = new GlobalAvgPool2d().Forward(x);

        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        float[] values = x.ToArray();
        Assert.That(y[1, 2], Is.EqualTo(values.Skip(20 * 5).Take(20).Average()).Within(1e-6f));
        Assert.That(new GlobalAvgPool2d().ToString(), Is.EqualTo("GlobalAvgPool2d()"));
    }

    [Test]
    public void GradientsFlowThroughEachModule()
    {
        Tensor x = GradientCaseInputs();
        foreach (Module layer in new Module[] { new MaxPool2d(2), new AvgPool2d(3, 2, 1), new GlobalAvgPool2d() })
        {
            GradCheckResult result = GradCheck.Check(inputs => layer.Forward(inputs[0]), [x]);
            Assert.That(result.Passed, Is.True, $"{layer}: {result}");
        }
    }

    [Test]
    public void BadArgumentsAndInputsNameTheLayer()
    {
        Assert.Throws<ArgumentException>(() => _ = new MaxPool2d(0));
        Assert.Throws<ArgumentException>(() => _ = new MaxPool2d(2, 0));
        Assert.Throws<ArgumentException>(() => _ = new AvgPool2d(2, padding: 2));
        Assert.Throws<ArgumentException>(() => _ = new AvgPool2d(3, padding: -1));

        var rank = Assert.Throws<ArgumentException>(() => new MaxPool2d(2).Forward(Tensor.Zeros(3, 4, 4)));
        Assert.That(rank!.Message, Is.EqualTo("MaxPool2d(k2, s2): input (3, 4, 4), expected (N, C, H, W)."));
        var small = Assert.Throws<ArgumentException>(() => new AvgPool2d(3).Forward(Tensor.Zeros(1, 2, 2, 5)));
        Assert.That(small!.Message, Does.Contain("AvgPool2d(k3, s3)").And.Contain("(1, 2, 2, 5)"));
        var global = Assert.Throws<ArgumentException>(() => new GlobalAvgPool2d().Forward(Tensor.Zeros(2, 3)));
        Assert.That(global!.Message, Does.Contain("GlobalAvgPool2d()").And.Contain("(2, 3)"));
    }

    /// <summary>Distinct values 0.1 apart, so a finite difference never changes which element wins a max window.</summary>
    private static Tensor GradientCaseInputs() => NeuralCore.Tests.Autodiff.GradientCase.Distinct(4, 2, 2, 5, 6);
}
