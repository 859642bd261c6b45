using System.Globalization;
using System.IO;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>The printed forms of a run: its table, row by row as cases finish, and a side-by-side comparison.</summary>
internal static class SpeedReport
{
    private const int NameWidth = 52;

    /// <summary>The column heads of <see cref="Row"/>.</summary>
    public static void Header(TextWriter output) =>
        output.WriteLine(Invariant(
            $"{"case",-NameWidth} {"median ms",10} {"min ms",10} {"max ms",10} {"GFLOP/s",9} {"% peak",7} {"alloc B",8}"));

    /// <summary>One case; the % of <paramref name="peakGflops"/> when a peak is known.</summary>
    public static void Row(TextWriter output, SpeedCaseResult result, double? peakGflops)
    {
        string gflops = result.Gflops is double g ? Invariant($"{g:F1}") : "-";
        string share = result.Gflops is double g2 && peakGflops is double peak && peak > 0 ? Invariant($"{100 * g2 / peak:F0}%") : "-";
        string alloc = result.AllocBytes is long bytes ? bytes.ToString(CultureInfo.InvariantCulture) : "-";
        output.WriteLine(Invariant(
            $"{result.Name,-NameWidth} {Ms(result.MedianMs),10} {Ms(result.MinMs),10} {Ms(result.MaxMs),10} {gflops,9} {share,7} {alloc,8}"));
    }

    /// <summary>
    /// Our cases beside <paramref name="peer"/>'s, matched by name, in our order (then the peer's other cases):
    /// time ratio = ours / theirs (below 1: we are faster), GFLOP/s ratio = theirs' time / ours (above 1: faster).
    /// </summary>
    public static void Comparison(TextWriter output, SpeedRun ours, SpeedRun peer)
    {
        output.WriteLine(Invariant($"{ours.Tool} ({ours.Threads} threads) vs {peer.Tool} ({peer.Threads} threads)"));
        if (ours.Threads != peer.Threads)
        {
            output.WriteLine(Invariant($"warning: the thread counts differ ({ours.Threads} and {peer.Threads})."));
        }
        foreach (SpeedRun run in (SpeedRun[])[ours, peer])
        {
            if (run.FmaPeakGflops is double peak)
            {
                output.WriteLine(Invariant($"FMA peak measured by {run.Tool}: {peak:F1} GFLOP/s ({run.Threads} threads)"));
            }
            if (run.PeakWorkingSetMb is double workingSet)
            {
                output.WriteLine(Invariant($"peak working set of {run.Tool}: {workingSet:F0} MB"));
            }
        }
        string a = Short(ours.Tool), b = Short(peer.Tool);
        output.WriteLine(Invariant(
            $"{"case",-NameWidth} {a + " ms",12} {b + " ms",12} {"time " + a + "/" + b,14} {a + " GFLOP/s",14} {b + " GFLOP/s",14} {"GFLOP/s ratio",13}"));
        var peerByName = new Dictionary<string, SpeedCaseResult>(StringComparer.Ordinal);
        foreach (SpeedCaseResult result in peer.Cases)
        {
            peerByName.TryAdd(result.Name, result);
        }
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (SpeedCaseResult mine in ours.Cases)
        {
            if (peerByName.TryGetValue(mine.Name, out SpeedCaseResult? theirs))
            {
                matched.Add(mine.Name);
                output.WriteLine(Invariant(
                    $"{mine.Name,-NameWidth} {Ms(mine.MedianMs),12} {Ms(theirs.MedianMs),12} {Ratio(mine.MedianMs, theirs.MedianMs),14} {Gflops(mine.Gflops),14} {Gflops(theirs.Gflops),14} {Ratio(theirs.MedianMs, mine.MedianMs),13}"));
            }
            else
            {
                output.WriteLine(Invariant(
                    $"{mine.Name,-NameWidth} {Ms(mine.MedianMs),12} {"-",12} {"-",14} {Gflops(mine.Gflops),14} {"-",14} {"-",13}"));
            }
        }
        foreach (SpeedCaseResult theirs in peer.Cases)
        {
            if (!matched.Contains(theirs.Name))
            {
                output.WriteLine(Invariant(
                    $"{theirs.Name,-NameWidth} {"-",12} {Ms(theirs.MedianMs),12} {"-",14} {"-",14} {Gflops(theirs.Gflops),14} {"-",13}"));
            }
        }
    }

    /// <summary>
    /// For the network cases (<c>mlp-step</c>, <c>cnn-step</c>, <c>mlp-infer</c>, named <c>kind [bN] variant</c>): each
    /// case's median over that of the <c>plain</c> case of the same kind and batch. Prints nothing without such cases.
    /// </summary>
    public static void RatiosToPlain(TextWriter output, IReadOnlyList<SpeedCaseResult> results, string? title = null)
    {
        var byName = new Dictionary<string, SpeedCaseResult>(StringComparer.Ordinal);
        foreach (SpeedCaseResult result in results)
        {
            byName.TryAdd(result.Name, result);
        }
        bool header = false;
        foreach (SpeedCaseResult result in results)
        {
            if (result.Kind is not ("mlp-step" or "cnn-step" or "mlp-infer") || !byName.TryGetValue(PlainName(result.Name), out SpeedCaseResult? plain))
            {
                continue;
            }
            if (!header)
            {
                output.WriteLine();
                if (title is not null)
                {
                    output.WriteLine(title);
                }
                output.WriteLine(Invariant($"{"case",-NameWidth} {"median ms",10} {"× plain",8} {"min–max × plain",16}"));
                header = true;
            }
            string spread = Invariant($"{Ratio(result.MinMs, plain.MedianMs)}–{Ratio(result.MaxMs, plain.MedianMs)}");
            output.WriteLine(Invariant($"{result.Name,-NameWidth} {Ms(result.MedianMs),10} {Ratio(result.MedianMs, plain.MedianMs),8} {spread,16}"));
        }
    }

    // "mlp-step wn-mobn" → "mlp-step plain"; "mlp-infer b1 wn" → "mlp-infer b1 plain".
    private static string PlainName(string name)
    {
        int space = name.LastIndexOf(' ');
        return space < 0 ? name : name[..space] + " plain";
    }

    private static string Short(string tool) => tool.Length <= 10 ? tool : tool[..10];

    private static string Ms(double ms) => ms switch
    {
        < 0.1 and > -0.1 => ms.ToString("F4", CultureInfo.InvariantCulture),
        < 10 and > -10 => ms.ToString("F3", CultureInfo.InvariantCulture),
        _ => ms.ToString("F1", CultureInfo.InvariantCulture),
    };

    private static string Gflops(double? gflops) => gflops is double g ? g.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static string Ratio(double numerator, double denominator) =>
        denominator > 0 ? (numerator / denominator).ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
