using System.Diagnostics;
using System.Linq;
using System.IO;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Engine;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// The <c>compare</c> command, the runner's default: load the data, train the same network under each variant with
/// the same seed and data order, then print the comparison table and write <c>compare.md</c>, <c>compare.json</c>
/// and <c>compare.svg</c>.
/// </summary>
public static class CompareCommand
{
    /// <summary>Runs the command with the arguments after its name; returns the exit code.</summary>
    /// <param name="args">The options (see <see cref="CompareOptions.HelpText"/>).</param>
    /// <param name="output">Progress, the table and the file names.</param>
    /// <param name="error">Usage and run-time errors.</param>
    /// <param name="progress">The progress display; null: a live bar on a terminal, plain lines otherwise.</param>
    /// <returns>0 done; 1 a run-time error (a missing or damaged data file, an unwritable output folder); 2 a usage error.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, ProgressReporter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        CompareOptions options;
        try
        {
            options = CompareOptions.Parse(args);
        }
        catch (CommandLineException e)
        {
            error.WriteLine($"compare: {e.Message}");
            return 2;
        }
        if (options.Help)
        {
            output.WriteLine(CompareOptions.HelpText);
            return 0;
        }

        try
        {
            Run(options, output, progress ?? ProgressReporter.ForConsole());
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            error.WriteLine($"compare: {e.Message}");
            return 1;
        }
    }

    /// <summary>Runs a parsed comparison; returns the report (also printed and written to <see cref="CompareOptions.OutputDirectory"/>).</summary>
    /// <exception cref="IOException">The data cannot be read or the results cannot be written.</exception>
    /// <exception cref="InvalidDataException">A data file is damaged.</exception>
    public static CompareReport Run(CompareOptions options, TextWriter output, ProgressReporter progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(progress);
        var total = Stopwatch.StartNew();
        ApplyThreadCount(options.Threads);

        (DataSplit split, string description) = LoadData(options);
        Dataset train = split.Train, test = split.Test;
        if (options.Quick)
        {
            train = EvenlySpaced(train, CompareOptions.QuickTrainExamples);
            test = EvenlySpaced(test, CompareOptions.QuickTestExamples);
        }
        Normalization normalization = Preprocess(options, train, test);

        bool flatten = options.Model == "mlp";
        var trainLoader = new DataLoader(train, new DataLoaderOptions
        {
            BatchSize = options.BatchSize,
            Seed = options.Seed,
            Normalization = normalization,
            Flatten = flatten,
        });
        var testLoader = new DataLoader(test, new DataLoaderOptions
        {
            BatchSize = 500,
            Shuffle = false,
            Normalization = normalization,
            Flatten = flatten,
        });
        // The data-dependent init's batch: drawn once, in an order of its own (another seed), and shared by every variant.
        var initLoader = new DataLoader(train, new DataLoaderOptions
        {
            BatchSize = Math.Min(ModelFactory.InitBatchSize, train.Count),
            Seed = options.Seed + 1,
            Normalization = normalization,
            Flatten = flatten,
        });
        Tensor initBatch = initLoader.Epoch(0).First().Images.Copy();

        output.WriteLine($"compare: {options.Model} on {options.Dataset} ({description}: {train.Count} train / {test.Count} test), " +
            $"{options.Epochs} epochs, batch {options.BatchSize}, {options.Optimizer} lr {options.LearningRate}, seed {options.Seed}");
        var trainer = new VariantTrainer(options, trainLoader, testLoader, initBatch, progress);
        var results = new List<VariantResult>();
        foreach (Variant variant in options.Variants)
        {
            results.Add(trainer.Run(variant));
            if (options.SaveModelPath is not null && variant == options.SaveVariant)
            {
                SaveModel(options, trainer.LastModel!, train, normalization, results[^1], description);
                output.WriteLine($"saved {variant.Name}'s model for inference to {options.SaveModelPath}");
            }
        }

        var report = new CompareReport(options, description, train.Count, test.Count, results);
        output.WriteLine();
        output.Write(report.ToMarkdown());
        output.WriteLine();
        foreach (string path in report.WriteAll(options.OutputDirectory))
        {
            output.WriteLine($"wrote {path}");
        }
        output.WriteLine($"total time {total.Elapsed.TotalSeconds:0.0} s");
        return report;
    }

    // --save-model: the inference form of the trained model, with what a program needs to feed it (input shape,
    // normalization, class names) in the file's metadata.
    private static void SaveModel(CompareOptions options, Layers.Sequential model, Dataset train, Normalization normalization,
        VariantResult result, string description)
    {
        var mean = new float[train.Channels];
        var std = new float[train.Channels];
        for (int c = 0; c < train.Channels; c++)
        {
            mean[c] = normalization.MeanOf(c);
            std[c] = normalization.StdOf(c);
        }
        string source = FormattableString.Invariant(
            $"NeuralCore compare --model {options.Model} --variants {result.Variant.Name} --epochs {options.Epochs} --seed {options.Seed}")
            + FormattableString.Invariant($" on {options.Dataset} ({description}); test accuracy {result.TestAccuracy:P2}");
        ModelExport.Save(options.SaveModelPath!, model, flattenInput: options.Model == "mlp", (train.Channels, train.Height, train.Width),
            mean, std, train.ClassNames, source);
    }

    /// <summary>
    /// Applies <c>--threads</c>: how many threads the engine's large kernels (the GEMM behind Linear, matmul and
    /// convolution) use. Null keeps the engine's default (all cores). Results do not depend on it.
    /// </summary>
    public static void ApplyThreadCount(int? threads)
    {
        if (threads is not null)
        {
            NeuralCore.Engine.Kernels.Gemm.MaxThreads = threads.Value;
        }
    }

    private static (DataSplit Split, string Description) LoadData(CompareOptions options)
    {
        string? directory = options.DataDirectory;
        return options.Dataset switch
        {
            "fashion-mnist" when directory is null => (FashionMnist.LoadDefault(), "the Fashion-MNIST subset shipped with NeuralCore"),
            "fashion-mnist" => (FashionMnist.Load(directory), directory),
            "mnist" => (Mnist.Load(directory!), directory!),
            _ => (Cifar10Reader.Load(directory!), directory!),
        };
    }

    /// <summary>
    /// Per-channel standardization fitted on the training set for the grey-scale sets; the paper's
    /// <c>(x − 127.5)/128</c> for CIFAR-10, with its ZCA whitening applied once to both sets under <c>--zca</c>.
    /// </summary>
    private static Normalization Preprocess(CompareOptions options, Dataset train, Dataset test)
    {
        if (options.Dataset != "cifar10")
        {
            return Normalization.FitPerChannel(train);
        }
        if (!options.Zca)
        {
            return Normalization.PaperCifar;
        }
        ZcaWhitening.ApplyPaperPreprocessing(new DataSplit(train, test));
        return Normalization.None;
    }

    // `count` examples spread evenly over the set (every k-th one), so a quick run still sees every class.
    private static Dataset EvenlySpaced(Dataset dataset, int count)
    {
        count = Math.Min(count, dataset.Count);
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = (int)((long)i * dataset.Count / count);
        }
        return dataset.Subset(indices);
    }
}
