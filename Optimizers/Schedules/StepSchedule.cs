namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// Decay by a factor every few steps: <c>value(t) = γ^⌊t / stepSize⌋</c>, the closed form of PyTorch's
/// <c>StepLR</c>.
/// </summary>
public sealed class StepSchedule : Schedule
{
    /// <summary>A step decay.</summary>
    /// <param name="stepSize">Steps between decays, ≥ 1.</param>
    /// <param name="gamma">The factor applied at each decay, default 0.1.</param>
    /// <exception cref="ArgumentException">A bad step size, or a negative or non-finite γ.</exception>
    public StepSchedule(int stepSize, double gamma = 0.1)
    {
        CheckSteps(nameof(StepSchedule), nameof(stepSize), stepSize, 1);
        CheckFinite(nameof(StepSchedule), nameof(gamma), gamma);
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double ValueAt(int step) => Math.Pow(Gamma, step / StepSize);
}
