namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// A linear warm-up composed with any schedule: <c>value(t) = inner(t)·min(1, (t + 1)/W)</c>, so the first step runs
/// at 1/W of the inner value, step W − 1 and later at the full inner value.
/// </summary>
/// <remarks>
/// The inner schedule sees the same t (it is not shifted by the warm-up), so a cosine over T steps still ends at
/// step T. Build one with <see cref="Schedule.WithWarmup"/>: <c>new CosineSchedule(1000).WithWarmup(50)</c>.
/// </remarks>
public sealed class WarmupSchedule : Schedule
{
    /// <summary>A warm-up of <paramref name="warmupSteps"/> steps in front of <paramref name="inner"/>.</summary>
    /// <param name="warmupSteps">W, ≥ 1.</param>
    /// <param name="inner">The schedule the warm-up multiplies.</param>
    /// <exception cref="ArgumentException">W is below 1.</exception>
    public WarmupSchedule(int warmupSteps, Schedule inner)
    {
        CheckSteps(nameof(WarmupSchedule), nameof(warmupSteps), warmupSteps, 1);
        WarmupSteps = warmupSteps;
        Inner = inner;
    }

    /// <summary>W, the length of the warm-up.</summary>
    public int WarmupSteps { get; }

    /// <summary>The schedule the warm-up multiplies.</summary>
    public Schedule Inner { get; }

    /// <inheritdoc/>
    protected override double ValueAt(int step)
    {
        double inner = Inner.Value(step);
        return step + 1 >= WarmupSteps ? inner : inner * (step + 1) / WarmupSteps;
    }
}
