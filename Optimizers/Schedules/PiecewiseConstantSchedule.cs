namespace NeuralCore.Optimizers.Schedules;

/// <summary>
/// Constant pieces: <c>value(t) = values[k]</c> where k is the number of boundaries ≤ t. The paper's β1 (0.9 for
/// epochs 0–99, then 0.5) is <c>new PiecewiseConstantSchedule([100], [0.9, 0.5])</c> applied by
/// <see cref="Scheduler.ForBeta1"/>.
/// </summary>
public sealed class PiecewiseConstantSchedule : Schedule
{
    private readonly int[] _boundaries;
    private readonly double[] _values;

    /// <summary>A piecewise-constant schedule.</summary>
    /// <param name="boundaries">The steps at which the value changes, strictly increasing, each ≥ 1.</param>
    /// <param name="values">One more value than boundaries, each finite.</param>
    /// <exception cref="ArgumentException">The counts do not match, the boundaries are not increasing, or a value is not finite.</exception>
    public PiecewiseConstantSchedule(IEnumerable<int> boundaries, IEnumerable<double> values)
    {
        _boundaries = [.. boundaries];
        _values = [.. values];
        if (_values.Length != _boundaries.Length + 1)
        {
            throw new ArgumentException(
                $"PiecewiseConstantSchedule: {_boundaries.Length} boundaries and {_values.Length} values, expected {_boundaries.Length + 1} values.",
                nameof(values));
        }
        for (int k = 0; k < _boundaries.Length; k++)
        {
            if (_boundaries[k] < 1 || (k > 0 && _boundaries[k] <= _boundaries[k - 1]))
            {
                throw new ArgumentException(
                    $"PiecewiseConstantSchedule: boundary {k} = {_boundaries[k]}, expected boundaries >= 1 in strictly increasing order.", nameof(boundaries));
            }
        }
        foreach (double value in _values)
        {
            CheckFinite(nameof(PiecewiseConstantSchedule), nameof(values), value, nonNegative: false);
        }
    }

    /// <summary>The steps at which the value changes.</summary>
    public IReadOnlyList<int> Boundaries => _boundaries;

    /// <summary>The value of each piece.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <inheritdoc/>
    protected override double ValueAt(int step)
    {
        int piece = 0;
        while (piece < _boundaries.Length && step >= _boundaries[piece])
        {
            piece++;
        }
        return _values[piece];
    }
}
