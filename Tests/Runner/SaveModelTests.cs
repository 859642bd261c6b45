using System.IO;
using System.Text.Json;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Benchmarks.Runner;
using NeuralCore.Samples.Classify;
using NUnit.Framework;

namespace NeuralCore.Tests.Runner;

// compare --save-model: which variant is saved, and that the saved file, loaded by the sample, classifies the test
// images as the runner measured.
[TestFixture]
public sealed class SaveModelTests : TemporaryDirectoryFixture
{
    [Test]
    public void SaveVariantDefaultsToWeightNormWhenTrainedElseTheFirst()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CompareOptions.Parse(["--save-model", "m"]).SaveVariant.Name, Is.EqualTo("wn"));
            Assert.That(CompareOptions.Parse(["--save-model", "m", "--variants", "bn,plain"]).SaveVariant.Name, Is.EqualTo("bn"));
            Assert.That(CompareOptions.Parse(["--save-model", "m", "--save-variant", "wn-mobn"]).SaveVariant.Name, Is.EqualTo("wn-mobn"));
            Assert.That(CompareOptions.Parse([]).SaveModelPath, Is.Null);
        });
    }

    [TestCase(new[] { "--save-model", "m", "--variants", "wn", "--save-variant", "bn" }, "'bn' is not one of the variants trained (wn)")]
    [TestCase(new[] { "--save-variant", "wn" }, "--save-variant needs --save-model FILE")]
    [TestCase(new[] { "--save-model", "" }, "--save-model: expected")]
    public void BadSaveOptionsAreUsageErrors(string[] args, string reason)
    {
        var error = Assert.Throws<CommandLineException>(() => CompareOptions.Parse(args));
        Assert.That(error!.Message, Does.Contain(reason));
    }

    [Test]
    public void QuickRunSavesAModelTheSampleLoadsWithTheRunnersAccuracy()
    {
        string modelPath = Path.Combine(TestDirectory, "model.safetensors");
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CompareCommand.Run(["--quick", "--variants", "plain,bn", "--save-variant", "bn", "--save-model", modelPath, "--out", TestDirectory],
            output, error, new ProgressReporter(output, interactive: false));
        Assert.That(code, Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain($"saved bn's model for inference to {modelPath}"));

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestDirectory, "compare.json")));
        double runnerAccuracy = json.RootElement.GetProperty("variants").EnumerateArray()
            .Single(v => v.GetProperty("name").GetString() == "bn").GetProperty("test_accuracy").GetDouble();

        // The quick run's test set: every 10th of the 1 000 shipped test images (CompareCommand.EvenlySpaced).
        string subset = Path.Combine(AppContext.BaseDirectory, FashionMnist.DefaultSubsetFolder);
        GreyImages all = ImageFiles.ReadImages(Path.Combine(subset, "t10k-images-idx3-ubyte.gz"));
        byte[] allLabels = ImageFiles.ReadLabels(Path.Combine(subset, "t10k-labels-idx1-ubyte.gz"));
        int[] picked = Enumerable.Range(0, CompareOptions.QuickTestExamples).Select(i => i * all.Count / CompareOptions.QuickTestExamples).ToArray();
        byte[] pixels = picked.SelectMany(i => all.Pixels.Skip(i * 784).Take(784)).ToArray();
        var images = new GreyImages(pixels, picked.Length, 28, 28);

        ClassifierModel model = ClassifierModel.Load(modelPath);
        Prediction[] predictions = model.Classify(images);
        double accuracy = picked.Where((image, n) => predictions[n].Label == allLabels[image]).Count() / (double)picked.Length;

        // The folded network computes the trained one's logits to float32 rounding; only an exact tie could flip a
        // prediction, so allow one image of 100.
        Assert.That(model.Layers, Does.StartWith("flatten; linear 784 500; leaky_relu 0.1"));
        Assert.That(model.Source, Does.Contain("--variants bn"));
        Assert.That(accuracy, Is.EqualTo(runnerAccuracy).Within(0.0101));
    }
}
