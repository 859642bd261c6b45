namespace NeuralCore.Optimizers;

/// <summary>
/// Where a training run stands when a <see cref="Checkpoint"/> is saved: the epoch and step counters, and any
/// strings the application wants back on resume (e.g. its loss history), stored verbatim.
/// </summary>
/// <param name="Epoch">Epochs completed (or the epoch in progress; the meaning is the caller's), ≥ 0.</param>
/// <param name="Step">Optimizer steps taken, ≥ 0.</param>
public sealed record CheckpointProgress(int Epoch, long Step)
{
    /// <summary>
    /// The application's own entries, saved and restored exactly as given (empty by default). Keys must be non-empty.
    /// Numbers are best written with <c>ToString("R", CultureInfo.InvariantCulture)</c> so they read back exactly.
    /// </summary>
    public IReadOnlyDictionary<string, string> Notes { get; init; } = new Dictionary<string, string>();
}
