using System.Globalization;
using System.IO;
using System.Text;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// Exports a trained classifier for inference (<c>compare --save-model FILE</c>): weight norm removed
/// (<see cref="WeightNormalizableLayer.RemoveWeightNorm"/>, <c>w = g·v/‖v‖</c>), every batch norm folded into the layer
/// before it (<see cref="Folding"/>), dropout and noise dropped (they are the identity at inference), saved as
/// safetensors whose <c>__metadata__</c> describes the network, so that a program (samples/Classify) can rebuild it
/// without knowing how it was trained.
/// </summary>
/// <remarks>
/// The metadata keys (all strings, as safetensors requires):
/// <list type="bullet">
/// <item><c>neuralcore.format</c>: <see cref="FormatVersion"/>.</item>
/// <item><c>neuralcore.layers</c>: the layers in order, separated by <c>;</c>: <c>flatten</c>, <c>linear IN OUT</c>,
/// <c>conv2d IN OUT KERNEL STRIDE PADDING DILATION</c>, <c>maxpool2d KERNEL STRIDE PADDING</c>,
/// <c>global_avg_pool2d</c>, <c>relu</c>, <c>leaky_relu SLOPE</c>. Layer i's tensors are <c>i.weight</c> and
/// <c>i.bias</c> (the names of a <see cref="Sequential"/>'s state dict).</item>
/// <item><c>neuralcore.input</c>: the input shape <c>C H W</c> of one image.</item>
/// <item><c>neuralcore.input_mean</c>, <c>neuralcore.input_std</c>: per channel, in pixel units (0–255): the network
/// expects <c>(pixel − mean)/std</c>.</item>
/// <item><c>neuralcore.classes</c>: the class names in label order, separated by <c>|</c>.</item>
/// <item><c>neuralcore.source</c>: how the model was trained, for people.</item>
/// </list>
/// </remarks>
public static class ModelExport
{
    /// <summary>The value of <c>neuralcore.format</c> this class writes.</summary>
    public const string FormatVersion = "neuralcore-classifier/1";

    /// <summary>
    /// Folds <paramref name="model"/> for inference (see the class summary) and writes it to <paramref name="path"/>
    /// (atomically). The model's weight-normalized layers lose their weight norm: export is the end of a model's training.
    /// </summary>
    /// <param name="path">The .safetensors file to write.</param>
    /// <param name="model">The trained network, as <c>ModelFactory.Build</c> makes it.</param>
    /// <param name="flattenInput">True when the network takes flattened images (the mlp): a <c>flatten</c> layer is put first.</param>
    /// <param name="input">One image's shape (C, H, W).</param>
    /// <param name="mean">Per channel (or one for all), the pixel mean the network's input was normalized with.</param>
    /// <param name="std">Per channel (or one for all), the pixel standard deviation.</param>
    /// <param name="classNames">The class names in label order.</param>
    /// <param name="source">One line on how the model was trained.</param>
    /// <returns>The folded network that was saved (evaluation mode).</returns>
    /// <exception cref="ArgumentException">The model has a layer that cannot be exported, or a class name contains <c>|</c>.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static Sequential Save(string path, Sequential model, bool flattenInput, (int Channels, int Height, int Width) input,
        IReadOnlyList<float> mean, IReadOnlyList<float> std, IReadOnlyList<string> classNames, string source)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        ArgumentNullException.ThrowIfNull(classNames);
        foreach (string name in classNames)
        {
            if (name.Contains('|', StringComparison.Ordinal))
            {
                throw new ArgumentException($"ModelExport: the class name '{name}' contains '|', the separator of neuralcore.classes.");
            }
        }

        (Sequential folded, string layers) = Fold(model, flattenInput);
        var metadata = new Dictionary<string, string>
        {
            ["neuralcore.format"] = FormatVersion,
            ["neuralcore.layers"] = layers,
            ["neuralcore.input"] = string.Create(CultureInfo.InvariantCulture, $"{input.Channels} {input.Height} {input.Width}"),
            ["neuralcore.input_mean"] = Join(mean),
            ["neuralcore.input_std"] = Join(std),
            ["neuralcore.classes"] = string.Join('|', classNames),
            ["neuralcore.source"] = source,
        };
        SafeTensors.Save(path, folded.StateDict(), metadata);
        return folded;
    }

    /// <summary>
    /// The inference form of <paramref name="model"/> (evaluation mode): plain Linear/Conv2d layers with the batch norms
    /// folded in, and its <c>neuralcore.layers</c> description.
    /// </summary>
    /// <exception cref="ArgumentException">A layer cannot be exported (the message names it).</exception>
    public static (Sequential Folded, string Layers) Fold(Sequential model, bool flattenInput)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Eval();
        var folded = new Sequential();
        var layers = new List<string>();
        if (flattenInput)
        {
            folded.Add(new Flatten());
            layers.Add("flatten");
        }
        using (Tape.NoGrad())
        {
            for (int i = 0; i < model.Count; i++)
            {
                Module layer = model[i];
                Module? next = i + 1 < model.Count ? model[i + 1] : null;
                Module? exported = layer switch
                {
                    Linear linear when next is BatchNorm1d bn => Skip(ref i, Folding.FoldBatchNorm(linear, bn)),
                    Linear linear when next is MeanOnlyBatchNorm1d mobn => Skip(ref i, Folding.FoldBatchNorm(linear, mobn)),
                    Conv2d conv when next is BatchNorm2d bn => Skip(ref i, Folding.FoldBatchNorm(conv, bn)),
                    Conv2d conv when next is MeanOnlyBatchNorm2d mobn => Skip(ref i, Folding.FoldBatchNorm(conv, mobn)),
                    Linear linear => Plain(linear),
                    Conv2d conv => Plain(conv),
                    Dropout or GaussianNoise or Identity => null,
                    LeakyReLU or ReLU or MaxPool2d or GlobalAvgPool2d => layer,
                    Flatten flatten when flatten.StartDim == 1 && flatten.EndDim == -1 => layer,
                    _ => throw new ArgumentException($"ModelExport: layer {i}, {layer}, cannot be exported; expected Linear, Conv2d, " +
                        "a batch norm after one of them, LeakyReLU, ReLU, MaxPool2d, GlobalAvgPool2d, Flatten(1, -1), Dropout or GaussianNoise."),
                };
                if (exported is not null)
                {
                    folded.Add(exported);
                    layers.Add(Describe(exported));
                }
            }
        }
        folded.Eval();
        return (folded, string.Join("; ", layers));
    }

    private static Module Skip(ref int index, Module foldedLayer)
    {
        index++; // the batch norm is part of the folded layer
        return foldedLayer;
    }

    // Weight norm removed (w = g·v/‖v‖ becomes the plain weight), and a bias always present so every exported layer has
    // the same two tensors.
    private static Linear Plain(Linear linear)
    {
        if (linear.IsWeightNormalized)
        {
            linear.RemoveWeightNorm();
        }
        return Linear.FromWeights(linear.Weight, linear.Bias ?? Tensor.Zeros(linear.OutFeatures));
    }

    private static Conv2d Plain(Conv2d conv)
    {
        if (conv.IsWeightNormalized)
        {
            conv.RemoveWeightNorm();
        }
        return Conv2d.FromWeights(conv.Weight, conv.Bias ?? Tensor.Zeros(conv.OutChannels), conv.Stride, conv.Padding, conv.Dilation);
    }

    private static string Describe(Module layer) => layer switch
    {
        Flatten => "flatten",
        Linear l => Invariant($"linear {l.InFeatures} {l.OutFeatures}"),
        Conv2d c => Invariant($"conv2d {c.InChannels} {c.OutChannels} {c.KernelSize} {c.Stride} {c.Padding} {c.Dilation}"),
        MaxPool2d p => Invariant($"maxpool2d {p.KernelSize} {p.Stride} {p.Padding}"),
        GlobalAvgPool2d => "global_avg_pool2d",
        ReLU => "relu",
        LeakyReLU r => Invariant($"leaky_relu {r.NegativeSlope:R}"),
        _ => throw new ArgumentException($"ModelExport: no description for {layer}."),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Join(IReadOnlyList<float> values)
    {
        var text = new StringBuilder();
        foreach (float value in values)
        {
            text.Append(text.Length == 0 ? "" : " ").Append(value.ToString("R", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
