using NeuralCore.Engine;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// Builds the compared networks by name. Every variant of a model has the same layers in the same order; only the
/// parameterization changes (<see cref="Variant"/>): weight norm or not, and a batch norm or mean-only batch norm
/// after each hidden Linear/Conv2d (whose bias is then off, as the normalization has its own shift). The output
/// layer is never followed by a normalization.
/// </summary>
/// <remarks>
/// Randomness, so that every variant starts from the same draw: the layers' construction-time init comes from a
/// generator seeded with the run's seed; the data-dependent init (<see cref="Initialize"/>) draws <c>v</c> from a
/// second one, layer by layer in forward order (the same shapes in the same order for every variant, so the same
/// values); dropout and noise use a third.
/// </remarks>
public static class ModelFactory
{
    /// <summary>Hidden units of each of the MLP's two hidden layers.</summary>
    public const int MlpHidden = 500;

    /// <summary>The paper's leaky ReLU slope (its CIFAR-10 network), used by every model here.</summary>
    public const float LeakySlope = 0.1f;

    /// <summary>Examples in the batch the data-dependent init measures (the paper's CIFAR-10 script uses 500).</summary>
    public const int InitBatchSize = 500;

    /// <summary>
    /// The network <paramref name="model"/> (mlp, cnn or paper-cifar) for inputs of <paramref name="channels"/> ×
    /// <paramref name="height"/> × <paramref name="width"/> and <paramref name="classes"/> outputs, parameterized as
    /// <paramref name="variant"/> says. The mlp takes flattened input (B, C·H·W); the others (B, C, H, W). The output
    /// is the logits (B, classes).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown model name, or an image too small for the model.</exception>
    public static Sequential Build(string model, Variant variant, int channels, int height, int width, int classes, ulong seed) =>
        Build(model, variant, channels, height, width, classes, seed, NoiseGenerator(seed));

    /// <summary>
    /// As <see cref="Build(string, Variant, int, int, int, int, ulong)"/>, with the generator the dropout and noise layers
    /// draw from given, so that a checkpoint can save and restore its state.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown model name, or an image too small for the model.</exception>
    public static Sequential Build(string model, Variant variant, int channels, int height, int width, int classes, ulong seed, RandomGenerator noise)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(noise);
        var builder = new Builder(variant, new RandomGenerator(seed), noise);
        Sequential network = model switch
        {
            "mlp" => builder.Mlp(channels * height * width, classes),
            "cnn" => builder.SmallCnn(channels, height, width, classes),
            "paper-cifar" => builder.PaperCifar(channels, height, width, classes),
            _ => throw new ArgumentException($"ModelFactory: unknown model '{model}'; expected mlp, cnn or paper-cifar."),
        };
        if (variant.WeightNorm)
        {
            WeightNorm.Apply(network, dim: 0, variant.Mode);
        }
        return network;
    }

    /// <summary>The generator of the dropout masks and noise of a run with <paramref name="seed"/>, before its first draw.</summary>
    public static RandomGenerator NoiseGenerator(ulong seed) => new(seed ^ 0x5EED_0002UL);

    /// <summary>
    /// The paper's data-dependent init (§3), when <paramref name="variant"/> uses it: one forward over
    /// <paramref name="batch"/> that gives every unit zero mean and unit variance pre-activations. Runs in training
    /// mode, as the reference code does (dropout, noise and batch statistics take part).
    /// </summary>
    /// <returns>The number of layers initialized (0 when the variant keeps the default init).</returns>
    public static int Initialize(Module model, Variant variant, Tensor batch, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(variant);
        if (!variant.DataDependentInit)
        {
            return 0;
        }
        model.Train();
        return DataDependentInit.Apply(model, batch, initScale: 1f, random: new RandomGenerator(seed ^ 0x5EED_0001UL), resample: true);
    }

    /// <summary>The number of learnable values in <paramref name="model"/>.</summary>
    public static long ParameterCount(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long count = 0;
        foreach (Tensor parameter in model.Parameters())
        {
            count += parameter.Count;
        }
        return count;
    }

    // Appends layers for one variant; the helpers keep the three architectures short enough to read side by side.
    private sealed class Builder(Variant variant, RandomGenerator weights, RandomGenerator noise)
    {
        private readonly Sequential _network = new();

        // in → [Linear, norm, leaky ReLU] × 2 → Linear → logits
        public Sequential Mlp(int inputs, int classes)
        {
            HiddenLinear(inputs, MlpHidden);
            HiddenLinear(MlpHidden, MlpHidden);
            _network.Add(new Linear(MlpHidden, classes, random: weights));
            return _network;
        }

        // (C, 28, 28) → conv 32 → pool → (32, 14, 14) → conv 64 → pool → (64, 7, 7) → dense 128 → dense classes
        public Sequential SmallCnn(int channels, int height, int width, int classes)
        {
            RequireSize("cnn", height, width, 4);
            HiddenConv(channels, 32, 3, padding: 1);
            _network.Add(new MaxPool2d(2));
            HiddenConv(32, 64, 3, padding: 1);
            _network.Add(new MaxPool2d(2));
            _network.Add(new Flatten());
            HiddenLinear(64 * (height / 2 / 2) * (width / 2 / 2), 128);
            _network.Add(new Linear(128, classes, random: weights));
            return _network;
        }

        // PAPER.md, "CIFAR-10 experiment": for (3, 32, 32) the shapes are 32 → 16 → 8 → 6 (the valid conv) → 1.
        public Sequential PaperCifar(int channels, int height, int width, int classes)
        {
            RequireSize("paper-cifar", height, width, 12);
            _network.Add(new GaussianNoise(0.15f, noise));
            HiddenConv(channels, 96, 3, padding: 1);
            HiddenConv(96, 96, 3, padding: 1);
            HiddenConv(96, 96, 3, padding: 1);
            _network.Add(new MaxPool2d(2));
            _network.Add(new Dropout(0.5f, noise));
            HiddenConv(96, 192, 3, padding: 1);
            HiddenConv(192, 192, 3, padding: 1);
            HiddenConv(192, 192, 3, padding: 1);
            _network.Add(new MaxPool2d(2));
            _network.Add(new Dropout(0.5f, noise));
            HiddenConv(192, 192, 3, padding: 0);   // "valid": no padding
            HiddenConv(192, 192, 1, padding: 0);   // network-in-network: 1×1 convolutions
            HiddenConv(192, 192, 1, padding: 0);
            _network.Add(new GlobalAvgPool2d());   // (N, 192, h, w) → (N, 192)
            _network.Add(new Linear(192, classes, random: weights));
            return _network;
        }

        private void HiddenLinear(int inputs, int outputs)
        {
            _network.Add(new Linear(inputs, outputs, bias: variant.HiddenBias, random: weights));
            switch (variant.Normalization)
            {
                case HiddenNormalization.BatchNorm:
                    _network.Add(new BatchNorm1d(outputs));
                    break;
                case HiddenNormalization.MeanOnlyBatchNorm:
                    _network.Add(new MeanOnlyBatchNorm1d(outputs));
                    break;
            }
            _network.Add(new LeakyReLU(LeakySlope));
        }

        private void HiddenConv(int inputs, int outputs, int kernel, int padding)
        {
            _network.Add(new Conv2d(inputs, outputs, kernel, padding: padding, bias: variant.HiddenBias, random: weights));
            switch (variant.Normalization)
            {
                case HiddenNormalization.BatchNorm:
                    _network.Add(new BatchNorm2d(outputs));
                    break;
                case HiddenNormalization.MeanOnlyBatchNorm:
                    _network.Add(new MeanOnlyBatchNorm2d(outputs));
                    break;
            }
            _network.Add(new LeakyReLU(LeakySlope));
        }

        private static void RequireSize(string model, int height, int width, int minimum)
        {
            if (height < minimum || width < minimum)
            {
                throw new ArgumentException($"ModelFactory: {model} needs images of at least {minimum} × {minimum} pixels; these are {height} × {width}.");
            }
        }
    }
}
