using NeuralCore.Engine;
using NUnit.Framework;

namespace NeuralCore.Tests.Core;

[TestFixture]
public sealed class TensorTests
{
    [Test]
    public void CreationFunctionsFillShapeAndValues()
    {
        Assert.That(Tensor.Zeros(2, 3).ToArray(), Is.EqualTo(new float[6]));
        Assert.That(Tensor.Ones(2).ToArray(), Is.EqualTo(new[] { 1f, 1f }));
        Assert.That(Tensor.Full(7f, 1, 2).ToArray(), Is.EqualTo(new[] { 7f, 7f }));
        Assert.That(Tensor.Arange(1f, 2f, 0.25f).ToArray(), Is.EqualTo(new[] { 1f, 1.25f, 1.5f, 1.75f }));
        Assert.That(Tensor.Arange(3f, 0f, -1f).ToArray(), Is.EqualTo(new[] { 3f, 2f, 1f }));
        Assert.That(Tensor.Scalar(4f).Rank, Is.Zero);
        Assert.That(Tensor.Scalar(4f).Item(), Is.EqualTo(4f));
        Tensor m = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.That(m.Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        Assert.That(m[1, 0], Is.EqualTo(4f));
        Assert.That(m[-1, -1], Is.EqualTo(6f));
    }

    [Test]
    public void FromArrayCopiesButWrapShares()
    {
        float[] data = [1f, 2f];
        Tensor copy = Tensor.FromArray(data, 2);
        Tensor shared = Tensor.Wrap(data, 2);
        data[0] = 9f;

        Assert.That(copy[0], Is.EqualTo(1f));
        Assert.That(shared[0], Is.EqualTo(9f));
    }

    [Test]
    public void SeededRandomTensorsAreReproducible()
    {
        Tensor a = Tensor.RandomNormal(new RandomGenerator(5), [3, 4]);
        Tensor b = Tensor.RandomNormal(new RandomGenerator(5), [3, 4]);
        Tensor c = Tensor.RandomUniform(new RandomGenerator(5), [12], -1f, 1f);

        Assert.That(a.ToArray(), Is.EqualTo(b.ToArray()));
        Assert.That(c.ToArray(), Has.All.InRange(-1f, 1f));
    }

    [Test]
    public void BadShapesAndIndicesGiveClearErrors()
    {
        var negative = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        Assert.That(negative!.Message, Does.Contain("Zeros").And.Contain("(2, -1)"));

        var count = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2));
        Assert.That(count!.Message, Does.Contain("FromArray").And.Contain("(2, 2)"));

        var overflow = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1 << 16, 1 << 16));
        Assert.That(overflow!.Message, Does.Contain("elements"));

        Tensor t = Tensor.Zeros(2, 3);
        var rank = Assert.Throws<ArgumentException>(() => _ = t[1]);
        Assert.That(rank!.Message, Does.Contain("1 indices").And.Contain("(2, 3)"));
        var range = Assert.Throws<ArgumentException>(() => _ = t[0, 3]);
        Assert.That(range!.Message, Does.Contain("index 3").And.Contain("size 3"));

        var item = Assert.Throws<InvalidOperationException>(() => t.Item());
        Assert.That(item!.Message, Does.Contain("Item").And.Contain("6 elements"));

        Assert.Throws<ArgumentException>(() => Tensor.Arange(0f, 1f, 0f));
        var axis = Assert.Throws<ArgumentException>(() => t.Size(2));
        Assert.That(axis!.Message, Does.Contain("axis 2"));
    }

    [Test]
    public void SettingAnElementOfATrackedTensorWhileRecordingThrows()
    {
        Tensor p = Tensor.Ones(2).RequireGrad();
        var error = Assert.Throws<InvalidOperationException>(() => p[0] = 3f);
        Assert.That(error!.Message, Does.Contain("NoGrad"));
        using (NeuralCore.Engine.Autodiff.Tape.NoGrad())
        {
            p[0] = 3f;
        }
        Assert.That(p[0], Is.EqualTo(3f));
    }
}
