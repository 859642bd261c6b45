namespace NeuralCore.Benchmarks.Speed;

/// <summary>The per-call times (ms) of the timed batches of one case, and its managed allocation per call.</summary>
internal sealed class TimingSamples
{
    private readonly double[] _sorted;

    /// <summary>Keeps a sorted copy of <paramref name="milliseconds"/>.</summary>
    public TimingSamples(IReadOnlyCollection<double> milliseconds, long allocBytesPerCall)
    {
        _sorted = [.. milliseconds];
        Array.Sort(_sorted);
        AllocBytesPerCall = allocBytesPerCall;
    }

    /// <summary>How many batches were timed.</summary>
    public int Count => _sorted.Length;

    /// <summary>The median batch (the mean of the middle two for an even count).</summary>
    public double MedianMs => _sorted.Length % 2 == 1
        ? _sorted[_sorted.Length / 2]
        : (_sorted[(_sorted.Length / 2) - 1] + _sorted[_sorted.Length / 2]) / 2;

    /// <summary>The fastest batch.</summary>
    public double MinMs => _sorted[0];

    /// <summary>The slowest batch.</summary>
    public double MaxMs => _sorted[^1];

    /// <summary>Managed bytes allocated per call over the timed batches (all threads; 0 in the steady state).</summary>
    public long AllocBytesPerCall { get; }
}
