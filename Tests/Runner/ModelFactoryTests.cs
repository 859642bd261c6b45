using NeuralCore.Benchmarks.Runner;
using NeuralCore.Engine;
using NeuralCore.Layers;
using NeuralCore.Optimizers;
using NUnit.Framework;

namespace NeuralCore.Tests.Runner;

[TestFixture]
public sealed class ModelFactoryTests
{
    // A Linear or Conv2d: fan-in (in·k·k), output units, and whether a normalization may follow it (hidden) or not (output).
    private readonly record struct Layer(int FanIn, int Units, bool Hidden);

    private static readonly Layer[] s_mlp = [new(784, 500, true), new(500, 500, true), new(500, 10, false)];
    private static readonly Layer[] s_cnn = [new(1 * 9, 32, true), new(32 * 9, 64, true), new(64 * 7 * 7, 128, true), new(128, 10, false)];
    private static readonly Layer[] s_paperCifar =
    [
        new(3 * 9, 96, true), new(96 * 9, 96, true), new(96 * 9, 96, true),
        new(96 * 9, 192, true), new(192 * 9, 192, true), new(192 * 9, 192, true),
        new(192 * 9, 192, true), new(192, 192, true), new(192, 192, true),
        new(192, 10, false),
    ];

    private static IEnumerable<TestCaseData> SmallModels() =>
        from model in new[] { "mlp", "cnn" }
        from variant in Variant.All
        select new TestCaseData(model, variant.Name).SetName($"{model} {variant.Name}");

    // Weights, plus a bias where no normalization replaces it, one g per unit with weight norm, and the
    // normalization's own parameters (batch norm: scale and shift; mean-only: shift).
    private static long ExpectedParameters(Layer[] layers, Variant variant)
    {
        long count = 0;
        foreach (Layer layer in layers)
        {
            count += (long)layer.FanIn * layer.Units;
            count += !layer.Hidden || variant.HiddenBias ? layer.Units : 0;
            count += variant.WeightNorm ? layer.Units : 0;
            if (layer.Hidden)
            {
                count += variant.Normalization switch
                {
                    HiddenNormalization.BatchNorm => 2 * layer.Units,
                    HiddenNormalization.MeanOnlyBatchNorm => layer.Units,
                    _ => 0,
                };
            }
        }
        return count;
    }

    // Data-dependent init on `input`, then one Adam step: the loss must be finite and every parameter must move.
    private static void InitializeAndStep(Sequential model, Variant variant, Tensor input)
    {
        int[] labels = Enumerable.Range(0, input.Size(0)).Select(n => n % 10).ToArray();
        ModelFactory.Initialize(model, variant, input, seed: 3);
        Tensor[] parameters = model.Parameters().ToArray();
        float[][] before = parameters.Select(p => p.ToArray()).ToArray();

        var adam = new Adam(parameters, learningRate: 1e-3);
        adam.ZeroGrad();
        Tensor logits = model.Forward(input);
        Assert.That(logits.ShapeText, Is.EqualTo($"({input.Size(0)}, 10)"));
        Tensor loss = Losses.CrossEntropy(logits, labels);
        loss.Backward();
        adam.Step();

        Assert.That(float.IsFinite(loss.Item()), Is.True, "loss");
        for (int i = 0; i < parameters.Length; i++)
        {
            Assert.That(parameters[i].ToArray(), Is.Not.EqualTo(before[i]), $"parameter {i} {parameters[i].ShapeText} did not change");
        }
    }

    [TestCaseSource(nameof(SmallModels))]
    public void EveryModelAndVariantBuildsWithTheExpectedParametersAndTrains(string model, string variantName)
    {
        Variant variant = Variant.Find(variantName)!;
        Sequential network = ModelFactory.Build(model, variant, channels: 1, height: 28, width: 28, classes: 10, seed: 7);

        Assert.That(ModelFactory.ParameterCount(network), Is.EqualTo(ExpectedParameters(model == "mlp" ? s_mlp : s_cnn, variant)));
        var random = new RandomGenerator(11);
        Tensor input = model == "mlp" ? Tensor.RandomNormal(random, [16, 784]) : Tensor.RandomNormal(random, [8, 1, 28, 28]);
        InitializeAndStep(network, variant, input);
    }

    [TestCase("plain")]
    [TestCase("wn")]
    [TestCase("bn")]
    [TestCase("wn-mobn")]
    public void PaperCifarBuildsAndRunsOneStepOnRandomImages(string variantName)
    {
        Variant variant = Variant.Find(variantName)!;
        Sequential network = ModelFactory.Build("paper-cifar", variant, channels: 3, height: 32, width: 32, classes: 10, seed: 7);

        Assert.That(ModelFactory.ParameterCount(network), Is.EqualTo(ExpectedParameters(s_paperCifar, variant)));
        InitializeAndStep(network, variant, Tensor.RandomNormal(new RandomGenerator(5), [2, 3, 32, 32]));
    }

    [Test]
    public void PaperCifarHasTheExpectedParametersInEveryVariant()
    {
        foreach (Variant variant in Variant.All)
        {
            Sequential network = ModelFactory.Build("paper-cifar", variant, channels: 3, height: 32, width: 32, classes: 10, seed: 7);
            Assert.That(ModelFactory.ParameterCount(network), Is.EqualTo(ExpectedParameters(s_paperCifar, variant)), variant.Name);
        }
    }

    [Test]
    public void TheSameSeedGivesEveryVariantTheSameInitialDirections()
    {
        Tensor batch = Tensor.RandomNormal(new RandomGenerator(2), [64, 784]);
        float[][] Directions(Variant variant)
        {
            Sequential network = ModelFactory.Build("mlp", variant, 1, 28, 28, 10, seed: 9);
            ModelFactory.Initialize(network, variant, batch, seed: 9);
            // The direction of each row of w (plain) or v (weight norm): w/‖w‖ per output unit.
            return network.NamedModules().Select(m => m.Value).OfType<Linear>()
                .Select(layer => UnitRows(layer.IsWeightNormalized ? layer.WeightV! : layer.Weight)).ToArray();
        }

        float[][] plain = Directions(Variant.Plain);
        foreach (Variant other in new[] { Variant.WeightNormFused, Variant.BatchNorm, Variant.WeightNormMeanOnlyBatchNorm })
        {
            float[][] directions = Directions(other);
            for (int layer = 0; layer < plain.Length; layer++)
            {
                Assert.That(directions[layer], Is.EqualTo(plain[layer]).Within(1e-5f), $"{other.Name}, layer {layer}");
            }
        }
    }

    [Test]
    public void UnknownModelNamesAreRejected()
    {
        Assert.That(() => ModelFactory.Build("resnet", Variant.Plain, 1, 28, 28, 10, 1),
            Throws.ArgumentException.With.Message.Contains("unknown model 'resnet'"));
    }

    private static float[] UnitRows(Tensor weight)
    {
        float[] values = weight.ToArray();
        int columns = weight.Size(1);
        for (int row = 0; row < weight.Size(0); row++)
        {
            Span<float> r = values.AsSpan(row * columns, columns);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(r));
            System.Numerics.Tensors.TensorPrimitives.Divide(r, norm, r);
        }
        return values;
    }
}
