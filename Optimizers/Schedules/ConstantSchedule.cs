namespace NeuralCore.Optimizers.Schedules;

/// <summary>The same value at every step: <c>value(t) = c</c> (default 1, i.e. the learning rate as given).</summary>
public sealed class ConstantSchedule : Schedule
{
    /// <summary>A constant schedule.</summary>
    /// <param name="value">The value at every step, finite.</param>
    /// <exception cref="ArgumentException">The value is not finite or is negative.</exception>
    public ConstantSchedule(double value = 1)
    {
        CheckFinite(nameof(ConstantSchedule), nameof(value), value);
        Constant = value;
    }

    /// <summary>The value.</summary>
    public double Constant { get; }

    /// <inheritdoc/>
    protected override double ValueAt(int step) => Constant;
}
