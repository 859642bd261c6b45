using System.IO;
using System.Text.Json;
using NeuralCore.Benchmarks.Runner;
using NUnit.Framework;

namespace NeuralCore.Tests.Runner;

/// <summary><c>compare --checkpoint DIR</c> and <c>--resume</c>: an interrupted and resumed run reports what an uninterrupted one does.</summary>
[TestFixture]
public sealed class CompareCheckpointTests
{
    // wn has weight norm and the data-dependent init; bn has buffers (running statistics).
    private static readonly string[] s_common = ["--quick", "--variants", "wn,bn", "--seed", "3"];
    private string _directory = "";

    [SetUp]
    public void CreateDirectory() => _directory = Path.Combine(Path.GetTempPath(), "neuralcore-resume-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteDirectory()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string Sub(string name) => Path.Combine(_directory, name);

    private static (int Code, string Output) Compare(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CompareCommand.Run([.. s_common, .. args], output, error, new ProgressReporter(output, interactive: false));
        return (code, output + error.ToString());
    }

    [Test]
    public void AKilledAndResumedRunReportsWhatAnUninterruptedRunDoes()
    {
        (int code, string printed) = Compare("--epochs", "3", "--out", Sub("straight"));
        Assert.That(code, Is.EqualTo(0), printed);

        // Killed right after epoch 1's checkpoint, then resumed.
        (code, printed) = Compare("--epochs", "3", "--out", Sub("resumed"), "--checkpoint", Sub("ckpt"), "--stop-after-epoch", "1");
        Assert.That(code, Is.EqualTo(0), printed);
        Assert.That(Directory.GetFiles(Sub("ckpt")).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "bn.checkpoint.safetensors", "wn.checkpoint.safetensors" }));
        (code, printed) = Compare("--epochs", "3", "--out", Sub("resumed"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(0), printed);
        Assert.That(printed, Does.Match(@"wn +resumed after epoch 1 from ").And.Match(@"bn +resumed after epoch 1 from "));
        Assert.That(printed, Does.Not.Contain("epoch 1/3"));

        AssertSameResults(Sub("resumed"), Sub("straight"));
    }

    [Test]
    public void ARunExtendedByMoreEpochsEqualsTheLongerRun()
    {
        // The MLP has no schedule, so 2 epochs then 1 more is the 3-epoch run (the data order depends on the epoch only).
        Assert.That(Compare("--epochs", "3", "--out", Sub("straight")).Code, Is.EqualTo(0));
        Assert.That(Compare("--epochs", "2", "--out", Sub("extended"), "--checkpoint", Sub("ckpt")).Code, Is.EqualTo(0));
        (int code, string printed) = Compare("--epochs", "3", "--out", Sub("extended"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(0), printed);

        AssertSameResults(Sub("extended"), Sub("straight"));

        // Resuming a finished run trains nothing and reports the same again.
        (code, printed) = Compare("--epochs", "3", "--out", Sub("again"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(0), printed);
        Assert.That(printed, Does.Contain("resumed after epoch 3").And.Not.Contain("epoch 3/3"));
        AssertSameResults(Sub("again"), Sub("straight"));
    }

    [Test]
    public void ACheckpointOfAnotherRunIsRefused()
    {
        Assert.That(Compare("--epochs", "1", "--out", Sub("a"), "--checkpoint", Sub("ckpt")).Code, Is.EqualTo(0));

        (int code, string printed) = Compare("--epochs", "2", "--lr", "0.002", "--out", Sub("b"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(printed, Does.Contain("--resume:").And.Contain("another run").And.Contain("lr=0.002"));

        (code, printed) = Compare("--epochs", "2", "--out", Sub("b"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(0), printed);
        (code, printed) = Compare("--epochs", "1", "--out", Sub("b"), "--checkpoint", Sub("ckpt"), "--resume");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(printed, Does.Contain("holds 2 epochs, more than --epochs 1"));
    }

    [Test]
    public void TheOptionsAreParsedAndDocumented()
    {
        CompareOptions options = CompareOptions.Parse(["--checkpoint", "dir", "--resume"]);
        Assert.That((options.CheckpointDirectory, options.Resume, options.StopAfterEpoch), Is.EqualTo(("dir", true, (int?)null)));
        Assert.That(() => CompareOptions.Parse(["--resume"]), Throws.InstanceOf<CommandLineException>().With.Message.Contains("--checkpoint DIR"));
        Assert.That(() => CompareOptions.Parse(["--checkpoint"]), Throws.InstanceOf<CommandLineException>());
        Assert.That(CompareOptions.HelpText, Does.Contain("--checkpoint DIR").And.Contain("--resume"));
        Assert.That(CompareOptions.HelpText, Does.Not.Contain("--stop-after-epoch")); // internal, for tests
    }

    // Everything in compare.json but the timings (which a resumed run measured in two sittings).
    private static void AssertSameResults(string actualDirectory, string expectedDirectory)
    {
        using JsonDocument actual = JsonDocument.Parse(File.ReadAllText(Path.Combine(actualDirectory, "compare.json")));
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(expectedDirectory, "compare.json")));
        string[] timings = ["seconds_per_epoch", "time_ratio"];
        JsonElement[] actualVariants = [.. actual.RootElement.GetProperty("variants").EnumerateArray()];
        JsonElement[] expectedVariants = [.. expected.RootElement.GetProperty("variants").EnumerateArray()];
        Assert.That(actualVariants, Has.Length.EqualTo(expectedVariants.Length));
        for (int v = 0; v < expectedVariants.Length; v++)
        {
            var expectedFields = expectedVariants[v].EnumerateObject().Where(p => !timings.Contains(p.Name)).Select(p => (p.Name, p.Value.GetRawText())).ToArray();
            var actualFields = actualVariants[v].EnumerateObject().Where(p => !timings.Contains(p.Name)).Select(p => (p.Name, p.Value.GetRawText())).ToArray();
            Assert.That(actualFields, Is.EqualTo(expectedFields));
            Assert.That(expectedVariants[v].GetProperty("loss_curve").GetArrayLength(), Is.EqualTo(9)); // 3 epochs × 3 batches: all restored
        }
        Assert.That(actual.RootElement.GetProperty("target_loss").GetRawText(), Is.EqualTo(expected.RootElement.GetProperty("target_loss").GetRawText()));
    }
}
