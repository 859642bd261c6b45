using System.IO;
using System.Text.Json;
using System.Xml.Linq;
using NeuralCore.Benchmarks.Runner;
using NUnit.Framework;

namespace NeuralCore.Tests.Runner;

[TestFixture]
public sealed class CompareEndToEndTests
{
    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "neuralcore-compare-" + Guid.NewGuid().ToString("N"));
    }

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Test]
    public void QuickRunWritesTheTableTheJsonAndTheChart()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CompareCommand.Run(["--quick", "--out", _directory], output, error, new ProgressReporter(output, interactive: false));

        Assert.That(code, Is.EqualTo(0), error.ToString());
        string printed = output.ToString();
        Assert.That(printed, Does.Contain("plain          epoch 1/2").And.Contain("wn-mobn        epoch 2/2"));
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "compare.json", "compare.md", "compare.svg" }));

        string markdown = File.ReadAllText(Path.Combine(_directory, "compare.md"));
        Assert.That(printed, Does.Contain(markdown));
        string[] rows = markdown.Split('\n').Where(line => line.StartsWith("| ", StringComparison.Ordinal)).ToArray();
        Assert.That(rows, Has.Length.EqualTo(2 + 4)); // header, alignment, one row per variant

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_directory, "compare.json")));
        JsonElement root = json.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("dataset").GetString(), Is.EqualTo("fashion-mnist"));
            Assert.That(root.GetProperty("model").GetString(), Is.EqualTo("mlp"));
            Assert.That(root.GetProperty("epochs").GetInt32(), Is.EqualTo(2));
            Assert.That(root.GetProperty("seed").GetUInt64(), Is.EqualTo(1UL));
            Assert.That(root.GetProperty("train_examples").GetInt32(), Is.EqualTo(CompareOptions.QuickTrainExamples));
        });
        JsonElement[] variants = root.GetProperty("variants").EnumerateArray().ToArray();
        Assert.That(variants.Select(v => v.GetProperty("name").GetString()), Is.EqualTo(new[] { "plain", "wn", "bn", "wn-mobn" }));
        foreach (JsonElement variant in variants)
        {
            Assert.That(variant.GetProperty("train_loss_epoch1").GetDouble(), Is.GreaterThan(0));
            Assert.That(variant.GetProperty("train_loss_final").GetDouble(), Is.GreaterThan(0));
            Assert.That(variant.GetProperty("test_accuracy").GetDouble(), Is.InRange(0.0, 1.0));
            Assert.That(variant.GetProperty("seconds_per_epoch").GetDouble(), Is.GreaterThan(0));
            // 300 examples at batch 100: 3 iterations per epoch, 2 epochs.
            Assert.That(variant.GetProperty("loss_curve").GetArrayLength(), Is.EqualTo(6));
        }

        XDocument svg = XDocument.Parse(File.ReadAllText(Path.Combine(_directory, "compare.svg")));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.That(svg.Descendants(ns + "path").Select(p => (string?)p.Attribute("data-name")),
            Is.EqualTo(new[] { "plain", "wn", "bn", "wn-mobn" }));
    }

    [Test]
    public void TheSameSeedGivesTheSameLossCurves()
    {
        CompareOptions options = CompareOptions.Parse(["--quick", "--epochs", "1", "--variants", "wn", "--out", _directory]);
        using var sink = new StringWriter();
        CompareReport first = CompareCommand.Run(options, sink, new ProgressReporter(sink, interactive: false));
        CompareReport second = CompareCommand.Run(options, sink, new ProgressReporter(sink, interactive: false));
        Assert.That(second.ToJson().Split("\"loss_curve\"")[1], Is.EqualTo(first.ToJson().Split("\"loss_curve\"")[1]));
    }
}
