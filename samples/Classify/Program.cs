using System.Diagnostics;
using System.Globalization;
using System.IO;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Samples.Classify;

/// <summary>
/// Classifies grey-scale images with a model saved by the runner (<c>compare --save-model</c>): prints each image's
/// class, the accuracy when labels are given, and how long loading and classifying took.
/// </summary>
public static class Program
{
    /// <summary>The model used without <c>--model</c>: the one shipped beside the program.</summary>
    public const string DefaultModel = "model/fashion-mlp.safetensors";

    private const string Usage = """
        usage: Classify [options] IMAGES...

        IMAGES are IDX images files (e.g. t10k-images-idx3-ubyte, raw or .gz) or binary PGM files (P5, 8-bit), of the
        size the model takes (28 x 28 for Fashion-MNIST).

        options:
          --model FILE    the .safetensors file written by `compare --save-model` (default: model/fashion-mlp.safetensors
                          beside the program)
          --labels FILE   IDX labels for a single IDX images file: prints the accuracy
          --batch N       images per forward pass (default 100)
          --threads N     worker threads for the matrix products (default: all cores)
          --show N        print the class of the first N images of each file (default 10)
          --help          this text

        Exit codes: 0 done, 1 a missing or invalid file, 2 a usage error.
        """;

    /// <summary>Entry point; returns 0 on success, 1 on a missing or invalid file, 2 on a usage error.</summary>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"Classify: {e.Message}\n\n{Usage}");
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }
        try
        {
            Run(options, Console.Out);
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"Classify: {e.Message}");
            return 1;
        }
    }

    /// <summary>Loads the model, classifies every file and writes the report to <paramref name="output"/>.</summary>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="InvalidDataException">A file is invalid.</exception>
    /// <exception cref="ArgumentException">The images are not of the size the model takes.</exception>
    internal static void Run(Options options, TextWriter output)
    {
        if (options.Threads is int threads)
        {
            Gemm.MaxThreads = threads;
        }
        var clock = Stopwatch.StartNew();
        ClassifierModel model = ClassifierModel.Load(options.Model);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        output.WriteLine(Invariant($"model: {Path.GetFileName(options.Model)}: {model.Layers}; loaded in {loadMs:0.0} ms"));
        if (model.Source.Length > 0)
        {
            output.WriteLine($"  trained by: {model.Source}");
        }

        foreach (string path in options.Images)
        {
            GreyImages images = ImageFiles.ReadImages(path);
            byte[]? labels = options.Labels is null ? null : ImageFiles.ReadLabels(options.Labels);
            if (labels is not null && labels.Length != images.Count)
            {
                throw new InvalidDataException($"{Path.GetFileName(options.Labels)}: {labels.Length} labels for {images.Count} images in {Path.GetFileName(path)}; expected one per image.");
            }

            clock.Restart();
            Prediction[] predictions = model.Classify(images, options.BatchSize);
            double classifyMs = clock.Elapsed.TotalMilliseconds;

            output.WriteLine(Invariant($"{Path.GetFileName(path)}: {images.Count} image(s) of {images.Height} x {images.Width}"));
            for (int i = 0; i < Math.Min(options.Show, images.Count); i++)
            {
                Prediction p = predictions[i];
                string truth = labels is null ? "" : $"  (label: {Name(model, labels[i])})";
                output.WriteLine(Invariant($"  {i,5}: {model.ClassNames[p.Label],-12} {p.Probability,7:P1}{truth}"));
            }
            if (labels is not null)
            {
                int correct = 0;
                for (int i = 0; i < predictions.Length; i++)
                {
                    correct += predictions[i].Label == labels[i] ? 1 : 0;
                }
                output.WriteLine(Invariant($"accuracy: {correct}/{images.Count} = {100.0 * correct / images.Count:0.00}%"));
            }
            output.WriteLine(Invariant(
                $"timing: {images.Count} image(s) in {classifyMs:0.0} ms (batch {options.BatchSize}): {1000 * classifyMs / images.Count:0.0} µs/image"));
            WriteLatency(model, images, output);
        }
    }

    // One image at a time, as an app classifying user input would: the first call (cold) and the median of the rest.
    private static void WriteLatency(ClassifierModel model, GreyImages images, TextWriter output)
    {
        int runs = Math.Min(images.Count, 200);
        var microseconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _ = model.Logits(images, i, 1);
            microseconds[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        double first = microseconds[0];
        Array.Sort(microseconds);
        output.WriteLine(Invariant($"latency (batch 1): first {first:0} µs, median {microseconds[runs / 2]:0} µs over {runs} image(s)"));
    }

    private static string Name(ClassifierModel model, byte label) =>
        label < model.ClassNames.Count ? model.ClassNames[label] : $"{label} (out of range)";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
