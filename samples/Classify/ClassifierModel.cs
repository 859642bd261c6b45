using System.Globalization;
using System.IO;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;

namespace NeuralCore.Samples.Classify;

/// <summary>
/// An image classifier loaded from a safetensors file written by the runner's <c>compare --save-model</c>: the network
/// (rebuilt from the file's <c>neuralcore.layers</c> metadata), the input normalization it was trained with, and the
/// class names. Everything in the file is checked before use (<see cref="InvalidDataException"/> otherwise).
/// </summary>
public sealed class ClassifierModel
{
    /// <summary>The value of <c>neuralcore.format</c> this sample reads.</summary>
    public const string FormatVersion = "neuralcore-classifier/1";

    private const int MaxClasses = 100_000;

    private readonly float[] _mean; // per input channel, in pixel units
    private readonly float[] _std;

    private ClassifierModel(Sequential network, (int, int, int) input, float[] mean, float[] std, string[] classNames, string layers, string source)
    {
        Network = network;
        InputShape = input;
        _mean = mean;
        _std = std;
        ClassNames = classNames;
        Layers = layers;
        Source = source;
    }

    /// <summary>The network, plain layers only (weight norm and batch norm folded), in evaluation mode.</summary>
    public Sequential Network { get; }

    /// <summary>One input image's shape (channels, height, width).</summary>
    public (int Channels, int Height, int Width) InputShape { get; }

    /// <summary>The class names, in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The layers as the file describes them, e.g. <c>flatten; linear 784 500; …</c>.</summary>
    public string Layers { get; }

    /// <summary>How the model was trained, as the file says (free text; empty when absent).</summary>
    public string Source { get; }

    /// <summary>Loads and checks the model file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, or its metadata or tensors do not describe a classifier.</exception>
    public static ClassifierModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string file = Path.GetFileName(path);
        Dictionary<string, string> metadata = SafeTensors.LoadMetadata(path);
        string format = Required(metadata, "neuralcore.format", file);
        if (format != FormatVersion)
        {
            throw ModelArchitecture.ModelError(file, $"neuralcore.format is '{format}'; expected '{FormatVersion}' (a file from compare --save-model)");
        }
        int[] input = ParseNumbers<int>(Required(metadata, "neuralcore.input", file), "neuralcore.input", file,
            value => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 4096 ? n : null);
        if (input.Length != 3)
        {
            throw ModelArchitecture.ModelError(file, $"neuralcore.input has {input.Length} numbers; expected 3 (C H W)");
        }
        float[] mean = ParseNumbers<float>(Required(metadata, "neuralcore.input_mean", file), "neuralcore.input_mean", file,
            value => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && float.IsFinite(x) ? x : null);
        float[] std = ParseNumbers<float>(Required(metadata, "neuralcore.input_std", file), "neuralcore.input_std", file,
            value => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float x) && float.IsFinite(x) && x > 0 ? x : null);
        if (mean.Length != input[0] || std.Length != input[0])
        {
            throw ModelArchitecture.ModelError(file,
                $"{mean.Length} means and {std.Length} standard deviations for {input[0]} input channels; expected one of each per channel");
        }
        string[] classNames = Required(metadata, "neuralcore.classes", file).Split('|');
        if (classNames.Length > MaxClasses || Array.Exists(classNames, string.IsNullOrWhiteSpace))
        {
            throw ModelArchitecture.ModelError(file, $"neuralcore.classes lists {classNames.Length} names, some empty; expected 1 to {MaxClasses} non-empty names separated by '|'");
        }
        string layers = Required(metadata, "neuralcore.layers", file);

        Dictionary<string, Tensor> tensors = SafeTensors.Load(path);
        (Sequential network, int outputs) = ModelArchitecture.Build(layers, (input[0], input[1], input[2]), tensors, file);
        if (outputs != classNames.Length)
        {
            throw ModelArchitecture.ModelError(file, $"the network has {outputs} outputs and neuralcore.classes {classNames.Length} names; expected the same");
        }
        return new ClassifierModel(network, (input[0], input[1], input[2]), mean, std, classNames, layers,
            metadata.GetValueOrDefault("neuralcore.source", ""));
    }

    /// <summary>
    /// The class scores (logits) of <paramref name="count"/> images from <paramref name="first"/> on: the pixels
    /// normalized as in training, then one forward pass. Shape (count, classes).
    /// </summary>
    /// <exception cref="ArgumentException">The images' size differs from <see cref="InputShape"/>, or the model takes more than one channel.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the images.</exception>
    public Tensor Logits(GreyImages images, int first, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        (int channels, int height, int width) = InputShape;
        if (channels != 1 || images.Height != height || images.Width != width)
        {
            throw new ArgumentException(
                $"Classify: the images are {images.Height} × {images.Width} grey; the model expects {channels} channel(s) of {height} × {width}.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, images.Count - first);

        int plane = height * width;
        var input = new float[count * plane]; // (count, 1, H, W)
        ReadOnlySpan<byte> pixels = images.Pixels.AsSpan(first * plane, count * plane);
        float scale = 1f / _std[0], shift = -_mean[0] / _std[0];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (pixels[i] * scale) + shift; // (x − mean)/std, the normalization of training
        }
        using (Tape.NoGrad())
        {
            return Network.Forward(Tensor.Wrap(input, count, channels, height, width)).Contiguous();
        }
    }

    /// <summary>The most likely class of every image, in batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The images' size differs from <see cref="InputShape"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public Prediction[] Classify(GreyImages images, int batchSize = 100)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var predictions = new Prediction[images.Count];
        for (int first = 0; first < images.Count; first += batchSize)
        {
            int count = Math.Min(batchSize, images.Count - first);
            Tensor probabilities = Logits(images, first, count).Softmax(1); // (count, classes)
            ReadOnlySpan<float> rows = probabilities.AsSpan();
            int classes = ClassNames.Count;
            for (int n = 0; n < count; n++)
            {
                ReadOnlySpan<float> row = rows.Slice(n * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++)
                {
                    best = row[c] > row[best] ? c : best;
                }
                predictions[first + n] = new Prediction(best, row[best]);
            }
        }
        return predictions;
    }

    private static string Required(Dictionary<string, string> metadata, string key, string file) =>
        metadata.TryGetValue(key, out string? value)
            ? value
            : throw ModelArchitecture.ModelError(file, $"the metadata has no '{key}'; expected a file written by compare --save-model");

    private static T[] ParseNumbers<T>(string text, string key, string file, Func<string, T?> parse)
        where T : struct
    {
        string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is 0 or > 4096)
        {
            throw ModelArchitecture.ModelError(file, $"{key} has {words.Length} numbers; expected 1 to 4096");
        }
        var values = new T[words.Length];
        for (int i = 0; i < words.Length; i++)
        {
            values[i] = parse(words[i]) ?? throw ModelArchitecture.ModelError(file, $"{key}: '{Truncate(words[i])}' is not a valid value");
        }
        return values;
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
