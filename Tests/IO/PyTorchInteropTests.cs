using System.IO;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.IO;

/// <summary>
/// Weights exchanged with PyTorch in both directions, against the files Tests/Fixtures/pytorch_interop.py wrote
/// (PyTorch 1.13 CPU; the tests do not need PyTorch). The tolerance, 1e-5 absolute on outputs of magnitude ≤ 1, covers
/// float32 sums of at most 36 products accumulated in a different order than PyTorch's (a few ulp, ~1e-7 each).
/// </summary>
[TestFixture]
public sealed class PyTorchInteropTests
{
    private const float Tolerance = 1e-5f;

    /// <summary>When set, the export tests write their files there, for <c>pytorch_interop.py --verify</c>.</summary>
    private const string ExportVariable = "NEURALCORE_PYTORCH_EXPORT";

    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "neuralcore-interop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static Tensor Run(Module model, Tensor input)
    {
        model.Eval();
        using (Tape.NoGrad())
        {
            return model.Forward(input);
        }
    }

    private static void AssertOutputMatches(Module model, string name)
    {
        Tensor expected = PyTorchFixtures.Output(name);
        Tensor actual = Run(model, PyTorchFixtures.Input(name));
        Assert.That(actual.Shape.ToArray(), Is.EqualTo(expected.Shape.ToArray()), name);
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray()).Within(Tolerance), name);
    }

    // ---------------------------------------------------------------- PyTorch → NeuralCore

    [TestCase("mlp_plain", TestName = "Plain MLP from PyTorch matches its output")]
    [TestCase("mlp_wn_legacy", TestName = "Weight-normed MLP under weight_g and weight_v matches PyTorch's output")]
    [TestCase("mlp_wn_param", TestName = "Weight-normed MLP under parametrizations.weight.original0 and 1 matches PyTorch's output")]
    [TestCase("cnn_wn_legacy", TestName = "CNN with a weight-normed conv (weight_g) and BatchNorm matches PyTorch's output")]
    [TestCase("cnn_wn_param", TestName = "CNN with a weight-normed conv (original0 and 1) and BatchNorm matches PyTorch's output")]
    public void LoadsPyTorchWeightsAndMatchesItsOutput(string name)
    {
        Module model = PyTorchFixtures.Build(name);
        PyTorchStateDict.Load(model, PyTorchFixtures.StatePath(name));
        AssertOutputMatches(model, name);
    }

    [TestCase("mlp_wn_param")]
    [TestCase("cnn_wn_legacy")]
    public void TheUnfusedWeightNormPathMatchesPyTorchToo(string name)
    {
        Module model = PyTorchFixtures.Build(name);
        PyTorchStateDict.Load(model, PyTorchFixtures.StatePath(name));
        int layers = 0;
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is WeightNormalizableLayer { IsWeightNormalized: true } layer)
            {
                layer.WeightNormMode = WeightNormMode.Unfused;
                layers++;
            }
        }
        Assert.That(layers, Is.GreaterThan(0));
        AssertOutputMatches(model, name);
    }

    [TestCase("mlp")]
    [TestCase("cnn")]
    public void BothNamingSchemesMapToTheSameStateDict(string kind)
    {
        var legacy = PyTorchStateDict.FromPyTorch(SafeTensors.Load(PyTorchFixtures.StatePath(kind + "_wn_legacy")));
        var parametrized = PyTorchStateDict.FromPyTorch(SafeTensors.Load(PyTorchFixtures.StatePath(kind + "_wn_param")));

        Assert.That(parametrized.Keys, Is.EquivalentTo(legacy.Keys));
        Assert.That(legacy.Keys, Has.Some.EndsWith(".weight_g").And.Some.EndsWith(".weight_v"));
        foreach (var (key, tensor) in legacy)
        {
            Assert.That(parametrized[key].Shape.ToArray(), Is.EqualTo(tensor.Shape.ToArray()), key);
            Assert.That(parametrized[key].ToArray(), Is.EqualTo(tensor.ToArray()), key);
        }
    }

    [Test]
    public void NumBatchesTrackedIsReadFromInt64()
    {
        Module model = PyTorchFixtures.Build("cnn_wn_legacy");
        PyTorchStateDict.Load(model, PyTorchFixtures.StatePath("cnn_wn_legacy"));
        // The script runs three training batches through the BatchNorm before saving.
        Assert.That(((BatchNorm2d)((Sequential)model)[4]).NumBatchesTracked, Is.EqualTo(3));
    }

    // ---------------------------------------------------------------- NeuralCore → PyTorch

    private static readonly object[] s_exports =
    [
        new object[] { "mlp_plain", PyTorchWeightNormNaming.WeightGV },
        new object[] { "mlp_wn_legacy", PyTorchWeightNormNaming.WeightGV },
        new object[] { "mlp_wn_param", PyTorchWeightNormNaming.Parametrizations },
        new object[] { "cnn_wn_legacy", PyTorchWeightNormNaming.WeightGV },
        new object[] { "cnn_wn_param", PyTorchWeightNormNaming.Parametrizations },
    ];

    // A NeuralCore model with its own weights (not the fixture's), g moved off ‖v‖ and BatchNorm statistics that are
    // not the defaults, so a file that swaps or drops anything gives PyTorch a different output.
    private static Module OwnModel(string name)
    {
        var random = new RandomGenerator(2024);
        Module model = PyTorchFixtures.Build(name, random);
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is WeightNormalizableLayer { WeightG: Tensor g })
            {
                Span<float> values = g.AsSpan();
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] *= 0.5f + random.NextFloat();
                }
            }
        }
        if (name.StartsWith("cnn", StringComparison.Ordinal))
        {
            model.Train();
            using (Tape.NoGrad())
            {
                for (int batch = 0; batch < 2; batch++)
                {
                    model.Forward(Tensor.RandomNormal(random, [5, 3, 8, 8]));
                }
            }
        }
        return model.Eval();
    }

    [TestCaseSource(nameof(s_exports))]
    public void SavedFileHasPyTorchsKeysAndShapesAndRoundTrips(string name, PyTorchWeightNormNaming naming)
    {
        string directory = Environment.GetEnvironmentVariable(ExportVariable) is { Length: > 0 } export ? export : _directory;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name + ".safetensors");
        Module model = OwnModel(name);

        PyTorchStateDict.Save(model, path, naming);

        var written = SafeTensors.Load(path);
        var pytorch = SafeTensors.Load(PyTorchFixtures.StatePath(name));
        Assert.That(written.Keys.Order(StringComparer.Ordinal), Is.EqualTo(pytorch.Keys.Order(StringComparer.Ordinal)));
        foreach (var (key, tensor) in pytorch)
        {
            Assert.That(written[key].Shape.ToArray(), Is.EqualTo(tensor.Shape.ToArray()), key);
        }
        var state = model.StateDict();
        var back = PyTorchStateDict.FromPyTorch(written);
        Assert.That(back.Keys, Is.EquivalentTo(state.Keys));
        foreach (var (key, tensor) in state)
        {
            Assert.That(back[key].ToArray(), Is.EqualTo(tensor.ToArray()), key);
        }

        // NeuralCore's own output on the fixture input, which `pytorch_interop.py --verify` compares with PyTorch's.
        Tensor output = Run(model, PyTorchFixtures.Input(name));
        SafeTensors.Save(Path.Combine(directory, name + ".output.safetensors"), new Dictionary<string, Tensor> { ["output"] = output });
        Module reloaded = PyTorchFixtures.Build(name, new RandomGenerator(7));
        PyTorchStateDict.Load(reloaded, path);
        Assert.That(Run(reloaded, PyTorchFixtures.Input(name)).ToArray(), Is.EqualTo(output.ToArray()));
    }

    [Test]
    public void ParametrizationNamesAreWrittenOnlyForWeightNormPairs()
    {
        var state = new Dictionary<string, Tensor>
        {
            ["0.weight_g"] = Tensor.Ones(3, 1),
            ["0.weight_v"] = Tensor.Ones(3, 4),
            ["0.bias"] = Tensor.Zeros(3),
            ["1.weight"] = Tensor.Ones(2, 3),
            ["2.running_var"] = Tensor.Ones(3),
        };
        var names = PyTorchStateDict.ToPyTorch(state, PyTorchWeightNormNaming.Parametrizations).Keys;
        Assert.That(names, Is.EquivalentTo(new[]
        {
            "0.parametrizations.weight.original0", "0.parametrizations.weight.original1", "0.bias", "1.weight", "2.running_var",
        }));
        Assert.That(PyTorchStateDict.ToPyTorch(state).Keys, Is.EquivalentTo(state.Keys));
    }

    [Test]
    public void TopLevelParametrizationNamesMapWithoutAPrefix()
    {
        var state = new Dictionary<string, Tensor>
        {
            ["parametrizations.weight.original0"] = Tensor.Ones(3, 1),
            ["parametrizations.weight.original1"] = Tensor.Ones(3, 4),
            ["bias"] = Tensor.Zeros(3),
        };
        var mapped = PyTorchStateDict.FromPyTorch(state);
        Assert.That(mapped.Keys, Is.EquivalentTo(new[] { "weight_g", "weight_v", "bias" }));
        Assert.That(mapped["weight_g"], Is.SameAs(state["parametrizations.weight.original0"]));
        var linear = new Linear(4, 3).WithWeightNorm();
        linear.LoadStateDict(mapped);
        Assert.That(PyTorchStateDict.ToPyTorch(linear.StateDict(), PyTorchWeightNormNaming.Parametrizations).Keys, Is.EquivalentTo(state.Keys));
    }

    // ---------------------------------------------------------------- what is rejected

    private static void AssertRejected(Dictionary<string, Tensor> state, string fragment)
    {
        var error = Assert.Throws<ArgumentException>(() => PyTorchStateDict.FromPyTorch(state));
        Assert.That(error!.Message, Does.Contain(fragment));
    }

    [Test]
    public void RejectsAMagnitudeWithoutItsDirection() => AssertRejected(
        new() { ["0.parametrizations.weight.original0"] = Tensor.Ones(3, 1), ["0.bias"] = Tensor.Zeros(3) },
        "'0.parametrizations.weight.original0' has no '0.parametrizations.weight.original1'");

    [Test]
    public void RejectsOneLayerUnderBothNamings() => AssertRejected(
        new()
        {
            ["0.parametrizations.weight.original0"] = Tensor.Ones(3, 1),
            ["0.parametrizations.weight.original1"] = Tensor.Ones(3, 4),
            ["0.weight_g"] = Tensor.Ones(3, 1),
        },
        "both mean '0.weight_g'");

    [TestCase("0.parametrizations.weight.original", TestName = "Rejects a single-tensor parametrization (spectral_norm, orthogonal)")]
    [TestCase("0.parametrizations.weight.original2", TestName = "Rejects a third parametrization tensor")]
    [TestCase("0.parametrizations.weight", TestName = "Rejects a truncated parametrization name")]
    public void RejectsParametrizationsOtherThanWeightNorm(string key) =>
        AssertRejected(new() { [key] = Tensor.Ones(3, 4) }, $"'{key}' is not a weight-norm parametrization");

    [TestCase(new[] { 3 }, new[] { 3, 4 }, TestName = "Rejects a g of another rank than v")]
    [TestCase(new[] { 4, 1 }, new[] { 3, 4 }, TestName = "Rejects a g whose kept axis differs from v's")]
    [TestCase(new[] { 3, 4 }, new[] { 3, 4 }, TestName = "Rejects a g that keeps two axes")]
    public void RejectsAGThatDoesNotFitItsV(int[] gShape, int[] vShape)
    {
        var state = new Dictionary<string, Tensor>
        {
            ["0.parametrizations.weight.original0"] = Tensor.Ones(gShape),
            ["0.parametrizations.weight.original1"] = Tensor.Ones(vShape),
        };
        AssertRejected(state, "does not fit '0.weight_v'");
        var native = new Dictionary<string, Tensor> { ["0.weight_g"] = Tensor.Ones(gShape), ["0.weight_v"] = Tensor.Ones(vShape) };
        Assert.That(() => PyTorchStateDict.ToPyTorch(native), Throws.ArgumentException.With.Message.Contain("does not fit"));
    }

    [Test]
    public void AcceptsTheShapesOfEveryWeightNormDim()
    {
        var state = new Dictionary<string, Tensor>
        {
            ["a.weight_g"] = Tensor.Scalar(2f),        // dim = null
            ["a.weight_v"] = Tensor.Ones(3, 4),
            ["b.weight_g"] = Tensor.Ones(1, 4),        // dim = 1
            ["b.weight_v"] = Tensor.Ones(3, 4),
            ["c.weight_g"] = Tensor.Ones(5, 1, 1, 1),  // Conv2d, dim = 0
            ["c.weight_v"] = Tensor.Ones(5, 2, 3, 3),
        };
        Assert.That(PyTorchStateDict.FromPyTorch(state).Keys, Is.EquivalentTo(state.Keys));
    }

    [Test]
    public void ShapeMismatchWithTheModelNamesTheKey()
    {
        var model = new Sequential(new Linear(12, 16).WithWeightNorm());
        var state = new Dictionary<string, Tensor>
        {
            ["0.parametrizations.weight.original0"] = Tensor.Ones(16, 1),
            ["0.parametrizations.weight.original1"] = Tensor.Ones(16, 11),
            ["0.bias"] = Tensor.Zeros(16),
        };
        Assert.That(() => model.LoadStateDict(PyTorchStateDict.FromPyTorch(state)),
            Throws.ArgumentException.With.Message.Contain("'0.weight_v' has shape (16, 11)"));
    }
}
