using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// Shows training progress: on a terminal, a bar redrawn in place (carriage return) several times a second with
/// examples/s, the running loss and the time left; when the output is redirected (a file, a CI log), one plain line
/// per epoch only.
/// </summary>
public sealed class ProgressReporter
{
    private const int BarWidth = 24;
    private static readonly TimeSpan s_redrawInterval = TimeSpan.FromMilliseconds(150);

    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly Stopwatch _sinceRedraw = new();
    private string _variant = "";
    private int _epoch;
    private int _epochs;
    private int _batches;
    private double _previousEpochSeconds;
    private int _lastLineLength;

    /// <summary>A reporter writing to <paramref name="output"/>; <paramref name="interactive"/> draws the live bar.</summary>
    public ProgressReporter(TextWriter output, bool interactive)
    {
        _output = output;
        _interactive = interactive;
    }

    /// <summary>Reporting to the console: live when stdout is a terminal (<see cref="Console.IsOutputRedirected"/> false).</summary>
    public static ProgressReporter ForConsole() => new(Console.Out, !Console.IsOutputRedirected);

    /// <summary>Starts epoch <paramref name="epoch"/> (1-based) of <paramref name="epochs"/> for <paramref name="variant"/>.</summary>
    public void BeginEpoch(string variant, int epoch, int epochs, int batches)
    {
        if (variant != _variant)
        {
            _previousEpochSeconds = 0;
        }
        _variant = variant;
        _epoch = epoch;
        _epochs = epochs;
        _batches = batches;
        _sinceRedraw.Restart();
    }

    /// <summary>
    /// After mini-batch <paramref name="batch"/> (1-based): <paramref name="examples"/> seen this epoch in
    /// <paramref name="seconds"/>, with mean loss <paramref name="runningLoss"/> so far. Redraws the bar when interactive.
    /// </summary>
    public void Report(int batch, int examples, double seconds, double runningLoss)
    {
        if (!_interactive || (_sinceRedraw.Elapsed < s_redrawInterval && batch < _batches))
        {
            return;
        }
        _sinceRedraw.Restart();
        int filled = (int)((long)BarWidth * batch / Math.Max(1, _batches));
        double perBatch = seconds / Math.Max(1, batch);
        double epochEstimate = perBatch * _batches;
        double left = epochEstimate - seconds + (_epochs - _epoch) * epochEstimate;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_variant,-14} epoch {_epoch}/{_epochs} [{new string('#', filled)}{new string('-', BarWidth - filled)}] {batch}/{_batches}  {Rate(examples, seconds)}  loss {runningLoss:0.0000}  ETA {Duration(left)}");
        Write("\r" + line.PadRight(_lastLineLength));
        _lastLineLength = line.Length;
    }

    /// <summary>Ends the epoch with one permanent line: time, speed, mean loss, test accuracy and the variant's time left.</summary>
    public void EndEpoch(int examples, double seconds, double meanLoss, double testAccuracy)
    {
        _previousEpochSeconds = seconds;
        double left = (_epochs - _epoch) * _previousEpochSeconds;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_variant,-14} epoch {_epoch}/{_epochs}  {seconds,6:0.0} s  {Rate(examples, seconds)}  train loss {meanLoss:0.0000}  test acc {100 * testAccuracy:0.00}%  ETA {Duration(left)}");
        if (_interactive)
        {
            Write("\r" + line.PadRight(_lastLineLength) + "\n");
            _lastLineLength = 0;
        }
        else
        {
            _output.WriteLine(line);
        }
        _output.Flush();
    }

    /// <summary>A permanent line between epochs, e.g. that a variant resumed from a checkpoint.</summary>
    public void Note(string line)
    {
        _output.WriteLine(line);
        _output.Flush();
    }

    private void Write(string text)
    {
        _output.Write(text);
        _output.Flush();
    }

    private static string Rate(int examples, double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{(seconds > 0 ? examples / seconds : 0),7:0} ex/s");

    private static string Duration(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0)
        {
            seconds = 0;
        }
        var span = TimeSpan.FromSeconds(Math.Round(seconds));
        var text = new StringBuilder();
        if (span.TotalHours >= 1)
        {
            text.Append((int)span.TotalHours).Append(':');
        }
        return text.Append(span.Minutes.ToString(span.TotalHours >= 1 ? "00" : "0", CultureInfo.InvariantCulture))
            .Append(':').Append(span.Seconds.ToString("00", CultureInfo.InvariantCulture)).ToString();
    }
}
