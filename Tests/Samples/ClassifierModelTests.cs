using System.IO;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Benchmarks.Runner;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;
using NeuralCore.Samples.Classify;
using NUnit.Framework;

namespace NeuralCore.Tests.Samples;

// The sample's model loading (samples/Classify/ClassifierModel.cs): the committed model classifies the shipped test
// set; a model exported by the runner computes what the trained network computed; a malformed file is rejected.
[TestFixture]
public sealed class ClassifierModelTests
{
    private static readonly string s_committedModel = Path.Combine(AppContext.BaseDirectory, NeuralCore.Samples.Classify.Program.DefaultModel);
    private static readonly string s_subset = Path.Combine(AppContext.BaseDirectory, FashionMnist.DefaultSubsetFolder);

    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "neuralcore-classify-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void CommittedModelClassifiesTheShippedTestImages()
    {
        ClassifierModel model = ClassifierModel.Load(s_committedModel);
        GreyImages images = ImageFiles.ReadImages(Path.Combine(s_subset, "t10k-images-idx3-ubyte.gz"));
        byte[] labels = ImageFiles.ReadLabels(Path.Combine(s_subset, "t10k-labels-idx1-ubyte.gz"));

        Prediction[] predictions = model.Classify(images);
        double accuracy = predictions.Where((p, i) => p.Label == labels[i]).Count() / (double)labels.Length;

        // Measured 86.2% when the model was trained (Benchmarks/results/embed-2026-11-26.md). With 1 000 images the
        // standard error is about 1.1 points, so 80% is far below any honest rerun yet far above chance (10%).
        Assert.That(model.ClassNames, Is.EqualTo(FashionMnist.ClassNames));
        Assert.That(model.InputShape, Is.EqualTo((1, 28, 28)));
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.80));
        Assert.That(predictions.Select(p => p.Probability), Is.All.InRange(0.1f, 1f)); // the top class of 10 has at least 1/10
    }

    private static IEnumerable<TestCaseData> ExportedVariants() =>
        from model in new[] { "mlp", "cnn" }
        from variant in new[] { "plain", "wn", "bn", "wn-mobn" }
        select new TestCaseData(model, variant).SetName($"Exported {model} {variant} computes the trained network's logits");

    [TestCaseSource(nameof(ExportedVariants))]
    public void ExportedModelComputesTheTrainedNetworksLogits(string modelName, string variantName)
    {
        Variant variant = Variant.Find(variantName)!;
        var random = new RandomGenerator(7);
        Sequential model = ModelFactory.Build(modelName, variant, 1, 28, 28, 10, seed: 5);
        const float Mean = 70f, Std = 90f;
        GreyImages images = RandomImages(random, 6);
        Tensor input = Normalized(images, Mean, Std, flatten: modelName == "mlp");
        ModelFactory.Initialize(model, variant, input, seed: 5);
        Perturb(model, random, input);
        model.Eval();
        float[] expected;
        using (Tape.NoGrad())
        {
            expected = model.Forward(input).ToArray(); // (6, 10)
        }

        string path = Path.Combine(_directory, "m.safetensors");
        ModelExport.Save(path, model, flattenInput: modelName == "mlp", (1, 28, 28), [Mean], [Std], FashionMnist.ClassNames, "a test");
        ClassifierModel loaded = ClassifierModel.Load(path);
        float[] actual = loaded.Logits(images, 0, images.Count).ToArray();

        // Folding rescales each weight row once (w = s·v, one float rounding each) and the sample normalizes with
        // x/std − mean/std instead of (x − mean)/std: a few float32 ulps per term, over sums of ≤ 3 136 terms of size ~1.
        Assert.That(loaded.Layers, Does.Not.Contain("norm"));
        Assert.That(actual, Is.EqualTo(expected).Within(2e-4f * expected.Max(Math.Abs)));
    }

    // Moves every parameter and the batch-norm running statistics off their initial values, so that folding has
    // something to fold (γ ≠ 1, β ≠ 0, running mean and variance from real batches).
    private static void Perturb(Sequential model, RandomGenerator random, Tensor input)
    {
        using (Tape.NoGrad())
        {
            foreach (Tensor parameter in model.Parameters())
            {
                Span<float> values = parameter.AsSpan();
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (values[i] * (1f + (0.2f * (random.NextFloat() - 0.5f)))) + (0.05f * (random.NextFloat() - 0.5f));
                }
            }
            model.Train();
            for (int step = 0; step < 3; step++)
            {
                model.Forward(input); // updates the running statistics
            }
        }
    }

    private static GreyImages RandomImages(RandomGenerator random, int count)
    {
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)random.NextInt(256);
        }
        return new GreyImages(pixels, count, 28, 28);
    }

    private static Tensor Normalized(GreyImages images, float mean, float std, bool flatten)
    {
        float[] values = images.Pixels.Select(p => (p - mean) / std).ToArray();
        return flatten ? Tensor.Wrap(values, images.Count, 28 * 28) : Tensor.Wrap(values, images.Count, 1, 28, 28);
    }

    // A valid tiny classifier: 2 × 2 grey images, flatten, Linear(4 → 3), three classes.
    private static Dictionary<string, string> TinyMetadata() => new()
    {
        ["neuralcore.format"] = ClassifierModel.FormatVersion,
        ["neuralcore.layers"] = "flatten; linear 4 3",
        ["neuralcore.input"] = "1 2 2",
        ["neuralcore.input_mean"] = "0",
        ["neuralcore.input_std"] = "255",
        ["neuralcore.classes"] = "a|b|c",
    };

    private static Dictionary<string, Tensor> TinyTensors() => new()
    {
        ["1.weight"] = Tensor.Wrap([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 3, 4),
        ["1.bias"] = Tensor.Zeros(3),
    };

    [Test]
    public void TinyValidModelClassifiesByItsWeights()
    {
        string path = Path.Combine(_directory, "tiny.safetensors");
        SafeTensors.Save(path, TinyTensors(), TinyMetadata());
        ClassifierModel model = ClassifierModel.Load(path);

        // Class k's score is pixel k / 255: the brightest of the first three pixels wins.
        Prediction[] predictions = model.Classify(new GreyImages([9, 200, 3, 0, 250, 1, 2, 0], 2, 2, 2));

        Assert.That(predictions.Select(p => p.Label), Is.EqualTo(new[] { 1, 0 }));
    }

    [TestCase("neuralcore.format", "something-else/2", "neuralcore.format is 'something-else/2'")]
    [TestCase("neuralcore.format", null, "no 'neuralcore.format'")]
    [TestCase("neuralcore.layers", "flatten; dense 4 3", "layer 1 'dense 4 3': unknown layer")]
    [TestCase("neuralcore.layers", "flatten; linear 4 5", "the tensor '1.weight' is (3, 4); expected (5, 4)")]
    [TestCase("neuralcore.layers", "linear 4 3", "its input is (1, 2, 2); expected (4)")]
    [TestCase("neuralcore.layers", "flatten; linear 4 3 7", "3 arguments; expected 2")]
    [TestCase("neuralcore.layers", "flatten; linear 4 99999999999", "out is '99999999999'")]
    [TestCase("neuralcore.layers", "flatten; relu; linear 4 3", "the file has no tensor '2.weight'")]
    [TestCase("neuralcore.layers", "flatten", "the tensor '1.bias' belongs to no layer")]
    [TestCase("neuralcore.layers", "conv2d 1 3 5 1 0 1", "smaller than the kernel")]
    [TestCase("neuralcore.layers", "flatten; linear 4 3; leaky_relu NaN", "slope is 'NaN'")]
    [TestCase("neuralcore.input", "1 2", "neuralcore.input has 2 numbers")]
    [TestCase("neuralcore.input", "1 2 -2", "'-2' is not a valid value")]
    [TestCase("neuralcore.input_std", "0", "neuralcore.input_std: '0' is not a valid value")]
    [TestCase("neuralcore.input_mean", "0 0", "2 means and 1 standard deviations for 1 input channels")]
    [TestCase("neuralcore.classes", "a|b", "3 outputs and neuralcore.classes 2 names")]
    [TestCase("neuralcore.classes", "a||c", "some empty")]
    public void MalformedModelIsRejectedWithTheReason(string key, string? value, string reason)
    {
        Dictionary<string, string> metadata = TinyMetadata();
        if (value is null)
        {
            metadata.Remove(key);
        }
        else
        {
            metadata[key] = value;
        }
        string path = Path.Combine(_directory, "bad.safetensors");
        SafeTensors.Save(path, TinyTensors(), metadata);

        var error = Assert.Throws<InvalidDataException>(() => ClassifierModel.Load(path));
        Assert.That(error!.Message, Does.StartWith("bad.safetensors: ").And.Contain(reason));
    }

    [Test]
    public void ImagesOfAnotherSizeAreAnArgumentError()
    {
        ClassifierModel model = ClassifierModel.Load(s_committedModel);

        var error = Assert.Throws<ArgumentException>(() => model.Classify(new GreyImages(new byte[32 * 32], 1, 32, 32)));
        Assert.That(error!.Message, Does.Contain("32 × 32").And.Contain("28 × 28"));
    }
}
