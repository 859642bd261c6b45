using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Schedules;
using NUnit.Framework;

namespace NeuralCore.Tests.Optimizers;

/// <summary>Every schedule's value at every step of a run, with the edges: step 0, the last step and after the end.</summary>
[TestFixture]
public sealed class ScheduleTests
{
    [Test]
    public void ConstantAndStepSchedules()
    {
        var constant = new ConstantSchedule(0.5);
        var step = new StepSchedule(stepSize: 3, gamma: 0.5);
        for (int t = 0; t <= 20; t++)
        {
            Assert.That(constant.Value(t), Is.EqualTo(0.5));
            Assert.That(step.Value(t), Is.EqualTo(Math.Pow(0.5, t / 3)), $"t = {t}");
        }
        Assert.That(step.Value(2), Is.EqualTo(1));
        Assert.That(step.Value(3), Is.EqualTo(0.5));
    }

    [Test]
    public void LinearDecayIsThePapersSchedule()
    {
        var schedule = new LinearDecaySchedule(holdSteps: 100, decaySteps: 100);
        for (int epoch = 0; epoch <= 250; epoch++)
        {
            double documented = epoch <= 100 ? 1 : epoch >= 200 ? 0 : 1 - (epoch - 100) / 100.0;
            Assert.That(schedule.Value(epoch), Is.EqualTo(documented), $"epoch {epoch}");
            // The paper's lr·min(2 − epoch/100, 1), up to rounding, over its 200 epochs.
            if (epoch < 200)
            {
                Assert.That(schedule.Value(epoch), Is.EqualTo(Math.Min(2 - epoch / 100.0, 1)).Within(1e-15), $"epoch {epoch}");
            }
        }
        Assert.That(schedule.Value(0), Is.EqualTo(1));
        Assert.That(schedule.Value(150), Is.EqualTo(0.5));
        Assert.That(schedule.Value(199), Is.EqualTo(0.01).Within(1e-15));
        Assert.That(schedule.Value(200), Is.Zero);
        Assert.That(schedule.Value(int.MaxValue), Is.Zero);
    }

    [Test]
    public void CosineScheduleAndWarmup()
    {
        var cosine = new CosineSchedule(totalSteps: 10, minimum: 0.1);
        WarmupSchedule warm = cosine.WithWarmup(4);
        for (int t = 0; t <= 15; t++)
        {
            double expected = t >= 10 ? 0.1 : 0.1 + 0.9 * (1 + Math.Cos(Math.PI * t / 10)) / 2;
            Assert.That(cosine.Value(t), Is.EqualTo(expected), $"t = {t}");
            double warmed = t + 1 >= 4 ? expected : expected * (t + 1) / 4;
            Assert.That(warm.Value(t), Is.EqualTo(warmed), $"t = {t}");
        }
        Assert.That(cosine.Value(0), Is.EqualTo(1));
        Assert.That(cosine.Value(5), Is.EqualTo(0.55).Within(1e-15));
        Assert.That(warm.Value(0), Is.EqualTo(0.25));
        Assert.That(warm.Value(3), Is.EqualTo(cosine.Value(3)));
        Assert.That(new ConstantSchedule().WithWarmup(1).Value(0), Is.EqualTo(1));
    }

    [Test]
    public void PiecewiseConstantIsThePapersBeta1()
    {
        var beta1 = new PiecewiseConstantSchedule([100], [0.9, 0.5]);
        for (int epoch = 0; epoch < 300; epoch++)
        {
            Assert.That(beta1.Value(epoch), Is.EqualTo(epoch < 100 ? 0.9 : 0.5));
        }
        var three = new PiecewiseConstantSchedule([2, 5], [3.0, 2.0, 1.0]);
        Assert.That(Enumerable.Range(0, 7).Select(three.Value), Is.EqualTo(new[] { 3.0, 3, 2, 2, 2, 1, 1 }));
    }

    [Test]
    public void BadSchedulesThrow()
    {
        Assert.Throws<ArgumentException>(() => new StepSchedule(0));
        Assert.Throws<ArgumentException>(() => new StepSchedule(1, double.NaN));
        Assert.Throws<ArgumentException>(() => new LinearDecaySchedule(-1, 10));
        Assert.Throws<ArgumentException>(() => new LinearDecaySchedule(0, 0));
        Assert.Throws<ArgumentException>(() => new CosineSchedule(10, 1.5));
        Assert.Throws<ArgumentException>(() => new ConstantSchedule().WithWarmup(0));
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantSchedule([5, 5], [1.0, 2, 3]));
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantSchedule([5], [1.0]));
        Assert.Throws<ArgumentException>(() => new ConstantSchedule().Value(-1));
    }

    [Test]
    public void SchedulerSetsStepZeroAtOnceAndKeepsGroupRatios()
    {
        Tensor g = Tensor.Ones(2).RequireGrad(), v = Tensor.Ones(3).RequireGrad();
        var adam = new Adam([new ParameterGroup([g]) { LearningRate = 0.03 }, new ParameterGroup([v])], learningRate: 0.01);
        var learningRate = Scheduler.ForLearningRate(adam, new LinearDecaySchedule(2, 4));
        var beta1 = Scheduler.ForBeta1(adam, new PiecewiseConstantSchedule([3], [0.9, 0.5]));
        for (int t = 0; t <= 8; t++)
        {
            Assert.That(learningRate.StepCount, Is.EqualTo(t));
            double factor = new LinearDecaySchedule(2, 4).Value(t);
            Assert.That(adam.Groups[0].LearningRate, Is.EqualTo(0.03 * factor), $"t = {t}");
            Assert.That(adam.Groups[1].LearningRate, Is.EqualTo(0.01 * factor), $"t = {t}");
            Assert.That(adam.Groups.Select(group => group.Beta1), Is.All.EqualTo(t < 3 ? 0.9 : 0.5));
            learningRate.Step();
            beta1.Step();
        }
    }

    [Test]
    public void SchedulerRejectsMissingHyperparametersAndBadValues()
    {
        var sgd = new Sgd([Tensor.Ones(2).RequireGrad()], learningRate: 0.1);
        var ex = Assert.Throws<ArgumentException>(() => Scheduler.ForBeta1(sgd, new ConstantSchedule(0.5)));
        Assert.That(ex!.Message, Does.Contain("Sgd has no beta1"));

        var adam = new Adam([Tensor.Ones(2).RequireGrad()]);
        var beta1 = Scheduler.ForBeta1(adam, new PiecewiseConstantSchedule([1], [0.9, 1.0]));
        ex = Assert.Throws<ArgumentException>(beta1.Step);
        Assert.That(ex!.Message, Does.Contain("beta1").And.Contain("[0, 1)"));
    }
}
