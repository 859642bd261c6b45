using System.Globalization;
using System.IO;
using System.Linq;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// What a variant has measured so far (per-iteration losses, per-epoch losses, accuracies and times, the last test
/// loss), and its round trip through a checkpoint's notes, so that a resumed run reports every epoch.
/// </summary>
internal sealed class TrainingHistory
{
    /// <summary>The note that identifies the run a checkpoint belongs to.</summary>
    public const string RunNote = "run";

    public List<double> IterationLosses { get; } = [];

    public List<double> EpochLosses { get; } = [];

    public List<double> Accuracies { get; } = [];

    public List<double> EpochSeconds { get; } = [];

    public double TestLoss { get; set; } = double.NaN;

    /// <summary>The history as checkpoint notes; doubles in round-trip form, so they read back exactly.</summary>
    public Dictionary<string, string> ToNotes(string run) => new(StringComparer.Ordinal)
    {
        [RunNote] = run,
        ["iteration_losses"] = Join(IterationLosses),
        ["epoch_losses"] = Join(EpochLosses),
        ["test_accuracies"] = Join(Accuracies),
        ["epoch_seconds"] = Join(EpochSeconds),
        ["test_loss"] = TestLoss.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Replaces the history by the one in <paramref name="notes"/>.</summary>
    /// <exception cref="InvalidDataException">A note is missing or is not a list of numbers.</exception>
    public void Restore(IReadOnlyDictionary<string, string> notes, string source)
    {
        Fill(IterationLosses, "iteration_losses");
        Fill(EpochLosses, "epoch_losses");
        Fill(Accuracies, "test_accuracies");
        Fill(EpochSeconds, "epoch_seconds");
        TestLoss = Parse(Note("test_loss"), "test_loss");

        void Fill(List<double> list, string key)
        {
            string text = Note(key);
            list.Clear();
            if (text.Length > 0)
            {
                list.AddRange(text.Split(',').Select(item => Parse(item, key)));
            }
        }

        string Note(string key) => notes.TryGetValue(key, out string? text)
            ? text
            : throw new InvalidDataException($"{source}: the checkpoint has no '{key}' note; it was not written by compare --checkpoint.");

        double Parse(string text, string key) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new InvalidDataException($"{source}: note '{key}' holds '{text}', not a number.");
    }

    private static string Join(List<double> values) =>
        string.Join(',', values.Select(value => value.ToString("R", CultureInfo.InvariantCulture)));
}
