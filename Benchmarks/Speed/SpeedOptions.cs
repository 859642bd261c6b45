using System.Globalization;
using System.IO;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>The parsed command line of <c>speed</c>; <see cref="Parse"/> reports the first problem as text.</summary>
internal sealed class SpeedOptions
{
    /// <summary>GEMM threads (<c>Gemm.MaxThreads</c>); default: every logical CPU.</summary>
    public int Threads { get; private set; } = Environment.ProcessorCount;

    /// <summary>Where to write the results as JSON, or null.</summary>
    public string? JsonPath { get; private set; }

    /// <summary>Another tool's JSON to print beside ours, or null.</summary>
    public string? ComparePath { get; private set; }

    /// <summary>Read our results from this JSON instead of measuring (to compare two saved runs), or null.</summary>
    public string? FromPath { get; private set; }

    /// <summary>Only cases whose name contains this (ordinal, case-insensitive), or null for all.</summary>
    public string? Filter { get; private set; }

    /// <summary>Measuring time per case, after warm-up.</summary>
    public double Seconds { get; private set; } = 1.0;

    /// <summary>True when <c>--help</c> was given.</summary>
    public bool Help { get; private set; }

    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: speed [options]

        Times NeuralCore's GEMM and Conv2d on the cases of issue 3, and whole networks on those of issue 7 (mlp-step,
        cnn-step: one Adam training step under plain, wn, wn-unfused, bn, wn-mobn; mlp-infer: eval forward at batch
        1 and 100), and prints a table: median, min and max ms per call, GFLOP/s beside this machine's measured FMA
        peak, managed bytes allocated per call, and each network case's ratio to plain.

        options:
          --threads N      threads for the GEMM (default: all logical CPUs)
          --seconds S      measuring time per case after warm-up (default 1.0)
          --filter TEXT    only the cases whose name contains TEXT, e.g. 'gemm 1024x', 'conv2d', 'mlp-step'
          --json FILE      also write the results as JSON (the schema of issue 3)
          --compare FILE   print another tool's JSON (e.g. Benchmarks/peers/pytorch_speed.py's) beside ours, matched by name
          --from FILE      take our results from this JSON instead of measuring (with --compare: compare two saved runs)
          --help           this text
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> on a usage error.</summary>
    public static SpeedOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new SpeedOptions();
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            if (option is "--help" or "-h")
            {
                options.Help = true;
                continue;
            }
            if (option is not ("--threads" or "--seconds" or "--filter" or "--json" or "--compare" or "--from"))
            {
                error = $"speed: unknown option '{option}'; run 'speed --help' for the list.";
                return null;
            }
            if (i + 1 >= args.Count)
            {
                error = $"speed: option {option} needs a value.";
                return null;
            }
            string value = args[++i];
            switch (option)
            {
                case "--threads":
                    if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int threads) || threads < 1)
                    {
                        error = $"speed: --threads '{value}'; expected a whole number ≥ 1.";
                        return null;
                    }
                    options.Threads = threads;
                    break;
                case "--seconds":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                        || !double.IsFinite(seconds) || seconds <= 0)
                    {
                        error = $"speed: --seconds '{value}'; expected a number > 0.";
                        return null;
                    }
                    options.Seconds = seconds;
                    break;
                case "--filter":
                    options.Filter = value;
                    break;
                case "--json":
                    options.JsonPath = value;
                    break;
                case "--compare":
                    options.ComparePath = value;
                    break;
                default:
                    options.FromPath = value;
                    break;
            }
        }
        if (options.ComparePath is not null && !File.Exists(options.ComparePath))
        {
            error = $"speed: --compare file '{options.ComparePath}' does not exist.";
            return null;
        }
        if (options.FromPath is not null && !File.Exists(options.FromPath))
        {
            error = $"speed: --from file '{options.FromPath}' does not exist.";
            return null;
        }
        return options;
    }
}
