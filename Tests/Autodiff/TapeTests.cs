using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Autodiff;

/// <summary>The tape's contract: accumulation, no-grad, retained and freed graphs, step memory, and its errors.</summary>
[TestFixture]
public sealed class TapeTests
{
    [SetUp]
    public void StartClean() => Tape.Current.Reset();

    [Test]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroGrad()
    {
        Tensor x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();

        (x * 2f).Backward(Tensor.Ones(3));
        (x * 3f).Backward(Tensor.Ones(3));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 5f, 5f, 5f }));
        x.ZeroGrad();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f }));
    }

    [Test]
    public void ATensorUsedTwiceReceivesBothContributions()
    {
        // y = x·x + x  ⇒  dy/dx = 2x + 1
        Tensor x = Tensor.FromArray([-1f, 0.5f, 4f]).RequireGrad();

        (x * x + x).Backward(Tensor.Ones(3));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { -1f, 2f, 9f }));
    }

    [Test]
    public void SeedGradientOfANonScalarOutputIsUsed()
    {
        Tensor x = Tensor.FromArray([1f, 2f]).RequireGrad();

        (x * 3f).Backward(Tensor.FromArray([10f, -1f]));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 30f, -3f }));
    }

    [Test]
    public void BroadcastInputReceivesTheSumOverBroadcastAxes()
    {
        Tensor a = Tensor.Ones(2, 3).RequireGrad();
        Tensor bias = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();

        (a + bias).Backward(Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3));

        Assert.That(bias.Grad!.ToArray(), Is.EqualTo(new[] { 5f, 7f, 9f }));
        Assert.That(bias.Grad!.Shape.ToArray(), Is.EqualTo(new[] { 3 }));
    }

    [Test]
    public void NoGradRecordsNothingAndResultsDoNotRequireGrad()
    {
        Tensor x = Tensor.Ones(4).RequireGrad();
        int before = Tape.Current.Count;
        Tensor y;
        using (Tape.NoGrad())
        {
            Assert.That(Tape.IsRecording, Is.False);
            y = x * 2f + x;
        }

        Assert.That(Tape.IsRecording, Is.True);
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(Tape.Current.Count, Is.EqualTo(before));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 3f, 3f, 3f, 3f }));
    }

    [Test]
    public void OpsOnTensorsThatDoNotRequireGradAreNotRecorded()
    {
        Tensor a = Tensor.Ones(3);
        Tensor b = a + a;

        Assert.That(b.RequiresGrad, Is.False);
        Assert.That(b.IsLeaf, Is.True);
        Assert.That(Tape.Current.Count, Is.Zero);
    }

    [Test]
    public void DetachStopsTheGradientButSharesValues()
    {
        Tensor x = Tensor.FromArray([2f, 3f]).RequireGrad();
        Tensor d = x.Detach();

        Assert.That(d.RequiresGrad, Is.False);
        (x * d).Backward(Tensor.Ones(2));

        // Only the tracked factor contributes: ∂(x·c)/∂x = c = x.
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2f, 3f }));
    }

    [Test]
    public void SecondBackwardThroughAFreedGraphThrowsNamingTheOp()
    {
        Tensor x = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor y = (x * 2f).Exp();
        y.Backward(Tensor.Ones(2));

        var error = Assert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Ones(2)));
        Assert.That(error!.Message, Does.Contain("exp").And.Contain("retainGraph"));
    }

    [Test]
    public void RetainGraphAllowsASecondBackward()
    {
        Tensor x = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor y = (x * 2f).Exp();
        y.Backward(Tensor.Ones(2), retainGraph: true);
        float[] once = x.Grad!.ToArray();

        y.Backward(Tensor.Ones(2));

        Assert.That(x.Grad!.ToArray(), Is.EqualTo(once.Select(g => 2 * g).ToArray()).Within(1e-5f));
    }

    [Test]
    public void ResultsLiveUntilTheNextStepBeginsThenFailLoudly()
    {
        Tensor w = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor loss = (w * w).Exp();
        loss.Backward(Tensor.Ones(2));

        // After backward, the step's results are still readable...
        Assert.That(loss.ToArray()[0], Is.EqualTo(MathF.Exp(1f)).Within(1e-6f));
        // ...until an op on fresh inputs starts the next step.
        _ = w * 3f;
        var error = Assert.Throws<InvalidOperationException>(() => loss.ToArray());
        Assert.That(error!.Message, Does.Contain("released"));
    }

    [Test]
    public void ResetReturnsBuffersToThePoolAndTheNextStepReusesThem()
    {
        Tensor w = Tensor.Ones(64).RequireGrad();
        for (int step = 0; step < 3; step++)
        {
            (w * 2f + w).Backward(Tensor.Ones(64));
        }
        Tape.Current.Reset();
        int pooled = Tape.Current.PooledBufferCount;

        (w * 2f + w).Backward(Tensor.Ones(64));
        Tape.Current.Reset();

        // The same step again needs no new buffers: the pool neither shrinks nor grows.
        Assert.That(pooled, Is.GreaterThan(0));
        Assert.That(Tape.Current.PooledBufferCount, Is.EqualTo(pooled));
    }

    [Test]
    public void BackwardOnATensorThatDoesNotRequireGradThrows()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Tensor.Ones(2).Backward(Tensor.Ones(2)));
        Assert.That(error!.Message, Does.Contain("Backward").And.Contain("does not require grad"));
    }

    [Test]
    public void BackwardOfANonScalarWithoutSeedThrows()
    {
        Tensor x = Tensor.Ones(3).RequireGrad();
        var error = Assert.Throws<ArgumentException>(() => (x * 2f).Backward());
        Assert.That(error!.Message, Does.Contain("Backward").And.Contain("(3)"));
    }

    [Test]
    public void BackwardWithAWrongShapedSeedThrows()
    {
        Tensor x = Tensor.Ones(3).RequireGrad();
        var error = Assert.Throws<ArgumentException>(() => (x * 2f).Backward(Tensor.Ones(2)));
        Assert.That(error!.Message, Does.Contain("(2)").And.Contain("(3)"));
    }

    [Test]
    public void RequiresGradCannotBeChangedOnAnOpResult()
    {
        Tensor y = Tensor.Ones(2).RequireGrad() * 2f;
        var error = Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.That(error!.Message, Does.Contain("mul_scalar"));
    }

    [Test]
    public void RetainGradKeepsAnIntermediateGradient()
    {
        Tensor x = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor h = x * 3f;
        h.RetainGrad();
        Tensor y = h * h;
        y.Backward(Tensor.Ones(2));

        Assert.That(h.Grad!.ToArray(), Is.EqualTo(new[] { 6f, 12f }));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 18f, 36f }));
    }

    [Test]
    public void NaNScalarArgumentIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Ones(2).MultiplyScalar(float.NaN));
        Assert.That(error!.Message, Does.Contain("MultiplyScalar").And.Contain("NaN"));
    }

    [Test]
    public void BroadcastMismatchNamesTheOpAndBothShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => _ = Tensor.Ones(2, 3) + Tensor.Ones(4));
        Assert.That(error!.Message, Does.Contain("Add").And.Contain("(2, 3)").And.Contain("(4)"));
    }

    [Test]
    public void ToStringShowsShapeValuesAndGradFunction()
    {
        Tensor x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        Assert.That(x.ToString(), Is.EqualTo("tensor([1, 2, 3], shape=(3), requires_grad)"));
        Assert.That((x * 2f).ToString(), Does.Contain("grad_fn=mul_scalar"));
        Assert.That(Tensor.Arange(10).ToString(), Does.Contain("[0, 1, 2, ..., 7, 8, 9]"));
    }
}
