using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>The loss objects compute the engine's losses (tested in Ops/LossTests) and pass their errors on.</summary>
[TestFixture]
public sealed class LossModuleTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void CrossEntropyLossMatchesADoubleReferenceAndBackpropagates()
    {
        Tensor logits = Tensor.RandomNormal(new RandomGenerator(91), [3, 4]).RequireGrad();
        int[] labels = [2, 0, 3];

        Tensor loss = new CrossEntropyLoss().Compute(logits, labels);
        loss.Backward();

        float[] v = logits.ToArray();
        double expected = Enumerable.Range(0, 3).Average(i =>
        {
            double[] row = v.Skip(i * 4).Take(4).Select(x => (double)x).ToArray();
            return Math.Log(row.Sum(Math.Exp)) - row[labels[i]];
        });
        Assert.That(loss.Item(), Is.EqualTo(expected).Within(1e-6));
        Assert.That(logits.Grad, Is.Not.Null);
        Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Compute(logits, [0, 1]));
    }

    [Test]
    public void MseLossMatchesADoubleReference()
    {
        Tensor a = Tensor.RandomNormal(new RandomGenerator(92), [5, 3]);
        Tensor b = Tensor.RandomNormal(new RandomGenerator(93), [5, 3]);

        float loss = new MseLoss().Compute(a, b).Item();

        double expected = a.ToArray().Zip(b.ToArray(), (x, y) => ((double)x - y) * ((double)x - y)).Average();
        Assert.That(loss, Is.EqualTo(expected).Within(1e-6));
        Assert.Throws<ArgumentException>(() => new MseLoss().Compute(a, Tensor.Zeros(3, 5)));
    }
}
