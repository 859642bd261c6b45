namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// Cosine annealing from 1 to a floor over a span: <c>value(t) = min + (1 − min)·(1 + cos(π·t/T))/2</c> for
/// <c>t ≤ T</c>, and <c>min</c> after (the closed form of PyTorch's <c>CosineAnnealingLR</c>, as a factor, without restarts).
/// </summary>
public sealed class CosineSchedule : Schedule
{
    /// <summary>A cosine decay.</summary>
    /// <param name="totalSteps">T, the step at which the floor is reached, ≥ 1.</param>
    /// <param name="minimum">The floor, as a factor in [0, 1], default 0.</param>
    /// <exception cref="ArgumentException">T below 1 or a floor outside [0, 1].</exception>
    public CosineSchedule(int totalSteps, double minimum = 0)
    {
        CheckSteps(nameof(CosineSchedule), nameof(totalSteps), totalSteps, 1);
        if (!(minimum >= 0 && minimum <= 1))
        {
            throw new ArgumentException($"CosineSchedule: minimum = {Check.Format(minimum)}, expected a value in [0, 1].", nameof(minimum));
        }
        TotalSteps = totalSteps;
        Minimum = minimum;
    }

    /// <summary>T, the length of the decay.</summary>
    public int TotalSteps { get; }

    /// <summary>The floor.</summary>
    public double Minimum { get; }

    /// <inheritdoc/>
    protected override double ValueAt(int step) =>
        step >= TotalSteps ? Minimum : Minimum + (1 - Minimum) * (1 + Math.Cos(Math.PI * step / TotalSteps)) / 2;
}
