using System.IO;
using System.Text.Json;
using NeuralCore.Benchmarks.Speed;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Speed;

// Checks the speed command's plumbing (options, JSON, comparison), never its timings: speed is measured, not asserted.
[TestFixture]
[NonParallelizable] // A run sets Gemm.MaxThreads, which is global (and puts it back).
public sealed class SpeedCommandTests
{
    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "neuralcore-speed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = SpeedCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [TestCase("--bogus")]
    [TestCase("--threads", "0")]
    [TestCase("--threads", "two")]
    [TestCase("--seconds", "-1")]
    [TestCase("--seconds", "NaN")]
    [TestCase("--json")]
    [TestCase("--compare", "/nonexistent/peer.json")]
    [TestCase("--filter", "no such case")]
    public void UsageErrorsExitWithTwoAndSayWhy(params string[] args)
    {
        (int code, string output, string error) = Run(args);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.StartWith("speed: "));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void HelpListsEveryOption()
    {
        (int code, string output, _) = Run("--help");

        Assert.That(code, Is.Zero);
        foreach (string option in new[] { "--threads", "--seconds", "--filter", "--json", "--compare", "--from" })
        {
            Assert.That(output, Does.Contain(option));
        }
    }

    [Test]
    public void TinyRunWritesJsonInTheSchemaAndRestoresTheThreadCount()
    {
        string path = Path.Combine(_directory, "nc.json");
        int threadsBefore = Gemm.MaxThreads;

        (int code, string output, string error) = Run("--filter", "gemm 64x", "--seconds", "0.005", "--threads", "1", "--json", path);

        Assert.That(code, Is.Zero, error);
        Assert.That(Gemm.MaxThreads, Is.EqualTo(threadsBefore));
        Assert.That(output, Does.Contain("FMA peak").And.Contain("gemm 64x64x64 NN"));
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement root = document.RootElement;
        Assert.That(root.GetProperty("tool").GetString(), Is.EqualTo("neuralcore"));
        Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(1));
        Assert.That(root.GetProperty("fma_peak_gflops").GetDouble(), Is.GreaterThan(0));
        JsonElement[] cases = [.. root.GetProperty("cases").EnumerateArray()];
        Assert.That(cases, Has.Length.EqualTo(1));
        JsonElement gemm = cases[0];
        Assert.That(gemm.GetProperty("kind").GetString(), Is.EqualTo("gemm"));
        Assert.That(gemm.GetProperty("name").GetString(), Is.EqualTo("gemm 64x64x64 NN"));
        Assert.That(new[] { "m", "n", "k" }.Select(f => gemm.GetProperty(f).GetInt32()), Is.All.EqualTo(64));
        double median = gemm.GetProperty("median_ms").GetDouble();
        Assert.That(gemm.GetProperty("min_ms").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(median));
        Assert.That(gemm.GetProperty("max_ms").GetDouble(), Is.GreaterThanOrEqualTo(median));
        Assert.That(gemm.GetProperty("gflops").GetDouble(), Is.EqualTo(2.0 * 64 * 64 * 64 / (median * 1e-3) / 1e9).Within(1).Percent);
    }

    [TestCase("mlp-step wn-mobn")]
    [TestCase("cnn-step wn")]
    [TestCase("mlp-infer b1 wn")]
    public void NetworkCaseRunsAndWritesItsFields(string name)
    {
        // Batch 2 instead of 100 keeps the CNN step to milliseconds; the names and fields are those of the real cases.
        SpeedCase speedCase = StepCases.All(batch: 2).Single(c => c.Name == name);

        SpeedCaseResult result = speedCase.Run(0.001);
        var run = new SpeedRun("neuralcore", 1, null, [result]) { PeakWorkingSetMb = 12.5 };

        using JsonDocument document = JsonDocument.Parse(run.ToJson());
        Assert.That(document.RootElement.GetProperty("peak_working_set_mb").GetDouble(), Is.EqualTo(12.5));
        JsonElement item = document.RootElement.GetProperty("cases")[0];
        Assert.That(item.GetProperty("kind").GetString(), Is.EqualTo(name.Split(' ')[0]));
        Assert.That(item.GetProperty("variant").GetString(), Is.EqualTo(name.Split(' ')[^1]));
        Assert.That(item.GetProperty("batch").GetInt32(), Is.EqualTo(name.Contains("b1", StringComparison.Ordinal) ? 1 : 2));
        double median = item.GetProperty("median_ms").GetDouble();
        Assert.That(item.GetProperty("min_ms").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(median));
        Assert.That(item.GetProperty("max_ms").GetDouble(), Is.GreaterThanOrEqualTo(median));
        Assert.That(item.GetProperty("gflops").GetDouble(), Is.GreaterThan(0));
        Assert.That(item.GetProperty("alloc_bytes").GetInt64(), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void RatiosToPlainDivideByThePlainCaseOfTheSameKindAndBatch()
    {
        SpeedCaseResult Result(string kind, string name, double ms) => new(kind, name, [], ms, ms, ms, null, null);
        using var output = new StringWriter();

        SpeedReport.RatiosToPlain(output, [Result("mlp-step", "mlp-step plain", 10), Result("mlp-step", "mlp-step wn", 12),
            Result("mlp-infer", "mlp-infer b1 plain", 2), Result("mlp-infer", "mlp-infer b1 wn", 1)]);

        string[] lines = output.ToString().Split('\n');
        Assert.That(lines.Single(l => l.StartsWith("mlp-step wn", StringComparison.Ordinal)), Does.Contain(" 1.20 "));
        Assert.That(lines.Single(l => l.StartsWith("mlp-infer b1 wn", StringComparison.Ordinal)), Does.Contain(" 0.50 "));
    }

    [Test]
    public void CompareMatchesCasesByNameAndPrintsRatios()
    {
        string ours = Path.Combine(_directory, "nc.json"), peer = Path.Combine(_directory, "pt.json");
        File.WriteAllText(ours, """
            {"tool": "neuralcore", "threads": 2, "fma_peak_gflops": 205.0, "cases": [
              {"kind": "gemm", "name": "gemm 1024x1024x1024 NN", "m": 1024, "n": 1024, "k": 1024,
               "median_ms": 10.0, "min_ms": 9.0, "max_ms": 11.0, "gflops": 214.7},
              {"kind": "conv2d", "name": "conv only ours", "median_ms": 5.0, "min_ms": 5.0, "max_ms": 5.0}]}
            """);
        File.WriteAllText(peer, """
            {"tool": "pytorch", "threads": 2, "cases": [
              {"kind": "conv2d", "name": "conv only theirs", "median_ms": 7.0, "min_ms": 7.0, "max_ms": 7.0},
              {"kind": "gemm", "name": "gemm 1024x1024x1024 NN", "median_ms": 12.5, "min_ms": 12.0, "max_ms": 13.0, "gflops": 171.8}]}
            """);

        (int code, string output, string error) = Run("--from", ours, "--compare", peer);

        Assert.That(code, Is.Zero, error);
        string[] lines = output.Split('\n');
        string gemm = lines.Single(l => l.StartsWith("gemm 1024x1024x1024 NN", StringComparison.Ordinal));
        // time ratio ours/theirs = 10 / 12.5; GFLOP/s ratio = 12.5 / 10
        Assert.That(gemm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3..], Is.EqualTo(new[] { "10.0", "12.5", "0.80", "214.7", "171.8", "1.25" }));
        Assert.That(lines.Any(l => l.StartsWith("conv only ours", StringComparison.Ordinal)), Is.True);
        Assert.That(lines.Any(l => l.StartsWith("conv only theirs", StringComparison.Ordinal)), Is.True);
        Assert.That(output, Does.Contain("neuralcore (2 threads) vs pytorch (2 threads)"));
    }

    [Test]
    public void MalformedCompareFileExitsWithOne()
    {
        string ours = Path.Combine(_directory, "nc.json"), peer = Path.Combine(_directory, "bad.json");
        File.WriteAllText(ours, """{"tool": "neuralcore", "threads": 1, "cases": []}""");
        File.WriteAllText(peer, """{"tool": "pytorch", "cases": [}""");

        (int code, _, string error) = Run("--from", ours, "--compare", peer);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("bad.json"));
    }
}
