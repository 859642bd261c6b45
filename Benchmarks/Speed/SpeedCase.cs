namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// One timed case: its identity (kind, name, shape fields), its FLOPs per call, and how to time it. The inputs
/// are made only when the case runs, so a filtered-out case costs nothing.
/// </summary>
internal sealed class SpeedCase
{
    private readonly Func<double, TimingSamples> _measure;

    /// <summary>A case whose <paramref name="measure"/> times it for the given number of seconds.</summary>
    public SpeedCase(string kind, string name, double flops, IReadOnlyList<KeyValuePair<string, object>> fields,
        Func<double, TimingSamples> measure)
    {
        Kind = kind;
        Name = name;
        Flops = flops;
        Fields = fields;
        _measure = measure;
    }

    /// <summary><c>gemm</c> or <c>conv2d</c>.</summary>
    public string Kind { get; }

    /// <summary>The name that matches this case across tools.</summary>
    public string Name { get; }

    /// <summary>Floating-point operations per call (a multiply-add counts 2).</summary>
    public double Flops { get; }

    /// <summary>The shape fields written to JSON.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Fields { get; }

    /// <summary>Times the case for about <paramref name="seconds"/> and returns its result.</summary>
    public SpeedCaseResult Run(double seconds)
    {
        TimingSamples samples = _measure(seconds);
        return new SpeedCaseResult(Kind, Name, Fields, samples.MedianMs, samples.MinMs, samples.MaxMs,
            Flops / (samples.MedianMs * 1e-3) / 1e9, samples.AllocBytesPerCall);
    }
}
