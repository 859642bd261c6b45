using System.IO;
using System.Text.RegularExpressions;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Samples.Classify;
using NUnit.Framework;

namespace NeuralCore.Tests.Samples;

// The sample's command line, run in-process (the NativeAOT binary is run by .ci/run).
[TestFixture]
public sealed class ClassifyProgramTests
{
    private static readonly string s_subset = Path.Combine(AppContext.BaseDirectory, FashionMnist.DefaultSubsetFolder);

    [Test]
    public void IdxWithLabelsPrintsClassesAccuracyAndTiming()
    {
        var options = Options.Parse([Path.Combine(s_subset, "t10k-images-idx3-ubyte.gz"), "--labels", Path.Combine(s_subset, "t10k-labels-idx1-ubyte.gz"), "--show", "3"]);
        using var output = new StringWriter();
        NeuralCore.Samples.Classify.Program.Run(options, output);
        string text = output.ToString();

        Match accuracy = Regex.Match(text, @"accuracy: (\d+)/1000 = ");
        Assert.That(accuracy.Success, Is.True, text);
        Assert.That(int.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(800));
        Assert.That(Regex.Matches(text, @"^ +\d+: .+%  \(label: ", RegexOptions.Multiline), Has.Count.EqualTo(3));
        Assert.That(text, Does.Contain("loaded in").And.Contain("µs/image").And.Contain("latency (batch 1)"));
    }

    [TestCase(new string[0], "no image file given")]
    [TestCase(new[] { "--frobnicate", "x" }, "unknown option '--frobnicate'")]
    [TestCase(new[] { "--batch", "0", "x" }, "--batch: '0'")]
    [TestCase(new[] { "--labels", "l", "a", "b" }, "2 files were given")]
    public void UsageErrorsNameTheProblem(string[] args, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => Options.Parse(args));
        Assert.That(error!.Message, Does.Contain(reason));
    }

    [Test]
    public void MissingImageFileIsExitCode1()
    {
        int code = NeuralCore.Samples.Classify.Program.Main([Path.Combine(Path.GetTempPath(), "no-such-file-" + Guid.NewGuid().ToString("N"))]);

        Assert.That(code, Is.EqualTo(1));
    }
}
