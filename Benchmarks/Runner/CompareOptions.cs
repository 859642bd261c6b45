using System.Globalization;
using System.Linq;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// The options of the <c>compare</c> command, parsed from the command line (<see cref="Parse"/>). Options a user
/// leaves out take defaults that depend on the model (<see cref="Epochs"/>) or the optimizer (<see cref="LearningRate"/>).
/// </summary>
public sealed class CompareOptions
{
    /// <summary>The data sets <c>--dataset</c> accepts.</summary>
    public static IReadOnlyList<string> Datasets { get; } = ["fashion-mnist", "mnist", "cifar10"];

    /// <summary>The models <c>--model</c> accepts.</summary>
    public static IReadOnlyList<string> Models { get; } = ["mlp", "cnn", "paper-cifar"];

    /// <summary>The optimizers <c>--optimizer</c> accepts.</summary>
    public static IReadOnlyList<string> Optimizers { get; } = ["adam", "sgd"];

    /// <summary>Training examples in a <c>--quick</c> run.</summary>
    public const int QuickTrainExamples = 300;

    /// <summary>Test examples in a <c>--quick</c> run.</summary>
    public const int QuickTestExamples = 100;

    /// <summary>
    /// Epochs of the default run (MLP on the shipped subset): chosen so the four variants finish in under three
    /// minutes on a 2-core machine (measured; see Benchmarks/results).
    /// </summary>
    public const int DefaultMlpEpochs = 15;

    /// <summary>The folder with the data files; null for the subset shipped with NeuralCore (Fashion-MNIST only).</summary>
    public string? DataDirectory { get; private set; }

    /// <summary>fashion-mnist (default), mnist or cifar10 (the default for <c>--model paper-cifar</c>).</summary>
    public string Dataset { get; private set; } = "fashion-mnist";

    /// <summary>mlp (default), cnn or paper-cifar.</summary>
    public string Model { get; private set; } = "mlp";

    /// <summary>The variants to train, in order (default: the paper's four).</summary>
    public IReadOnlyList<Variant> Variants { get; private set; } = Variant.PaperFour;

    /// <summary>Passes over the training set. Default: 200 for paper-cifar (the paper), 2 with --quick, else <see cref="DefaultMlpEpochs"/>.</summary>
    public int Epochs { get; private set; } = DefaultMlpEpochs;

    /// <summary>Examples per mini-batch (default 100, the paper's).</summary>
    public int BatchSize { get; private set; } = 100;

    /// <summary>The learning rate. Default: 0.001 for Adam (the paper's code default), 0.01 for SGD (with momentum 0.9).</summary>
    public double LearningRate { get; private set; } = 0.001;

    /// <summary>adam (default) or sgd.</summary>
    public string Optimizer { get; private set; } = "adam";

    /// <summary>The seed of every draw: initial weights, data order, dropout and noise (default 1).</summary>
    public ulong Seed { get; private set; } = 1;

    /// <summary>Worker threads for the large kernels; null leaves the engine's default.</summary>
    public int? Threads { get; private set; }

    /// <summary>Where compare.md, compare.json and compare.svg go (default <c>results</c>, relative to the working folder).</summary>
    public string OutputDirectory { get; private set; } = "results";

    /// <summary>A smoke test: <see cref="QuickTrainExamples"/> training and <see cref="QuickTestExamples"/> test examples.</summary>
    public bool Quick { get; private set; }

    /// <summary>
    /// The training loss the "reached at epoch" column looks for; null (default): the highest final loss among the
    /// variants, i.e. the lowest level that every variant reached.
    /// </summary>
    public double? TargetLoss { get; private set; }

    /// <summary>CIFAR-10 only: the paper's ZCA whitening after scaling to [−1, 1] (slow: minutes).</summary>
    public bool Zca { get; private set; }

    /// <summary>
    /// <c>--checkpoint DIR</c>: save a checkpoint of each variant there at the end of every epoch
    /// (<c>DIR/{variant}.checkpoint.safetensors</c>); null (default): none.
    /// </summary>
    public string? CheckpointDirectory { get; private set; }

    /// <summary><c>--resume</c>: continue each variant from its checkpoint in <see cref="CheckpointDirectory"/>, if it has one.</summary>
    public bool Resume { get; private set; }

    /// <summary>
    /// Hidden <c>--stop-after-epoch N</c>, for tests: each variant stops after epoch N as if the run had been killed
    /// right after that epoch's checkpoint; null (default): run all <see cref="Epochs"/>.
    /// </summary>
    public int? StopAfterEpoch { get; private set; }

    /// <summary>
    /// <c>--save-model FILE</c>: after training, the model of <see cref="SaveVariant"/> folded for inference and saved
    /// as safetensors (<see cref="ModelExport"/>); null: nothing is saved.
    /// </summary>
    public string? SaveModelPath { get; private set; }

    /// <summary>The variant whose model <c>--save-model</c> saves: <c>--save-variant</c>, else wn when trained, else the first.</summary>
    public Variant SaveVariant { get; private set; } = Variant.WeightNormFused;

    /// <summary><c>--help</c> was given: print <see cref="HelpText"/> and do nothing else.</summary>
    public bool Help { get; private set; }

    /// <summary>The text <c>--help</c> prints.</summary>
    public static string HelpText { get; } = $"""
        compare: train the same network under several parameterizations and compare them (the paper's Figure 1 and Table 1).

        usage: dotnet run -c Release --project Benchmarks -- [compare] [options]

        options:
          --data DIR          folder with the data files (default: the Fashion-MNIST subset shipped with NeuralCore,
                              8000 training / 1000 test images). IDX files (gz or raw) for fashion-mnist and mnist,
                              e.g. /usr/share/datasets/fashion-mnist; the CIFAR-10 binary files for cifar10.
          --dataset NAME      fashion-mnist (default), mnist, cifar10 (default with --model paper-cifar)
          --model NAME        mlp (default): 784-500-500-10 leaky ReLU (0.1) network
                              cnn: conv3x3 32, pool, conv3x3 64, pool, dense 128, dense 10
                              paper-cifar: the paper's CIFAR-10 network (noise, 9 convs, NIN, global pooling)
          --variants LIST     comma-separated, default plain,wn,bn,wn-mobn; all:
        {string.Join("\n", Variant.All.Select(v => $"                        {v.Name,-15}{v.Description}"))}
          --epochs N          passes over the training set (default {DefaultMlpEpochs}; 200 for paper-cifar, as the paper; 2 with --quick)
          --batch N           examples per mini-batch (default 100)
          --lr X              learning rate (default 0.001 for adam, 0.01 for sgd)
          --optimizer NAME    adam (default) or sgd (momentum 0.9). paper-cifar adds the paper's schedule: lr constant
                              for the first half, then linearly to zero; Adam's beta1 0.9, then 0.5 in the second half
          --seed N            seed of the weights, data order, dropout and noise (default 1)
          --threads N         worker threads for the large kernels (default: the engine's choice)
          --out DIR           where compare.md, compare.json and compare.svg are written (default results/)
          --target-loss X     training loss for the "reached at epoch" column (default: the highest final smoothed loss
                              among the variants, the level all of them reached)
          --zca               cifar10: ZCA-whiten after scaling (the paper's preprocessing; takes minutes)
          --checkpoint DIR    after every epoch, save each variant's model, optimizer, schedules, random state and
                              loss history to DIR/VARIANT.checkpoint.safetensors (atomically: a kill never damages it)
          --resume            with --checkpoint: continue each variant from its checkpoint, if any; the results equal
                              those of an uninterrupted run. The other options must be the checkpoint's; --epochs may
                              grow (except for paper-cifar, whose schedules depend on it)
          --save-model FILE   after training, save one variant's model for inference (weight norm removed, batch norm
                              folded) as safetensors, with its architecture and input normalization in the metadata;
                              samples/Classify loads it
          --save-variant NAME the variant --save-model saves (default: wn when trained, else the first of --variants)
          --quick             a smoke test: {QuickTrainExamples} training and {QuickTestExamples} test examples
          --help              this text

        Every variant gets the same seed: the same initial weight draw and the same order of batches.
        Exit codes: 0 done, 1 a run-time error (e.g. a missing or damaged data file), 2 a usage error.
        """;

    /// <summary>Parses the arguments after the command name.</summary>
    /// <exception cref="CommandLineException">An unknown option, a missing value or a bad value; the message names it.</exception>
    public static CompareOptions Parse(IReadOnlyList<string> args)
    {
        var options = new CompareOptions();
        bool epochsGiven = false, lrGiven = false, datasetGiven = false;
        string? saveVariant = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new CommandLineException($"unexpected argument '{arg}'; options start with --. Run with --help for the list.");
            }
            // Both "--epochs 3" and "--epochs=3" are accepted.
            string name = arg;
            string? inlineValue = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }

            string Value()
            {
                if (inlineValue is not null)
                {
                    return inlineValue;
                }
                if (i + 1 >= args.Count)
                {
                    throw new CommandLineException($"{name} needs a value; run with --help for the list.");
                }
                return args[++i];
            }

            void NoValue()
            {
                if (inlineValue is not null)
                {
                    throw new CommandLineException($"{name} takes no value, got '{inlineValue}'.");
                }
            }

            switch (name)
            {
                case "--data":
                    options.DataDirectory = NonEmpty(name, Value());
                    break;
                case "--dataset":
                    options.Dataset = OneOf(name, Value(), Datasets);
                    datasetGiven = true;
                    break;
                case "--model":
                    options.Model = OneOf(name, Value(), Models);
                    break;
                case "--variants":
                    options.Variants = ParseVariants(Value());
                    break;
                case "--epochs":
                    options.Epochs = PositiveInt(name, Value());
                    epochsGiven = true;
                    break;
                case "--batch":
                    options.BatchSize = PositiveInt(name, Value());
                    break;
                case "--lr":
                    options.LearningRate = PositiveDouble(name, Value());
                    lrGiven = true;
                    break;
                case "--optimizer":
                    options.Optimizer = OneOf(name, Value(), Optimizers);
                    break;
                case "--seed":
                    string seed = Value();
                    options.Seed = ulong.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out ulong s)
                        ? s
                        : throw new CommandLineException($"--seed: '{seed}' is not a whole number ≥ 0.");
                    break;
                case "--threads":
                    options.Threads = PositiveInt(name, Value());
                    break;
                case "--out":
                    options.OutputDirectory = NonEmpty(name, Value());
                    break;
                case "--target-loss":
                    options.TargetLoss = PositiveDouble(name, Value());
                    break;
                case "--save-model":
                    options.SaveModelPath = NonEmpty(name, Value());
                    break;
                case "--save-variant":
                    saveVariant = Value();
                    break;
                case "--zca":
                    NoValue();
                    options.Zca = true;
                    break;
                case "--checkpoint":
                    options.CheckpointDirectory = NonEmpty(name, Value());
                    break;
                case "--resume":
                    NoValue();
                    options.Resume = true;
                    break;
                case "--stop-after-epoch":
                    options.StopAfterEpoch = PositiveInt(name, Value());
                    break;
                case "--quick":
                    NoValue();
                    options.Quick = true;
                    break;
                case "--help":
                    NoValue();
                    options.Help = true;
                    break;
                default:
                    throw new CommandLineException($"unknown option '{name}'; run with --help for the list.");
            }
        }

        // Defaults that depend on other choices.
        if (!datasetGiven && options.Model == "paper-cifar")
        {
            options.Dataset = "cifar10";
        }
        if (!epochsGiven)
        {
            options.Epochs = options.Quick ? 2 : options.Model == "paper-cifar" ? 200 : DefaultMlpEpochs;
        }
        if (!lrGiven)
        {
            options.LearningRate = options.Optimizer == "sgd" ? 0.01 : 0.001;
        }
        if (options.Zca && options.Dataset != "cifar10")
        {
            throw new CommandLineException($"--zca applies to cifar10 only; the dataset is {options.Dataset}.");
        }
        if (options.Resume && options.CheckpointDirectory is null)
        {
            throw new CommandLineException("--resume needs --checkpoint DIR (the folder of the checkpoints to resume from).");
        }
        if (options.DataDirectory is null && options.Dataset != "fashion-mnist")
        {
            throw new CommandLineException(
                $"--dataset {options.Dataset} needs --data DIR (only a Fashion-MNIST subset ships with NeuralCore).");
        }
        options.SaveVariant = ChooseSaveVariant(options, saveVariant);
        return options;
    }

    private static Variant ChooseSaveVariant(CompareOptions options, string? name)
    {
        if (name is null)
        {
            return options.Variants.Contains(Variant.WeightNormFused) ? Variant.WeightNormFused : options.Variants[0];
        }
        if (options.SaveModelPath is null)
        {
            throw new CommandLineException("--save-variant needs --save-model FILE.");
        }
        Variant? variant = Variant.Find(name);
        return variant is not null && options.Variants.Contains(variant)
            ? variant
            : throw new CommandLineException(
                $"--save-variant: '{name}' is not one of the variants trained ({string.Join(", ", options.Variants.Select(v => v.Name))}).");
    }

    private static List<Variant> ParseVariants(string value)
    {
        var variants = new List<Variant>();
        foreach (string raw in value.Split(','))
        {
            string name = raw.Trim();
            Variant variant = Variant.Find(name)
                ?? throw new CommandLineException(
                    $"--variants: unknown variant '{name}'; expected a comma-separated list of {string.Join(", ", Variant.All.Select(v => v.Name))}.");
            if (variants.Contains(variant))
            {
                throw new CommandLineException($"--variants: '{name}' is listed twice.");
            }
            variants.Add(variant);
        }
        return variants;
    }

    private static string OneOf(string option, string value, IReadOnlyList<string> allowed) =>
        allowed.Contains(value)
            ? value
            : throw new CommandLineException($"{option}: '{value}' is not one of {string.Join(", ", allowed)}.");

    private static string NonEmpty(string option, string value) =>
        value.Length > 0 ? value : throw new CommandLineException($"{option}: expected a path, got an empty value.");

    private static int PositiveInt(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1
            ? n
            : throw new CommandLineException($"{option}: '{value}' is not a whole number ≥ 1.");

    private static double PositiveDouble(string option, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) && x > 0
            ? x
            : throw new CommandLineException($"{option}: '{value}' is not a positive number.");
}
