namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// One case of a <see cref="SpeedRun"/>: what was timed (<see cref="Kind"/>, <see cref="Name"/> and the shape
/// fields) and how long it took. The JSON object of a case, in the schema of issue 3.
/// </summary>
internal sealed class SpeedCaseResult
{
    /// <summary>A case of <paramref name="kind"/> named <paramref name="name"/>, with its shape fields in JSON order.</summary>
    public SpeedCaseResult(string kind, string name, IReadOnlyList<KeyValuePair<string, object>> fields,
        double medianMs, double minMs, double maxMs, double? gflops, long? allocBytes)
    {
        Kind = kind;
        Name = name;
        Fields = fields;
        MedianMs = medianMs;
        MinMs = minMs;
        MaxMs = maxMs;
        Gflops = gflops;
        AllocBytes = allocBytes;
    }

    /// <summary><c>gemm</c>, <c>conv2d</c>; issue 7 adds <c>mlp-step</c>, <c>cnn-step</c>, <c>mlp-infer</c>.</summary>
    public string Kind { get; }

    /// <summary>The key that matches cases across tools, e.g. <c>gemm 1024x1024x1024 NN</c>.</summary>
    public string Name { get; }

    /// <summary>Shape fields (<c>m</c>, <c>n</c>, <c>k</c>, ...): int, double or string values.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Fields { get; }

    /// <summary>Median over timed batches of the time per call.</summary>
    public double MedianMs { get; }

    /// <summary>Fastest batch, per call.</summary>
    public double MinMs { get; }

    /// <summary>Slowest batch, per call.</summary>
    public double MaxMs { get; }

    /// <summary>Counted FLOPs / median time, or null where FLOPs are not counted.</summary>
    public double? Gflops { get; }

    /// <summary>Managed bytes allocated per call in the steady state, or null when not measured (other tools).</summary>
    public long? AllocBytes { get; }
}
