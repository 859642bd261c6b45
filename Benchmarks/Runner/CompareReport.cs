using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NeuralCore.Benchmarks.Reporting;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// The results of a <c>compare</c> run as a markdown table, a JSON document and an SVG chart of the training curves
/// (the paper's Figure 1 for this data set), and the three files <c>compare.md</c>, <c>compare.json</c> and
/// <c>compare.svg</c>, each written atomically.
/// </summary>
/// <remarks>
/// The "reached at epoch" column: each variant's per-iteration training loss is smoothed (an exponential moving
/// average, <see cref="SmoothingBeta"/>), and the column gives the first point, in epochs (fractional:
/// iteration ÷ iterations per epoch), where the smoothed curve is at or below the target. The default target is the
/// highest final smoothed loss among the variants, so every variant reaches it and the column says how much sooner
/// the faster ones got there.
/// </remarks>
public sealed class CompareReport
{
    /// <summary>The weight of the moving average that smooths the per-iteration losses (chart and target column).</summary>
    public const double SmoothingBeta = 0.95;

    private readonly CompareOptions _options;
    private readonly IReadOnlyList<VariantResult> _results;
    private readonly double[][] _smoothed;

    /// <summary>A report of <paramref name="results"/> (at least one), trained with <paramref name="options"/>.</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="dataDescription">Where the data came from, e.g. "the Fashion-MNIST subset shipped with NeuralCore".</param>
    /// <param name="trainExamples">Training examples used.</param>
    /// <param name="testExamples">Test examples used.</param>
    /// <param name="results">One result per variant, in the order they ran.</param>
    /// <exception cref="ArgumentException">No results.</exception>
    public CompareReport(CompareOptions options, string dataDescription, int trainExamples, int testExamples, IReadOnlyList<VariantResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            throw new ArgumentException("CompareReport: no results; expected one per variant.");
        }
        _options = options;
        _results = results;
        DataDescription = dataDescription;
        TrainExamples = trainExamples;
        TestExamples = testExamples;
        _smoothed = results.Select(r => SvgChart.Smooth(r.IterationLosses, SmoothingBeta)).ToArray();
        TargetLoss = options.TargetLoss ?? _smoothed.Max(curve => curve.Length > 0 ? curve[^1] : double.NaN);
        Baseline = results.FirstOrDefault(r => r.Variant == Variant.Plain) ?? results[0];
    }

    /// <summary>Where the data came from.</summary>
    public string DataDescription { get; }

    /// <summary>Training examples used.</summary>
    public int TrainExamples { get; }

    /// <summary>Test examples used.</summary>
    public int TestExamples { get; }

    /// <summary>The training loss of the "reached at epoch" column.</summary>
    public double TargetLoss { get; }

    /// <summary>The variant the time ratios divide by: <c>plain</c> when it ran, else the first variant.</summary>
    public VariantResult Baseline { get; }

    /// <summary>
    /// The (fractional) epoch at which result <paramref name="index"/>'s smoothed training loss first reached
    /// <see cref="TargetLoss"/>, or null if it never did.
    /// </summary>
    public double? EpochReachingTarget(int index)
    {
        double[] curve = _smoothed[index];
        for (int t = 0; t < curve.Length; t++)
        {
            if (curve[t] <= TargetLoss)
            {
                return (t + 1) / (double)_results[index].IterationsPerEpoch;
            }
        }
        return null;
    }

    /// <summary>The heading, the settings and the table, in markdown.</summary>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        string optimizer = _options.Optimizer == "sgd" ? "SGD (momentum 0.9)" : "Adam";
        string schedule = _options.Model == "paper-cifar" ? ", the paper's schedule (lr linear to 0 and β1 0.5 in the second half)" : "";
        Append(text, $"## {_options.Model} on {_options.Dataset}: plain vs weight norm vs batch norm\n\n");
        Append(text, $"Data: {DataDescription}, {TrainExamples} training and {TestExamples} test examples. ");
        Append(text, $"{_options.Epochs} epochs, batch {_options.BatchSize}, {optimizer} with lr {_options.LearningRate}{schedule}, seed {_options.Seed}.\n\n");
        string target = _options.TargetLoss is null ? $"{TargetLoss:0.000} (the highest final smoothed loss, reached by all)" : $"{TargetLoss:0.000}";
        Append(text, $"Train loss: the mean over an epoch's mini-batches. Test accuracy: after the last epoch, evaluation mode. ");
        Append(text, $"s/epoch: the median over epochs, training only (no evaluation). Target loss {target}: the epoch at which the smoothed training loss first reached it.\n\n");
        Append(text, $"| variant | parameters | train loss, epoch 1 | train loss, final | test accuracy | s / epoch | × {Baseline.Variant.Name} | reached {TargetLoss:0.000} at epoch |\n");
        text.Append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (int i = 0; i < _results.Count; i++)
        {
            VariantResult r = _results[i];
            double? reached = EpochReachingTarget(i);
            Append(text, $"| {r.Variant.Name} | {r.ParameterCount:N0} | {r.TrainLossEpoch1:0.0000} | {r.TrainLossFinal:0.0000} | {100 * r.TestAccuracy:0.00}% | ");
            Append(text, $"{r.SecondsPerEpoch:0.00} | {r.SecondsPerEpoch / Baseline.SecondsPerEpoch:0.00} | {(reached is null ? "—" : reached.Value.ToString("0.00", CultureInfo.InvariantCulture))} |\n");
        }
        return text.ToString();
    }

    /// <summary>
    /// The JSON document: <c>{"dataset", "model", "epochs", "seed", …, "variants": [{"name", "train_loss_epoch1",
    /// "train_loss_final", "test_accuracy", "seconds_per_epoch", "loss_curve", …}]}</c>. Accuracy is a fraction
    /// (0–1); <c>loss_curve</c> is the unsmoothed loss of every iteration; a non-finite number is written as null.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file, never embedded in HTML: keep ' and × readable
        }))
        {
            json.WriteStartObject();
            json.WriteString("dataset", _options.Dataset);
            json.WriteString("data", DataDescription);
            json.WriteString("model", _options.Model);
            json.WriteNumber("epochs", _options.Epochs);
            json.WriteNumber("seed", _options.Seed);
            json.WriteNumber("batch_size", _options.BatchSize);
            json.WriteString("optimizer", _options.Optimizer);
            json.WriteNumber("learning_rate", _options.LearningRate);
            json.WriteNumber("train_examples", TrainExamples);
            json.WriteNumber("test_examples", TestExamples);
            WriteNumber(json, "target_loss", TargetLoss);
            json.WriteStartArray("variants");
            for (int i = 0; i < _results.Count; i++)
            {
                VariantResult r = _results[i];
                json.WriteStartObject();
                json.WriteString("name", r.Variant.Name);
                json.WriteString("description", r.Variant.Description);
                json.WriteNumber("parameters", r.ParameterCount);
                WriteNumber(json, "train_loss_epoch1", r.TrainLossEpoch1);
                WriteNumber(json, "train_loss_final", r.TrainLossFinal);
                WriteNumber(json, "test_accuracy", r.TestAccuracy);
                WriteNumber(json, "test_loss", r.TestLoss);
                WriteNumber(json, "seconds_per_epoch", r.SecondsPerEpoch);
                WriteNumber(json, "time_ratio", r.SecondsPerEpoch / Baseline.SecondsPerEpoch);
                WriteNumber(json, "target_reached_epoch", EpochReachingTarget(i) ?? double.NaN);
                json.WriteNumber("iterations_per_epoch", r.IterationsPerEpoch);
                WriteArray(json, "train_loss_per_epoch", r.EpochLosses);
                WriteArray(json, "test_accuracy_per_epoch", r.EpochTestAccuracies);
                WriteArray(json, "loss_curve", r.IterationLosses, asFloat: true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Training loss per iteration, smoothed, log scale, one line per variant.</summary>
    public SvgChart ToChart()
    {
        var chart = new SvgChart($"Training loss: {_options.Model} on {_options.Dataset}", "iteration", "training loss (smoothed)");
        for (int i = 0; i < _results.Count; i++)
        {
            chart.AddSeries(_results[i].Variant.Name, _smoothed[i]);
        }
        return chart;
    }

    /// <summary>
    /// Writes <c>compare.md</c>, <c>compare.json</c> and <c>compare.svg</c> into <paramref name="directory"/>
    /// (created if missing), each through a temporary file renamed into place. Returns the three paths.
    /// </summary>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public IReadOnlyList<string> WriteAll(string directory)
    {
        Directory.CreateDirectory(directory);
        string markdown = Path.Combine(directory, "compare.md");
        string json = Path.Combine(directory, "compare.json");
        string svg = Path.Combine(directory, "compare.svg");
        AtomicFile.WriteAllText(markdown, ToMarkdown());
        AtomicFile.WriteAllText(json, ToJson());
        ToChart().Save(svg);
        return [markdown, json, svg];
    }

    private static void Append(StringBuilder text, FormattableString value) => text.Append(value.ToString(CultureInfo.InvariantCulture));

    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    // asFloat: the losses were computed in float32; writing them as floats gives the shortest exact text ("0.6935").
    private static void WriteArray(Utf8JsonWriter json, string name, IReadOnlyList<double> values, bool asFloat = false)
    {
        json.WriteStartArray(name);
        foreach (double value in values)
        {
            if (double.IsFinite(value) && asFloat)
            {
                json.WriteNumberValue((float)value);
            }
            else if (double.IsFinite(value))
            {
                json.WriteNumberValue(value);
            }
            else
            {
                json.WriteNullValue();
            }
        }
        json.WriteEndArray();
    }
}
