using System.Globalization;
using System.IO;

namespace NeuralCore.Samples.Classify;

/// <summary>The sample's command line, parsed.</summary>
internal sealed class Options
{
    public string Model { get; private set; } = Path.Combine(AppContext.BaseDirectory, Program.DefaultModel);

    public string? Labels { get; private set; }

    public int BatchSize { get; private set; } = 100;

    public int? Threads { get; private set; }

    public int Show { get; private set; } = 10;

    public bool Help { get; private set; }

    public List<string> Images { get; } = [];

    /// <exception cref="ArgumentException">An unknown option, a missing or bad value, or no image file.</exception>
    public static Options Parse(IReadOnlyList<string> args)
    {
        var options = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            switch (arg)
            {
                case "--model":
                    options.Model = Value();
                    break;
                case "--labels":
                    options.Labels = Value();
                    break;
                case "--batch":
                    options.BatchSize = Number(arg, Value(), 1);
                    break;
                case "--threads":
                    options.Threads = Number(arg, Value(), 1);
                    break;
                case "--show":
                    options.Show = Number(arg, Value(), 0);
                    break;
                case "--help" or "-h":
                    options.Help = true;
                    break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        throw new ArgumentException($"unknown option '{arg}'.");
                    }
                    options.Images.Add(arg);
                    break;
            }
        }
        if (!options.Help && options.Images.Count == 0)
        {
            throw new ArgumentException("no image file given.");
        }
        if (options.Labels is not null && options.Images.Count != 1)
        {
            throw new ArgumentException($"--labels goes with one IDX images file; {options.Images.Count} files were given.");
        }
        return options;
    }

    private static int Number(string option, string value, int minimum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= minimum
            ? n
            : throw new ArgumentException($"{option}: '{value}' is not a whole number ≥ {minimum}.");
}
