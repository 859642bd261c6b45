using System.IO;
using NeuralCore.Benchmarks.Runner;
using NUnit.Framework;

namespace NeuralCore.Tests.Runner;

[TestFixture]
public sealed class CompareOptionsTests
{
    private static (int Code, string Output, string Error) RunCompare(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = CompareCommand.Run(args, output, error, new ProgressReporter(output, interactive: false));
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void NoArgumentsGiveTheDefaultRun()
    {
        CompareOptions options = CompareOptions.Parse([]);
        Assert.Multiple(() =>
        {
            Assert.That(options.Dataset, Is.EqualTo("fashion-mnist"));
            Assert.That(options.DataDirectory, Is.Null);
            Assert.That(options.Model, Is.EqualTo("mlp"));
            Assert.That(options.Variants.Select(v => v.Name), Is.EqualTo(new[] { "plain", "wn", "bn", "wn-mobn" }));
            Assert.That(options.Epochs, Is.EqualTo(CompareOptions.DefaultMlpEpochs));
            Assert.That(options.BatchSize, Is.EqualTo(100));
            Assert.That(options.Optimizer, Is.EqualTo("adam"));
            Assert.That(options.LearningRate, Is.EqualTo(0.001));
            Assert.That(options.OutputDirectory, Is.EqualTo("results"));
            Assert.That(options.Threads, Is.Null);
            Assert.That(options.Quick, Is.False);
        });
    }

    [Test]
    public void EveryOptionIsParsedInBothSpellings()
    {
        CompareOptions options = CompareOptions.Parse(
        [
            "--data", "/tmp/cifar", "--dataset=cifar10", "--model", "cnn", "--variants", "wn-unfused, plain-default",
            "--epochs", "3", "--batch=32", "--lr", "2e-3", "--optimizer", "sgd", "--seed", "42", "--threads", "2",
            "--out", "/tmp/out", "--target-loss", "0.5", "--zca", "--quick",
        ]);
        Assert.Multiple(() =>
        {
            Assert.That(options.DataDirectory, Is.EqualTo("/tmp/cifar"));
            Assert.That(options.Dataset, Is.EqualTo("cifar10"));
            Assert.That(options.Model, Is.EqualTo("cnn"));
            Assert.That(options.Variants, Is.EqualTo(new[] { Variant.WeightNormUnfused, Variant.PlainDefault }));
            Assert.That(options.Epochs, Is.EqualTo(3));
            Assert.That(options.BatchSize, Is.EqualTo(32));
            Assert.That(options.LearningRate, Is.EqualTo(2e-3));
            Assert.That(options.Optimizer, Is.EqualTo("sgd"));
            Assert.That(options.Seed, Is.EqualTo(42UL));
            Assert.That(options.Threads, Is.EqualTo(2));
            Assert.That(options.OutputDirectory, Is.EqualTo("/tmp/out"));
            Assert.That(options.TargetLoss, Is.EqualTo(0.5));
            Assert.That(options.Zca, Is.True);
            Assert.That(options.Quick, Is.True);
        });
    }

    [Test]
    public void DefaultsFollowTheModelAndOptimizer()
    {
        CompareOptions paper = CompareOptions.Parse(["--model", "paper-cifar", "--data", "x"]);
        Assert.That((paper.Dataset, paper.Epochs), Is.EqualTo(("cifar10", 200)));
        Assert.That(CompareOptions.Parse(["--optimizer", "sgd"]).LearningRate, Is.EqualTo(0.01));
        Assert.That(CompareOptions.Parse(["--quick"]).Epochs, Is.EqualTo(2));
    }

    [TestCase("--frobnicate", "unknown option '--frobnicate'")]
    [TestCase("stray", "unexpected argument 'stray'")]
    [TestCase("--epochs 0", "--epochs: '0' is not a whole number")]
    [TestCase("--epochs ten", "--epochs: 'ten' is not a whole number")]
    [TestCase("--batch -5", "--batch: '-5' is not a whole number")]
    [TestCase("--lr nan", "--lr: 'nan' is not a positive number")]
    [TestCase("--seed -1", "--seed: '-1'")]
    [TestCase("--dataset imagenet", "--dataset: 'imagenet' is not one of fashion-mnist, mnist, cifar10")]
    [TestCase("--model resnet", "--model: 'resnet' is not one of")]
    [TestCase("--optimizer lbfgs", "--optimizer: 'lbfgs' is not one of adam, sgd")]
    [TestCase("--variants plain,foo", "--variants: unknown variant 'foo'")]
    [TestCase("--variants wn,wn", "'wn' is listed twice")]
    [TestCase("--epochs", "--epochs needs a value")]
    [TestCase("--quick=yes", "--quick takes no value")]
    [TestCase("--dataset mnist", "needs --data DIR")]
    [TestCase("--zca", "--zca applies to cifar10 only")]
    public void BadCommandLinesExitWithCode2AndAMessage(string commandLine, string message)
    {
        (int code, string output, string error) = RunCompare(commandLine.Split(' '));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2));
            Assert.That(error, Does.StartWith("compare: ").And.Contain(message));
            Assert.That(output, Is.Empty);
        });
    }

    [Test]
    public void HelpListsEveryOptionAndVariant()
    {
        (int code, string output, string error) = RunCompare("--help");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(error, Is.Empty);
        foreach (string option in new[] { "--data", "--dataset", "--model", "--variants", "--epochs", "--batch", "--lr", "--optimizer", "--seed", "--threads", "--out", "--quick", "--help" })
        {
            Assert.That(output, Does.Contain(option + " "));
        }
        foreach (Variant variant in Variant.All)
        {
            Assert.That(output, Does.Contain(variant.Name));
        }
    }

    [Test]
    public void AMissingDataFolderIsARunTimeErrorWithCode1()
    {
        string missing = Path.Combine(Path.GetTempPath(), "neuralcore-no-such-folder-" + Guid.NewGuid().ToString("N"));
        (int code, _, string error) = RunCompare("--data", missing, "--quick");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.StartWith("compare: ").And.Contain(missing));
    }
}
