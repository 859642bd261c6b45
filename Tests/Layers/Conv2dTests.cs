using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NeuralCore.Tests.Ops;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// <see cref="Conv2d"/> without weight norm: forward and gradients against the direct double-precision convolution
/// (<see cref="ConvolutionReference"/>), PyTorch's init, names, errors naming the layer and the shapes.
/// </summary>
[TestFixture]
public sealed class Conv2dTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // Odd sizes and every geometry argument; the reference is the definition of the sum in double, and AssertClose
    // allows 2e-5 of Σ|terms| per element (float rounding of a C·k·k-term sum; a wrong index is off by a whole term).
    [TestCase(3, 5, 3, 1, 1, 1, true)]
    [TestCase(2, 4, 3, 2, 2, 2, false)]
    [TestCase(4, 3, 1, 1, 0, 1, true)]
    [TestCase(1, 2, 5, 2, 2, 1, true)]
    public void ForwardMatchesTheDirectConvolution(int inC, int outC, int k, int stride, int padding, int dilation, bool bias)
    {
        var layer = new Conv2d(inC, outC, k, stride, padding, dilation, bias, new RandomGenerator(1));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(2), [2, inC, 7, 6]);

        Tensor y = layer.Forward(x);

        ConvolutionReference.Result expected = ConvolutionReference.Forward(x, layer.Weight, layer.Bias,
            (stride, stride), (padding, padding), (dilation, dilation));
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Shape));
        ConvolutionReference.AssertClose(y.AsSpan(), expected, "y");
    }

    [Test]
    public void InitFollowsPyTorchBoundsAndIsSeeded()
    {
        var layer = new Conv2d(3, 16, 3, random: new RandomGenerator(7));
        double bound = 1 / Math.Sqrt(3 * 3 * 3); // Kaiming uniform a = √5 and the bias: U(±1/√fan_in), fan_in = C·k·k

        float[] w = layer.Weight.ToArray(), b = layer.Bias!.ToArray();

        Assert.That(layer.Weight.Shape.ToArray(), Is.EqualTo(new[] { 16, 3, 3, 3 }));
        Assert.That(w.All(v => Math.Abs(v) <= bound) && b.All(v => Math.Abs(v) <= bound), Is.True);
        Assert.That(w.Max(), Is.GreaterThan(0.8 * bound), "the draws fill the range (432 of them)");
        Assert.That(w.Min(), Is.LessThan(-0.8 * bound));
        var same = new Conv2d(3, 16, 3, random: new RandomGenerator(7));
        Assert.That(same.Weight.ToArray(), Is.EqualTo(w));
        Assert.That(same.Bias!.ToArray(), Is.EqualTo(b));
    }

    [Test]
    public void PropertiesNamesAndToString()
    {
        var layer = new Conv2d(3, 96, 3, padding: 1, random: new RandomGenerator(1));

        Assert.That(layer.ToString(), Is.EqualTo("Conv2d(3→96, k3, s1, p1)"));
        Assert.That(new Conv2d(2, 4, 3, 2, 0, 2, random: new RandomGenerator(1)).ToString(), Is.EqualTo("Conv2d(2→4, k3, s2, p0, d2)"));
        Assert.That((layer.InChannels, layer.OutChannels, layer.KernelSize, layer.Stride, layer.Padding, layer.Dilation),
            Is.EqualTo((3, 96, 3, 1, 1, 1)));
        Assert.That(layer.NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "weight", "bias" }));
        Assert.That(new Conv2d(3, 4, 1, bias: false).NamedParameters().Select(p => p.Key), Is.EqualTo(new[] { "weight" }));
    }

    [Test]
    public void WrongInputNamesTheLayerAndTheShapes()
    {
        var layer = new Conv2d(3, 96, 3, padding: 1, random: new RandomGenerator(1));

        var channels = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(32, 4, 8, 8)));
        Assert.That(channels!.Message, Is.EqualTo("Conv2d(3→96, k3, s1, p1): input (32, 4, 8, 8), expected (N, 3, H, W)."));
        var rank = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(3, 8, 8)));
        Assert.That(rank!.Message, Does.Contain("Conv2d(3→96, k3, s1, p1)").And.Contain("(3, 8, 8)"));
        var small = Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 5).Forward(Tensor.Zeros(1, 3, 4, 9)));
        Assert.That(small!.Message, Does.Contain("Conv2d(3→4, k5, s1, p0)").And.Contain("(1, 3, 4, 9)").And.Contain("too small"));
    }

    [Test]
    public void BadConstructionArgumentsThrow()
    {
        Assert.Throws<ArgumentException>(() => _ = new Conv2d(0, 4, 3));
        Assert.Throws<ArgumentException>(() => _ = new Conv2d(3, 4, 0));
        Assert.Throws<ArgumentException>(() => _ = new Conv2d(3, 4, 3, stride: 0));
        Assert.Throws<ArgumentException>(() => _ = new Conv2d(3, 4, 3, padding: -1));
        Assert.Throws<ArgumentException>(() => _ = new Conv2d(3, 4, 3, dilation: 0));
        Assert.Throws<ArgumentException>(() => Conv2d.FromWeights(Tensor.Zeros(4, 3, 3, 2), null));
        Assert.Throws<ArgumentException>(() => Conv2d.FromWeights(Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(5)));
        Assert.Throws<ArgumentException>(() => Conv2d.FromWeights(Tensor.Zeros(4, 3, 3, 3), null, stride: 0));
    }

    [Test]
    public void FromWeightsCopiesTheGivenValuesAndGeometry()
    {
        Tensor w = Tensor.RandomNormal(new RandomGenerator(3), [4, 2, 3, 3]);
        Tensor b = Tensor.RandomNormal(new RandomGenerator(4), [4]);

        Conv2d layer = Conv2d.FromWeights(w, b, stride: 2, padding: 1, dilation: 1);

        Assert.That(layer.ToString(), Is.EqualTo("Conv2d(2→4, k3, s2, p1)"));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(5), [1, 2, 5, 5]);
        Assert.That(layer.Forward(x).ToArray(), Is.EqualTo(x.Conv2d(w, b, 2, 1).ToArray()));
        Assert.That(w.RequiresGrad, Is.False, "the caller's tensor is not turned into a parameter");
        w[0, 0, 0, 0] = 100f;
        Assert.That(layer.Weight[0, 0, 0, 0], Is.Not.EqualTo(100f));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void LayerGradientsMatchFiniteDifferences(bool bias)
    {
        var layer = new Conv2d(2, 3, 3, stride: 2, padding: 1, bias: bias, random: new RandomGenerator(11));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(12), [2, 2, 5, 4]);
        Tensor[] inputs = bias ? [x, layer.Weight, layer.Bias!] : [x, layer.Weight];

        GradCheckResult result = GradCheck.Check(_ => layer.Forward(x), inputs);

        Assert.That(result.Passed, Is.True, result.ToString());
        Assert.That(result.Ops, Is.EqualTo(new[] { "conv2d" }));
    }

    [Test]
    public void GradientsMatchTheDirectConvolution()
    {
        var layer = new Conv2d(3, 4, 3, padding: 1, dilation: 2, random: new RandomGenerator(21));
        Tensor x = Tensor.RandomNormal(new RandomGenerator(22), [2, 3, 6, 5]).RequireGrad();
        Tensor y = layer.Forward(x);
        Tensor delta = Tensor.RandomNormal(new RandomGenerator(23), y.Shape);

        y.Backward(delta);

        (int, int) one = (1, 1), pad = (1, 1), dil = (2, 2);
        ConvolutionReference.AssertClose(x.Grad!.AsSpan(), ConvolutionReference.InputGradient(x, layer.Weight, delta, one, pad, dil), "∂x");
        ConvolutionReference.AssertClose(layer.Weight.Grad!.AsSpan(), ConvolutionReference.WeightGradient(x, layer.Weight, delta, one, pad, dil), "∂W");
        Assert.That(LinearReference.RelativeError(layer.Bias!.Grad!.ToArray(), ConvolutionReference.BiasGradient(delta)), Is.LessThan(1e-6));
    }
}
