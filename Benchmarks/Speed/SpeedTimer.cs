using System.Diagnostics;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// Times one operation the way <c>Benchmarks/peers/pytorch_speed.py</c> does, so the two tools' figures compare:
/// a few warm-up calls, a calibration that picks how many calls make one timed batch, then batches until the
/// time budget is spent (at least <see cref="MinSamples"/>). A sample is one batch's time divided by its calls.
/// </summary>
/// <remarks>
/// Batching keeps Stopwatch's resolution and the loop's own cost out of small cases (a 64³ GEMM takes ~8 µs);
/// the median over batches resists the other processes of a shared machine; min and max show the noise.
/// </remarks>
internal static class SpeedTimer
{
    /// <summary>The fewest timed batches, whatever the budget.</summary>
    public const int MinSamples = 5;

    private const int WarmupCalls = 3;

    /// <summary>Times <paramref name="operation"/> for about <paramref name="seconds"/>; each sample is ms per call.</summary>
    public static TimingSamples Measure(Action operation, double seconds)
    {
        int inner = Calibrate(operation, seconds);
        var samples = new List<double>();
        long calls = 0;
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        while (samples.Count < MinSamples || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            samples.Add(TimeBatch(operation, inner));
            calls += inner;
        }
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return new TimingSamples(samples, bytes / calls);
    }

    /// <summary>
    /// Times <paramref name="full"/> minus <paramref name="baseline"/> (e.g. forward+backward minus forward): a batch
    /// of each, back to back, and the sample is the difference per call, so both halves of a pair see the same
    /// machine. <c>AllocBytesPerCall</c> is that of <paramref name="full"/>.
    /// </summary>
    public static TimingSamples MeasureDifference(Action baseline, Action full, double seconds)
    {
        Calibrate(baseline, seconds / 4);
        int inner = Calibrate(full, seconds);
        var samples = new List<double>();
        long calls = 0, bytes = 0;
        long start = Stopwatch.GetTimestamp();
        while (samples.Count < MinSamples || Stopwatch.GetElapsedTime(start).TotalSeconds < seconds)
        {
            double before = TimeBatch(baseline, inner);
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            double after = TimeBatch(full, inner);
            bytes += GC.GetTotalAllocatedBytes(precise: true) - allocated;
            calls += inner;
            samples.Add(after - before);
        }
        return new TimingSamples(samples, bytes / calls);
    }

    // Warm-up (JIT tiering, pools, page faults on first touch), then how many calls make a batch of about
    // 1/20 of the budget (at most 50 ms), measured over about 1/5 of it (at most 0.2 s).
    private static int Calibrate(Action operation, double seconds)
    {
        for (int i = 0; i < WarmupCalls; i++)
        {
            operation();
        }
        double calibration = Math.Clamp(seconds / 5, 0.002, 0.2), batch = Math.Clamp(seconds / 20, 0.0005, 0.05);
        int reps = 0;
        long start = Stopwatch.GetTimestamp();
        double elapsed;
        do
        {
            operation();
            reps++;
            elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        while (elapsed < calibration);
        return (int)Math.Clamp(batch * reps / elapsed, 1, 1_000_000);
    }

    private static double TimeBatch(Action operation, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
        {
            operation();
        }
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
    }
}
