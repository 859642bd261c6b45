using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The layer sweeps' run settings: a short job, so the whole sweep (204 cases, each in its own process) fits in
/// about 15–20 minutes on a quiet machine; Min and Max columns, so the noise is in the table; and the cases that
/// cannot run left out.
/// </summary>
/// <remarks>
/// The job takes 3 warm-up and 7 measured iterations of about 250 ms each: enough for a median within a few per cent
/// on a quiet machine, not enough to resolve a 1–2 % difference (raise the iteration count and re-run one slice for
/// that). Leave <c>--job</c> off the command line: BenchmarkDotNet would run that job beside this one, not instead.
/// </remarks>
public sealed class LayerSweepConfig : ManualConfig
{
    /// <summary>The job, the columns, the build timeout and the filter.</summary>
    public LayerSweepConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithId("LayerSweep"));
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);
        // BenchmarkDotNet builds a boilerplate project first; its 2-minute default runs out on a busy 2-core machine.
        WithBuildTimeout(TimeSpan.FromMinutes(10));
        AddFilter(new SimpleFilter(benchmark => !IsSingleRowBatchNorm(benchmark)));
    }

    // BatchNorm1d in training mode refuses a batch of one row (one value per feature has no variance), as PyTorch does.
    private static bool IsSingleRowBatchNorm(BenchmarkCase benchmark) =>
        typeof(LayerSweepLinear).IsAssignableFrom(benchmark.Descriptor.Type)
        && benchmark.Descriptor.WorkloadMethod.Name == nameof(LayerSweep.Bn)
        && benchmark.Parameters[nameof(LayerSweepLinear.Batch)] is 1;
}
