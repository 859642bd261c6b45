using System.Globalization;
using System.IO;
using System.Linq;
using NeuralCore.Engine;
using NeuralCore.Layers;

namespace NeuralCore.Samples.Classify;

/// <summary>
/// Rebuilds a network from the <c>neuralcore.layers</c> description that <c>compare --save-model</c> writes, e.g.
/// <c>flatten; linear 784 500; leaky_relu 0.1; linear 500 10</c>, with layer i's weights taken from the file's
/// tensors <c>i.weight</c> and <c>i.bias</c>.
/// </summary>
/// <remarks>
/// The description comes from an untrusted file, so it is checked in full before any layer is made: every layer is
/// known and its numbers are in range, each layer's input fits the previous one's output (the shapes are followed
/// from the input image to the logits), every weight tensor has exactly the shape its layer needs, and no tensor is
/// left over. Layers are then built from the tensors already read, so a description cannot make the program allocate
/// more than the file holds.
/// </remarks>
internal static class ModelArchitecture
{
    private const int MaxLayers = 256;
    private const int MaxFeatures = 1 << 20;
    private const int MaxKernel = 64;

    // The shape between two layers: an image (C, H, W), or a vector of Features after flatten / global pooling.
    private readonly record struct Shape(int Channels, int Height, int Width, int Features)
    {
        public bool IsImage => Features == 0;

        public override string ToString() => IsImage
            ? string.Create(CultureInfo.InvariantCulture, $"({Channels}, {Height}, {Width})")
            : string.Create(CultureInfo.InvariantCulture, $"({Features})");
    }

    /// <summary>Builds the network; returns it (evaluation mode) and the number of outputs.</summary>
    /// <exception cref="InvalidDataException">The description or the tensors are invalid; the message names the layer.</exception>
    public static (Sequential Network, int Outputs) Build(string description, (int Channels, int Height, int Width) input,
        IReadOnlyDictionary<string, Tensor> tensors, string file)
    {
        string[] layers = description.Split(';', StringSplitOptions.TrimEntries);
        if (layers.Length > MaxLayers)
        {
            throw ModelError(file, $"neuralcore.layers has {layers.Length} layers; at most {MaxLayers} are accepted");
        }
        var shape = new Shape(input.Channels, input.Height, input.Width, 0);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var build = new List<Func<Module>>(layers.Length); // made only once everything is checked
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = new LayerText(layers[i], i, file);
            switch (layer.Kind)
            {
                case "flatten":
                    layer.Arguments(0);
                    shape = shape.IsImage ? new Shape(0, 0, 0, Features((long)shape.Channels * shape.Height * shape.Width, layer)) : shape;
                    build.Add(() => new Flatten());
                    break;
                case "relu":
                    layer.Arguments(0);
                    build.Add(() => new ReLU());
                    break;
                case "leaky_relu":
                    layer.Arguments(1);
                    float slope = layer.Float(0, "slope");
                    build.Add(() => new LeakyReLU(slope));
                    break;
                case "linear":
                {
                    layer.Arguments(2);
                    int inFeatures = layer.Int(0, "in", 1, MaxFeatures), outFeatures = layer.Int(1, "out", 1, MaxFeatures);
                    layer.Require(!shape.IsImage && shape.Features == inFeatures, $"its input is {shape}; expected ({inFeatures}) (flatten images first)");
                    Tensor weight = Weights(tensors, used, i, "weight", [outFeatures, inFeatures], layer);
                    Tensor bias = Weights(tensors, used, i, "bias", [outFeatures], layer);
                    shape = new Shape(0, 0, 0, outFeatures);
                    build.Add(() => Linear.FromWeights(weight, bias));
                    break;
                }
                case "conv2d":
                {
                    layer.Arguments(6);
                    int inChannels = layer.Int(0, "in", 1, MaxFeatures), outChannels = layer.Int(1, "out", 1, MaxFeatures);
                    int kernel = layer.Int(2, "kernel", 1, MaxKernel), stride = layer.Int(3, "stride", 1, MaxKernel);
                    int padding = layer.Int(4, "padding", 0, MaxKernel), dilation = layer.Int(5, "dilation", 1, MaxKernel);
                    layer.Require(shape.IsImage && shape.Channels == inChannels, $"its input is {shape}; expected ({inChannels}, H, W)");
                    int height = OutputSide(shape.Height, kernel, stride, padding, dilation);
                    int width = OutputSide(shape.Width, kernel, stride, padding, dilation);
                    layer.Require(height >= 1 && width >= 1, $"its input {shape} is smaller than the kernel");
                    Tensor weight = Weights(tensors, used, i, "weight", [outChannels, inChannels, kernel, kernel], layer);
                    Tensor bias = Weights(tensors, used, i, "bias", [outChannels], layer);
                    shape = new Shape(outChannels, height, width, 0);
                    build.Add(() => Conv2d.FromWeights(weight, bias, stride, padding, dilation));
                    break;
                }
                case "maxpool2d":
                {
                    layer.Arguments(3);
                    int kernel = layer.Int(0, "kernel", 1, MaxKernel), stride = layer.Int(1, "stride", 1, MaxKernel);
                    int padding = layer.Int(2, "padding", 0, kernel / 2);
                    layer.Require(shape.IsImage, $"its input is {shape}; expected an image (C, H, W)");
                    int height = OutputSide(shape.Height, kernel, stride, padding, 1), width = OutputSide(shape.Width, kernel, stride, padding, 1);
                    layer.Require(height >= 1 && width >= 1, $"its input {shape} is smaller than the window");
                    shape = shape with { Height = height, Width = width };
                    build.Add(() => new MaxPool2d(kernel, stride, padding));
                    break;
                }
                case "global_avg_pool2d":
                    layer.Arguments(0);
                    layer.Require(shape.IsImage, $"its input is {shape}; expected an image (C, H, W)");
                    shape = new Shape(0, 0, 0, shape.Channels);
                    build.Add(() => new GlobalAvgPool2d());
                    break;
                default:
                    throw layer.Error("unknown layer; expected flatten, linear, conv2d, maxpool2d, global_avg_pool2d, relu or leaky_relu");
            }
        }
        if (shape.IsImage)
        {
            throw ModelError(file, $"the network ends with an image {shape}; expected a vector of class scores");
        }
        foreach (string name in tensors.Keys)
        {
            if (!used.Contains(name))
            {
                throw ModelError(file, $"the tensor '{name}' belongs to no layer of neuralcore.layers");
            }
        }

        var network = new Sequential();
        foreach (Func<Module> make in build)
        {
            network.Add(make());
        }
        network.Eval();
        return (network, shape.Features);
    }

    private static int OutputSide(int size, int kernel, int stride, int padding, int dilation) =>
        (int)((((long)size + (2L * padding) - ((long)dilation * (kernel - 1)) - 1) / stride) + 1);

    private static int Features(long count, LayerText layer) =>
        count <= MaxFeatures ? (int)count : throw layer.Error($"it makes {count} features; at most {MaxFeatures} are accepted");

    private static Tensor Weights(IReadOnlyDictionary<string, Tensor> tensors, HashSet<string> used, int index, string kind, int[] shape, LayerText layer)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{index}.{kind}");
        if (!tensors.TryGetValue(name, out Tensor? tensor))
        {
            throw layer.Error($"the file has no tensor '{name}'");
        }
        if (!tensor.Shape.SequenceEqual(shape))
        {
            throw layer.Error($"the tensor '{name}' is {tensor.ShapeText}; expected ({string.Join(", ", shape)})");
        }
        used.Add(name);
        return tensor;
    }

    internal static InvalidDataException ModelError(string file, string problem) => new($"{file}: {problem}.");

    // One layer's text, "kind arg arg ...", with checked access to its arguments.
    private sealed class LayerText
    {
        private readonly string _text;
        private readonly string[] _arguments;
        private readonly int _index;
        private readonly string _file;

        public LayerText(string text, int index, string file)
        {
            _text = text;
            _index = index;
            _file = file;
            string[] words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Kind = words.Length > 0 ? words[0] : "";
            _arguments = words.Length > 0 ? words[1..] : [];
        }

        public string Kind { get; }

        public void Arguments(int count)
        {
            if (_arguments.Length != count)
            {
                throw Error($"{_arguments.Length} arguments; expected {count}");
            }
        }

        public int Int(int position, string what, int minimum, int maximum) =>
            int.TryParse(_arguments[position], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum && value <= maximum
                ? value
                : throw Error($"{what} is '{_arguments[position]}'; expected a whole number from {minimum} to {maximum}");

        public float Float(int position, string what) =>
            float.TryParse(_arguments[position], NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
                ? value
                : throw Error($"{what} is '{_arguments[position]}'; expected a finite number");

        public void Require(bool condition, string problem)
        {
            if (!condition)
            {
                throw Error(problem);
            }
        }

        public InvalidDataException Error(string problem) =>
            ModelError(_file, string.Create(CultureInfo.InvariantCulture, $"neuralcore.layers, layer {_index} '{Truncate(_text)}': {problem}"));

        private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";
    }
}
