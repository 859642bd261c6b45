namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// Hold, then decay linearly to zero over a span: <c>value(t) = 1</c> for <c>t ≤ hold</c>,
/// <c>1 − (t − hold)/span</c> for <c>hold ≤ t ≤ hold + span</c>, and <c>0</c> after.
/// </summary>
/// <remarks>
/// The paper's CIFAR-10 learning rate <c>lr·min(2 − epoch/100, 1)</c> over 200 epochs is
/// <c>new LinearDecaySchedule(holdSteps: 100, decaySteps: 100)</c> stepped once per epoch: 1 until epoch 100, 0.5 at
/// epoch 150, 0.01 at the last epoch (199), and 0 from epoch 200 on (where the paper's formula would turn negative).
/// </remarks>
public sealed class LinearDecaySchedule : Schedule
{
    /// <summary>A hold-then-linear-decay schedule.</summary>
    /// <param name="holdSteps">Steps at the full value before the decay starts, ≥ 0.</param>
    /// <param name="decaySteps">Steps over which the value falls from 1 to 0, ≥ 1.</param>
    /// <exception cref="ArgumentException">A negative hold or a decay span below 1.</exception>
    public LinearDecaySchedule(int holdSteps, int decaySteps)
    {
        CheckSteps(nameof(LinearDecaySchedule), nameof(holdSteps), holdSteps, 0);
        CheckSteps(nameof(LinearDecaySchedule), nameof(decaySteps), decaySteps, 1);
        HoldSteps = holdSteps;
        DecaySteps = decaySteps;
    }

    /// <summary>Steps at the full value.</summary>
    public int HoldSteps { get; }

    /// <summary>Steps of the decay.</summary>
    public int DecaySteps { get; }

    /// <inheritdoc/>
    protected override double ValueAt(int step)
    {
        if (step <= HoldSteps)
        {
            return 1;
        }
        // The subtraction is in long so a schedule near int.MaxValue cannot overflow.
        long intoDecay = (long)step - HoldSteps;
        return intoDecay >= DecaySteps ? 0 : 1 - (double)intoDecay / DecaySteps;
    }
}
