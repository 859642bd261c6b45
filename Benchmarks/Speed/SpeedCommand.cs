using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// The <c>speed</c> command of issue 3: times the packed GEMM and Conv2d on fixed cases, prints a table with
/// GFLOP/s beside this machine's measured FMA peak, writes JSON that peer tools
/// (<c>Benchmarks/peers/pytorch_speed.py</c>) write alike, and prints two runs side by side.
/// </summary>
/// <remarks>
/// <code>
/// dotnet run -c Release --project Benchmarks -- speed --threads 1 --json nc-1.json
/// /usr/bin/python3 Benchmarks/peers/pytorch_speed.py --threads 1 --json pt-1.json
/// dotnet run -c Release --project Benchmarks -- speed --from nc-1.json --compare pt-1.json
/// </code>
/// Speed is measured here, never asserted in tests: a shared machine's timings are evidence to read with their
/// min and max, not a pass/fail condition.
/// </remarks>
public static class SpeedCommand
{
    /// <summary>Runs <c>speed</c> with the options after the command name.</summary>
    /// <param name="args">The options, e.g. <c>["--threads", "1", "--json", "out.json"]</c>; see <c>--help</c>.</param>
    /// <returns>0 on success, 1 when a file could not be read or written, 2 on a usage error.</returns>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>As <see cref="Run(string[])"/>, writing to the given streams (for tests).</summary>
    internal static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        SpeedOptions? options = SpeedOptions.Parse(args, out string? problem);
        if (options is null)
        {
            error.WriteLine(problem);
            return 2;
        }
        if (options.Help)
        {
            output.WriteLine(SpeedOptions.Usage);
            return 0;
        }
        try
        {
            SpeedRun ours;
            if (options.FromPath is not null)
            {
                ours = SpeedRun.Parse(File.ReadAllText(options.FromPath), options.FromPath);
            }
            else
            {
                List<SpeedCase> cases = [.. SpeedCases.All().Where(c => options.Filter is null
                    || c.Name.Contains(options.Filter, StringComparison.OrdinalIgnoreCase))];
                if (cases.Count == 0)
                {
                    error.WriteLine($"speed: no case name contains '{options.Filter}'.");
                    return 2;
                }
                ours = Measure(cases, options, output);
            }
            if (options.JsonPath is not null)
            {
                ours.Save(options.JsonPath);
                output.WriteLine($"wrote {options.JsonPath}");
            }
            if (options.ComparePath is not null)
            {
                SpeedRun peer = SpeedRun.Parse(File.ReadAllText(options.ComparePath), options.ComparePath);
                output.WriteLine();
                SpeedReport.Comparison(output, ours, peer);
                SpeedReport.RatiosToPlain(output, ours.Cases, $"{ours.Tool}: ratio to plain");
                SpeedReport.RatiosToPlain(output, peer.Cases, $"{peer.Tool}: ratio to plain");
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }

    private static SpeedRun Measure(List<SpeedCase> cases, SpeedOptions options, TextWriter output)
    {
        int savedThreads = Gemm.MaxThreads;
        Gemm.MaxThreads = options.Threads;
        try
        {
            // The peak first, before any GEMM has woken the worker threads that would share the core with it.
            double perThread = FmaPeak.MeasurePerThread();
            double peak = perThread * options.Threads;
            string machine = string.Create(CultureInfo.InvariantCulture,
                $"{Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}, " +
                $"GEMM kernel {Gemm.Kernel}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"NeuralCore speed: {options.Threads} thread(s); {machine}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FMA peak: {perThread:F1} GFLOP/s per thread ({FmaPeak.VectorName}, 12 independent chains, best of 7) × {options.Threads} = {peak:F1} GFLOP/s"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"each case: warm-up, then batches for ≥ {options.Seconds:0.###} s; ms per call (median, min, max over batches)"));
            output.WriteLine();
            SpeedReport.Header(output);
            var results = new List<SpeedCaseResult>();
            foreach (SpeedCase speedCase in cases)
            {
                // The previous case's network is garbage now; collect it so that the peak working set measures the
                // largest workload, not how long the collector waited (PyTorch frees a model by reference count at once).
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                SpeedCaseResult result = speedCase.Run(options.Seconds);
                results.Add(result);
                SpeedReport.Row(output, result, peak);
                output.Flush();
            }
            long peakWorkingSet;
            using (Process self = Process.GetCurrentProcess())
            {
                peakWorkingSet = self.PeakWorkingSet64;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak working set {peakWorkingSet / (1024.0 * 1024.0):F0} MB"));
            SpeedReport.RatiosToPlain(output, results);
            return new SpeedRun("neuralcore", options.Threads, peak, results)
            {
                PeakWorkingSetMb = peakWorkingSet / (1024.0 * 1024.0),
                Machine = machine,
                DateUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            };
        }
        finally
        {
            Gemm.MaxThreads = savedThreads;
        }
    }
}
