namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// A hyperparameter's value as a pure function of the step (or epoch) number t = 0, 1, 2, …: a learning-rate
/// factor, or β1 itself. A <see cref="Scheduler"/> applies it to an optimizer; the schedule holds no state, so
/// any t may be asked in any order.
/// </summary>
/// <remarks>
/// Write a new schedule by overriding <see cref="Value"/>. Compose a warm-up with any schedule by
/// <see cref="WithWarmup"/>.
/// </remarks>
public abstract class Schedule
{
    /// <summary>The value at step <paramref name="step"/> (≥ 0); defined for every step, including after the schedule's end.</summary>
    /// <exception cref="ArgumentException">The step is negative.</exception>
    public double Value(int step)
    {
        if (step < 0)
        {
            throw new ArgumentException($"{GetType().Name}: step = {step}, expected a step >= 0.", nameof(step));
        }
        return ValueAt(step);
    }

    /// <summary>This schedule multiplied by a linear warm-up over the first <paramref name="warmupSteps"/> steps.</summary>
    /// <exception cref="ArgumentException"><paramref name="warmupSteps"/> is less than 1.</exception>
    public WarmupSchedule WithWarmup(int warmupSteps) => new(warmupSteps, this);

    /// <summary>The value at step <paramref name="step"/> ≥ 0 (already checked).</summary>
    protected abstract double ValueAt(int step);

    /// <summary>Throws unless <paramref name="value"/> ≥ <paramref name="minimum"/> (a count of steps).</summary>
    private protected static void CheckSteps(string schedule, string name, int value, int minimum)
    {
        if (value < minimum)
        {
            throw new ArgumentException($"{schedule}: {name} = {value}, expected a value >= {minimum}.", name);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is finite (and ≥ 0 when <paramref name="nonNegative"/>).</summary>
    private protected static void CheckFinite(string schedule, string name, double value, bool nonNegative = true)
    {
        if (!double.IsFinite(value) || (nonNegative && value < 0))
        {
            throw new ArgumentException(
                $"{schedule}: {name} = {Check.Format(value)}, expected a finite value{(nonNegative ? " >= 0" : "")}.", name);
        }
    }
}
