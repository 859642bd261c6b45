using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Schedules;
using NUnit.Framework;
using static NeuralCore.Tests.Optimizers.OptimizerTestSupport;

namespace NeuralCore.Tests.Optimizers;

/// <summary>Bad input gets an exception naming the optimizer, the hyperparameter and the value; groups; skipped parameters.</summary>
[TestFixture]
public sealed class OptimizerValidationTests
{
    private static Tensor Parameter() => Tensor.Ones(3).RequireGrad();

    [Test]
    public void BadHyperparametersNameOptimizerHyperparameterAndValue()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam([Parameter()], beta1: 1.2))!.Message,
            Is.EqualTo("Adam: beta1 = 1.2, expected a value in [0, 1)."));
        Assert.That(Assert.Throws<ArgumentException>(() => new Sgd([Parameter()], learningRate: -0.1))!.Message,
            Is.EqualTo("Sgd: lr = -0.1, expected a finite value >= 0."));
        Assert.That(Assert.Throws<ArgumentException>(() => new AdamW([Parameter()], learningRate: double.NaN))!.Message,
            Does.StartWith("AdamW: lr = NaN"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Adamax([Parameter()], beta2: -0.1))!.Message,
            Does.StartWith("Adamax: beta2 = -0.1"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam([Parameter()], beta2: 1))!.Message, Does.Contain("[0, 1)"));
        Assert.That(Assert.Throws<ArgumentException>(() => new RmsProp([Parameter()], alpha: 1.5))!.Message, Does.StartWith("RmsProp: alpha = 1.5"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam([Parameter()], epsilon: -1))!.Message, Does.StartWith("Adam: eps = -1"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Sgd([Parameter()], 0.1, momentum: -1))!.Message, Does.StartWith("Sgd: momentum = -1"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Sgd([Parameter()], 0.1, weightDecay: double.PositiveInfinity))!.Message,
            Does.StartWith("Sgd: weight_decay = ∞").Or.StartWith("Sgd: weight_decay = Infinity"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Sgd([Parameter()], 0.1, nesterov: true))!.Message,
            Does.Contain("nesterov = true needs momentum > 0"));
    }

    [Test]
    public void AHyperparameterSetBetweenStepsIsCheckedAtTheStep()
    {
        Tensor p = Parameter();
        var adam = new Adam([new ParameterGroup([p], "weights"), new ParameterGroup([Parameter()])]);
        SetGradient(p, [1f, 1f, 1f]);
        adam.Groups[0].Beta1 = 1.2;
        var ex = Assert.Throws<ArgumentException>(adam.Step);
        Assert.That(ex!.Message, Is.EqualTo("Adam: beta1 = 1.2 (group 0, 'weights'), expected a value in [0, 1)."));
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f }), "a rejected step changes nothing");
        adam.Groups[0].Beta1 = 0.5;
        adam.Step();
        Assert.That(p[0], Is.LessThan(1f));
    }

    [Test]
    public void GroupsRejectSharedParametersAndHyperparametersTheOptimizerLacks()
    {
        Tensor p = Parameter();
        var ex = Assert.Throws<ArgumentException>(() => new Adam([new ParameterGroup([p]), new ParameterGroup([p])]));
        Assert.That(ex!.Message, Does.Contain("appears twice").And.Contain("group 1"));
        Assert.Throws<ArgumentException>(() => new Adam([p, p]));
        ex = Assert.Throws<ArgumentException>(() => new Sgd([new ParameterGroup([p]) { Beta1 = 0.9 }], learningRate: 0.1));
        Assert.That(ex!.Message, Does.Contain("Sgd has no beta1"));
        Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<Tensor>()));
        Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<ParameterGroup>()));
        Tensor nonLeaf = p * p;
        Assert.Throws<ArgumentException>(() => new Adam([nonLeaf]));
    }

    [Test]
    public void GroupsTakeTheirOwnSettingsAndTheDefaultsForTheRest()
    {
        var adam = new Adam(
            [new ParameterGroup([Parameter()]) { LearningRate = 3e-3, Beta1 = 0.5 }, new ParameterGroup([Parameter()]) { WeightDecay = 0.1 }],
            learningRate: 1e-3, weightDecay: 0.01);
        Assert.That(adam.Groups[0].LearningRate, Is.EqualTo(3e-3));
        Assert.That(adam.Groups[0].Beta1, Is.EqualTo(0.5));
        Assert.That(adam.Groups[0].WeightDecay, Is.EqualTo(0.01));
        Assert.That(adam.Groups[1].LearningRate, Is.EqualTo(1e-3));
        Assert.That(adam.Groups[1].Beta2, Is.EqualTo(0.999));
        Assert.That(adam.Groups[1].WeightDecay, Is.EqualTo(0.1));
        Assert.That(adam.Groups[0].Momentum, Is.Null);
    }

    [Test]
    public void ParametersWithoutAGradientAreSkipped()
    {
        Tensor withGradient = Parameter(), without = Parameter();
        var sgd = new Sgd([withGradient, without], learningRate: 0.5, momentum: 0.9);
        SetGradient(withGradient, [1f, 2f, 3f]);
        sgd.Step();
        Assert.That(withGradient.ToArray(), Is.EqualTo(new[] { 0.5f, 0f, -0.5f }));
        Assert.That(without.ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f }));
        Assert.That(sgd.StateDict().Tensors.Keys, Is.EquivalentTo(new[] { "state.0.momentum_buffer" }));
        sgd.ZeroGrad();
        Assert.That(withGradient.Grad!.ToArray(), Is.All.Zero);
    }

    [Test]
    public void AStepAfterTheFirstAllocatesNothing()
    {
        // Every optimizer and option, plus clipping, averaging and both schedulers, in one loop. The first steps
        // create the moment buffers and JIT the code; after that a step must allocate no managed memory at all (0 bytes:
        // the loops index arrays, the kernels work on spans, and messages are built only on the way to an exception).
        var random = new RandomGenerator(7);
        Tensor[] parameters = [.. Enumerable.Range(0, 4).Select(i => Tensor.RandomNormal(random, [10 + i, 37]).RequireGrad())];
        foreach (Tensor p in parameters)
        {
            SetGradient(p, Tensor.RandomNormal(random, p.Shape).ToArray());
        }
        Optimizer[] optimizers =
        [
            new Sgd(parameters, 1e-3, momentum: 0.9, nesterov: true),
            new Sgd([new ParameterGroup(parameters[..2]), new ParameterGroup(parameters[2..]) { LearningRate = 1e-4 }], 1e-3),
            new Adam(parameters, amsGrad: true, weightDecay: 0.1),
            new AdamW(parameters),
            new Adamax(parameters),
            new RmsProp(parameters, centered: true, momentum: 0.5),
        ];
        var learningRate = Scheduler.ForLearningRate(optimizers[2], new CosineSchedule(1000).WithWarmup(10));
        var beta1 = Scheduler.ForBeta1(optimizers[2], new PiecewiseConstantSchedule([50], [0.9, 0.5]));
        var average = new ExponentialMovingAverage(parameters);
        void Loop()
        {
            GradientClipping.ClipByGlobalNorm(optimizers[0], 100.0);
            GradientClipping.ClipByValue(parameters, 10.0);
            foreach (Optimizer optimizer in optimizers)
            {
                optimizer.Step();
            }
            average.Update();
            learningRate.Step();
            beta1.Step();
        }
        for (int i = 0; i < 3; i++)
        {
            Loop();
        }
        long allocated = AllocationWindows.QuietestWindow(Loop, 100);
        Assert.That(allocated, Is.Zero, "bytes allocated by 100 steps, quietest of 3 windows");
    }
}
