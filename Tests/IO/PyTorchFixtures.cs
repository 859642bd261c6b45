using System.IO;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.IO;

/// <summary>
/// The files Tests/Fixtures/pytorch_interop.py wrote with PyTorch (copied beside the test assembly), and the NeuralCore
/// models built the same way as the script's.
/// </summary>
internal static class PyTorchFixtures
{
    /// <summary>Every fixture model the script writes.</summary>
    public static readonly string[] Names = ["mlp_plain", "mlp_wn_legacy", "mlp_wn_param", "cnn_wn_legacy", "cnn_wn_param"];

    public static string Folder => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "pytorch");

    /// <summary>The state dict file of <paramref name="name"/>, under PyTorch's names.</summary>
    public static string StatePath(string name) => Path.Combine(Folder, name + ".safetensors");

    public static Tensor Input(string name) => SafeTensors.Load(Path.Combine(Folder, name + ".input.safetensors"))["input"];

    public static Tensor Output(string name) => SafeTensors.Load(Path.Combine(Folder, name + ".output.safetensors"))["output"];

    /// <summary>The script's model <paramref name="name"/>: the same layers in the same order, hence the same state-dict names.</summary>
    public static Module Build(string name, RandomGenerator? random = null)
    {
        random ??= new RandomGenerator(1);
        if (name.StartsWith("mlp", StringComparison.Ordinal))
        {
            // 12-16-8-3 with ReLU; weight norm (dim 0) on every Linear unless plain.
            bool normed = name != "mlp_plain";
            Linear Layer(int inF, int outF)
            {
                var linear = new Linear(inF, outF, random: random);
                return normed ? linear.WithWeightNorm() : linear;
            }
            return new Sequential(Layer(12, 16), new ReLU(), Layer(16, 8), new ReLU(), Layer(8, 3));
        }
        return new Sequential(
            new Conv2d(3, 4, 3, padding: 1, random: random).WithWeightNorm(), // 0: g (4, 1, 1, 1)
            new ReLU(),
            new MaxPool2d(2),
            new Conv2d(4, 6, 3, stride: 2, padding: 1, random: random),      // 3
            new BatchNorm2d(6),                                               // 4
            new ReLU(),
            new Flatten(),
            new Linear(24, 5, random: random));                               // 7
    }
}
