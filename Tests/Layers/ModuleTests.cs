using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// Module plumbing through real layers: Sequential's "0", "1", … naming (nested too), the state dict round trip with
/// parameters and buffers, strict LoadStateDict errors, and Train/Eval reaching every descendant.
/// </summary>
[TestFixture]
public sealed class ModuleTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    private static Sequential MakeModel(ulong seed)
    {
        var random = new RandomGenerator(seed);
        return new Sequential(
            new Sequential(new Linear(4, 6, random: random), new BatchNorm1d(6), new ReLU()),
            new Dropout(0.5f, random),
            new Linear(6, 3, random: random),
            new MeanOnlyBatchNorm1d(3));
    }

    [Test]
    public void SequentialRegistersChildrenByIndexWithDottedNames()
    {
        Sequential model = MakeModel(1);

        Assert.That(model.NamedParameters().Select(p => p.Key), Is.EqualTo(new[]
        {
            "0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "2.weight", "2.bias", "3.bias",
        }));
        Assert.That(model.NamedBuffers().Select(b => b.Key), Is.EqualTo(new[]
        {
            "0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked", "3.running_mean",
        }));
        Assert.That(model.Count, Is.EqualTo(4));
        Assert.That(model[2], Is.InstanceOf<Linear>());
        Assert.That(model[-1], Is.InstanceOf<MeanOnlyBatchNorm1d>());
        Assert.That(((Sequential)model[0])[1], Is.SameAs(model.NamedModules().Single(m => m.Key == "0.1").Value));
        Assert.That(model.Parameters().All(p => p.RequiresGrad), Is.True);
        Assert.That(model.NamedBuffers().All(b => !b.Value.RequiresGrad), Is.True);
        Assert.That(model.ToString(), Is.EqualTo(
            "Sequential(Sequential(Linear(4→6), BatchNorm1d(6), ReLU()), Dropout(p=0.5), Linear(6→3), MeanOnlyBatchNorm1d(3))"));
    }

    [Test]
    public void SequentialAddAppendsAndIndexerRejectsOutOfRange()
    {
        var model = new Sequential();
        model.Add(new Linear(2, 2)).Add(new Tanh());

        Assert.That(model.Count, Is.EqualTo(2));
        Assert.That(model.Children().Select(c => c.Key), Is.EqualTo(new[] { "0", "1" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = model[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = model[-3]);
        Assert.Throws<ArgumentNullException>(() => model.Add(null!));
    }

    [Test]
    public void SequentialForwardChainsItsLayers()
    {
        var random = new RandomGenerator(2);
        var first = new Linear(3, 4, random: random);
        var second = new Linear(4, 2, random: random);
        var model = new Sequential(first, new Tanh(), second);
        Tensor x = Tensor.RandomNormal(random, [5, 3]);

        float[] chained = model.Forward(x).ToArray();
        float[] byHand = second.Forward(first.Forward(x).Tanh()).ToArray();

        Assert.That(chained, Is.EqualTo(byHand));
    }

    [Test]
    public void StateDictRoundTripRestoresParametersAndBuffers()
    {
        Sequential source = MakeModel(3);
        // Move the running statistics off their initial values so the buffers carry information.
        source.Forward(Tensor.RandomNormal(new RandomGenerator(4), [8, 4]));
        Sequential target = MakeModel(5);

        target.LoadStateDict(source.StateDict());

        Dictionary<string, Tensor> expected = source.StateDict(), actual = target.StateDict();
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (string name in expected.Keys)
        {
            Assert.That(actual[name].ToArray(), Is.EqualTo(expected[name].ToArray()), name);
        }
        Assert.That(((BatchNorm1d)((Sequential)target[0])[1]).NumBatchesTracked, Is.EqualTo(1));
        using (Tape.NoGrad())
        {
            source.Eval();
            target.Eval();
            Tensor x = Tensor.RandomNormal(new RandomGenerator(6), [3, 4]);
            Assert.That(target.Forward(x).ToArray(), Is.EqualTo(source.Forward(x).ToArray()));
        }
    }

    [Test]
    public void LoadStateDictCopiesInPlaceKeepingTensorIdentity()
    {
        Sequential model = MakeModel(7);
        Tensor weightBefore = model.NamedParameters().First().Value;

        model.LoadStateDict(MakeModel(8).StateDict());

        Assert.That(model.NamedParameters().First().Value, Is.SameAs(weightBefore));
    }

    [Test]
    public void StrictLoadStateDictNamesMissingUnexpectedAndMisShapedEntries()
    {
        Sequential model = MakeModel(9);
        float[] before = model.NamedParameters().First().Value.ToArray();
        Dictionary<string, Tensor> state = MakeModel(10).StateDict();
        state.Remove("0.1.running_var");
        state.Add("4.weight", Tensor.Zeros(3));
        state["3.bias"] = Tensor.Zeros(4);

        var error = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));

        Assert.That(error!.Message, Does.Contain("missing: 0.1.running_var"));
        Assert.That(error.Message, Does.Contain("unexpected: 4.weight"));
        Assert.That(error.Message, Does.Contain("'3.bias' has shape (4) in the state dict, (3) in the model"));
        Assert.That(model.NamedParameters().First().Value.ToArray(), Is.EqualTo(before), "nothing is changed on error");
    }

    [Test]
    public void NonStrictLoadStateDictSkipsMissingAndUnexpectedButNotMisShaped()
    {
        Sequential model = MakeModel(11);
        Dictionary<string, Tensor> state = new() { ["2.bias"] = Tensor.Full(7f, 3), ["extra"] = Tensor.Zeros(1) };

        model.LoadStateDict(state, strict: false);

        Assert.That(((Linear)model[2]).Bias!.ToArray(), Is.EqualTo(new[] { 7f, 7f, 7f }));
        Assert.Throws<ArgumentException>(() => model.LoadStateDict(new Dictionary<string, Tensor> { ["2.bias"] = Tensor.Zeros(2) }, strict: false));
    }

    [Test]
    public void TrainAndEvalReachEveryDescendant()
    {
        Sequential model = MakeModel(12);
        Assert.That(model.NamedModules().All(m => m.Value.IsTraining), Is.True, "modules start in training mode");

        model.Eval();
        Assert.That(model.NamedModules().All(m => !m.Value.IsTraining), Is.True);

        model[0].Train();
        Assert.That(model.NamedModules().Where(m => m.Key.StartsWith('0')).All(m => m.Value.IsTraining), Is.True);
        Assert.That(model[2].IsTraining, Is.False, "Train on a child leaves its siblings alone");
    }
}
