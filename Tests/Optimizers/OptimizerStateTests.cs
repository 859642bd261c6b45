using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Schedules;
using NUnit.Framework;
using static NeuralCore.Tests.Optimizers.OptimizerTestSupport;

namespace NeuralCore.Tests.Optimizers;

/// <summary>Save at step k, load into fresh objects, continue: identical to an uninterrupted run, bit for bit.</summary>
[TestFixture]
public sealed class OptimizerStateTests
{
    private const int Total = 10, SaveAt = 4;

    private static IEnumerable<TestCaseData> Configurations() =>
        OptimizerReferenceData.Cases.Where(c => c.Problem == "network")
            .Select(c => new TestCaseData(c.Optimizer, c.Settings).SetArgDisplayNames($"{c.Optimizer}({c.Settings})"));

    /// <summary>A run of the network problem with a scheduler on the lr, β1 where the optimizer has one, and an average.</summary>
    private sealed class Run
    {
        public Run(string name, string settings)
        {
            Settings = ParseSettings(settings);
            Parameters = Parameters(OptimizerReferenceData.NetworkStart, OptimizerReferenceData.NetworkShapes);
            Optimizer = Create(name, Settings, NetworkGroups(Parameters, Settings));
            LearningRate = Scheduler.ForLearningRate(Optimizer, new CosineSchedule(Total).WithWarmup(3));
            if (Optimizer.GroupHyperparameters.Contains(Hyperparameter.Beta1))
            {
                Beta1 = Scheduler.ForBeta1(Optimizer, new PiecewiseConstantSchedule([5], [0.9, 0.5]));
            }
            Average = new ExponentialMovingAverage(Parameters, decay: 0.9);
        }

        public Dictionary<string, double> Settings { get; }

        public Tensor[] Parameters { get; }

        public Optimizer Optimizer { get; }

        public Scheduler LearningRate { get; }

        public Scheduler? Beta1 { get; }

        public ExponentialMovingAverage Average { get; }

        public void Steps(int from, int to)
        {
            for (int step = from; step < to; step++)
            {
                SyntheticGradients(Parameters, step);
                Optimizer.Step();
                Average.Update();
                LearningRate.Step();
                Beta1?.Step();
            }
        }
    }

    [TestCaseSource(nameof(Configurations))]
    public void ResumingFromAStateDictIsBitIdentical(string name, string settings)
    {
        var uninterrupted = new Run(name, settings);
        uninterrupted.Steps(0, Total);

        var first = new Run(name, settings);
        first.Steps(0, SaveAt);
        TrainingState optimizerState = first.Optimizer.StateDict();
        TrainingState learningRateState = first.LearningRate.StateDict();
        TrainingState? beta1State = first.Beta1?.StateDict();
        TrainingState averageState = first.Average.StateDict();
        float[] saved = Concat(first.Parameters);
        first.Steps(SaveAt, Total);   // continuing must not change the snapshot

        var resumed = new Run(name, settings);
        SetGradients(resumed.Parameters, new float[saved.Length]);
        for (int i = 0, offset = 0; i < resumed.Parameters.Length; offset += resumed.Parameters[i].Count, i++)
        {
            saved.AsSpan(offset, resumed.Parameters[i].Count).CopyTo(resumed.Parameters[i].AsSpan());
        }
        resumed.Optimizer.LoadStateDict(optimizerState);
        resumed.LearningRate.LoadStateDict(learningRateState);
        if (beta1State is not null)
        {
            resumed.Beta1!.LoadStateDict(beta1State);
        }
        resumed.Average.LoadStateDict(averageState);
        resumed.Steps(SaveAt, Total);

        Assert.That(Concat(resumed.Parameters), Is.EqualTo(Concat(uninterrupted.Parameters)));
        Assert.That(Concat(first.Parameters), Is.EqualTo(Concat(uninterrupted.Parameters)));
        Assert.That(resumed.Average.Averages.SelectMany(a => a.ToArray()), Is.EqualTo(uninterrupted.Average.Averages.SelectMany(a => a.ToArray())));
        Assert.That(resumed.Optimizer.Groups.Select(g => g.LearningRate), Is.EqualTo(uninterrupted.Optimizer.Groups.Select(g => g.LearningRate)));
        TrainingState a = resumed.Optimizer.StateDict(), b = uninterrupted.Optimizer.StateDict();
        Assert.That(a.Scalars, Is.EquivalentTo(b.Scalars));
        Assert.That(a.Tensors.Keys, Is.EquivalentTo(b.Tensors.Keys));
        foreach (string key in a.Tensors.Keys)
        {
            Assert.That(a.Tensors[key].ToArray(), Is.EqualTo(b.Tensors[key].ToArray()), key);
        }
    }

    [Test]
    public void StateDictUsesPyTorchNamesAndCopies()
    {
        Tensor w = Tensor.Ones(2, 3).RequireGrad(), b = Tensor.Zeros(3).RequireGrad();
        var adam = new Adam([w, b], amsGrad: true);
        SetGradient(w, Enumerable.Repeat(0.5f, 6).ToArray());   // b gets no gradient: no state, as in PyTorch
        adam.Step();
        TrainingState state = adam.StateDict();
        Assert.That(state.Kind, Is.EqualTo("Adam"));
        Assert.That(state.Tensors.Keys, Is.EquivalentTo(new[] { "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq" }));
        Assert.That(state.Scalars["state.0.step"], Is.EqualTo(1));
        Assert.That(state.Scalars["group.0.lr"], Is.EqualTo(1e-3));
        Assert.That(state.Scalars["group.0.params"], Is.EqualTo(2));
        Assert.That(state.Scalars["amsgrad"], Is.EqualTo(1));
        Assert.That(state.Tensors["state.0.exp_avg"].Shape.ToArray(), Is.EqualTo(new[] { 2, 3 }));
        float before = state.Tensors["state.0.exp_avg"][0, 0];
        adam.Step();
        Assert.That(state.Tensors["state.0.exp_avg"][0, 0], Is.EqualTo(before));
    }

    [Test]
    public void LoadStateDictRejectsOtherOptimizersShapesAndKeysWithoutChangingState()
    {
        Tensor w = Tensor.Ones(2, 3).RequireGrad();
        var adam = new Adam([w]);
        SetGradient(w, Enumerable.Repeat(0.5f, 6).ToArray());
        adam.Step();
        TrainingState good = adam.StateDict();

        var sgd = new Sgd([Tensor.Ones(2, 3).RequireGrad()], learningRate: 0.1);
        var ex = Assert.Throws<ArgumentException>(() => sgd.LoadStateDict(good));
        Assert.That(ex!.Message, Does.Contain("Sgd.LoadStateDict").And.Contain("Adam"));

        var otherShape = new Adam([Tensor.Ones(3, 2).RequireGrad()]);
        ex = Assert.Throws<ArgumentException>(() => otherShape.LoadStateDict(good));
        Assert.That(ex!.Message, Does.Contain("(2, 3)").And.Contain("(3, 2)"));

        var twoParameters = new Adam([Tensor.Ones(2, 3).RequireGrad(), Tensor.Ones(1).RequireGrad()]);
        Assert.Throws<ArgumentException>(() => twoParameters.LoadStateDict(good));

        TrainingState extra = adam.StateDict();
        extra.Tensors["state.0.momentum_buffer"] = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(extra));

        TrainingState badBeta = adam.StateDict();
        badBeta.Scalars["group.0.beta1"] = 1.5;
        TrainingState before = adam.StateDict();
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(badBeta));
        Assert.That(adam.StateDict().Scalars, Is.EquivalentTo(before.Scalars));

        TrainingState missing = adam.StateDict();
        missing.Scalars.Remove("eps");
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(missing));
    }

    [Test]
    public void SchedulerAndAverageStatesAreChecked()
    {
        Tensor w = Tensor.Ones(2).RequireGrad();
        var adam = new Adam([w]);
        var learningRate = Scheduler.ForLearningRate(adam, new StepSchedule(2));
        var beta1 = Scheduler.ForBeta1(adam, new ConstantSchedule(0.8));
        Assert.Throws<ArgumentException>(() => beta1.LoadStateDict(learningRate.StateDict()));
        Assert.Throws<ArgumentException>(() => learningRate.LoadStateDict(adam.StateDict()));

        var average = new ExponentialMovingAverage([w]);
        var otherAverage = new ExponentialMovingAverage([Tensor.Ones(3)]);
        Assert.Throws<ArgumentException>(() => otherAverage.LoadStateDict(average.StateDict()));
    }
}
