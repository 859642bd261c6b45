using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Autodiff;

/// <summary>Runs every <see cref="GradientCases"/> entry through <see cref="GradCheck"/>, and checks coverage.</summary>
[TestFixture]
public sealed class GradientTests
{
    // One failing case must not leave a half-finished step behind for the next.
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [TestCaseSource(typeof(GradientCases), nameof(GradientCases.All))]
    public void AnalyticGradientMatchesFiniteDifferences(GradientCase testCase)
    {
        GradCheckResult result = GradCheck.Check(testCase.Function, testCase.MakeInputs(), tolerance: testCase.Tolerance);

        Assert.That(result.Passed, Is.True, result.ToString());
    }

    [Test]
    public void EveryDifferentiableOpHasAGradientCheck()
    {
        var exercised = new HashSet<string>();
        foreach (GradientCase testCase in GradientCases.All())
        {
            Tensor[] inputs = testCase.MakeInputs();
            foreach (Tensor input in inputs)
            {
                input.RequiresGrad = true;
            }
            Tensor output = testCase.Function(inputs);
            exercised.UnionWith(output.RecordingTape!.OpNames());
            Tape.Current.Reset();
        }

        string[] missing = Derivatives.All.Select(d => d.Op).Where(op => !exercised.Contains(op)).ToArray();
        Assert.That(missing, Is.Empty, "ops listed in Derivatives with no gradient check");
    }

    [Test]
    public void EveryRecordedOpIsListedInDerivatives()
    {
        var recorded = new HashSet<string>();
        foreach (GradientCase testCase in GradientCases.All())
        {
            Tensor[] inputs = testCase.MakeInputs();
            foreach (Tensor input in inputs)
            {
                input.RequiresGrad = true;
            }
            recorded.UnionWith(testCase.Function(inputs).RecordingTape!.OpNames());
            Tape.Current.Reset();
        }

        string[] unlisted = recorded.Where(op => Derivatives.Find(op) is null).ToArray();
        Assert.That(unlisted, Is.Empty, "ops recorded on the tape that Derivatives does not list");
    }

    [Test]
    public void GradCheckCatchesAWrongGradient()
    {
        // A deliberately wrong rule must fail the check: the checker itself can fail.
        Tensor[] inputs = [GradientCase.Normal(99, 8)];
        GradCheckResult result = GradCheck.Check(x => x[0].Exp(), inputs);
        Assert.That(result.Passed, Is.True, result.ToString());

        GradCheckResult wrong = GradCheck.Check(x => WrongSquare(x[0]), [GradientCase.Normal(98, 8)]);
        Assert.That(wrong.Passed, Is.False, wrong.ToString());
    }

    // x·x computed with a detached second factor: the tape sees x·c, so the analytic gradient is half the true one.
    private static Tensor WrongSquare(Tensor x) => x * x.Detach();
}
