using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;

namespace NeuralCore.Tests.Layers;

/// <summary>
/// <see cref="DataDependentInit"/> on a 3-layer MLP: every unit's pre-activation has mean 0 and standard deviation
/// init_scale on the init batch, which holds only if each layer was initialized on the outputs of the already
/// initialized layers before it (stale outputs would leave layers 2 and 3 off by the factors layer 1 changed).
/// </summary>
[TestFixture]
public sealed class DataDependentInitTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    // Tolerance 1e-4 (the issue's): the statistics are computed in double from float32 pre-activations whose
    // rounding is ~1e-7 relative, and ε = 1e-10 changes the standard deviation by ε/(2·var) < 1e-6 here.
    [TestCase("fused", 1f)]
    [TestCase("unfused", 1f)]
    [TestCase("plain", 1f)]
    [TestCase("fused", 0.1f)]
    public void EveryPreActivationHasMeanZeroAndStdInitScaleOnTheInitBatch(string kind, float initScale)
    {
        LinearReluStack model = Mlp(kind);
        // Inputs far from zero mean and unit scale, so an init that skipped a layer or used raw statistics shows.
        Tensor batch = Tensor.RandomNormal(new RandomGenerator(5), [200, 20], mean: 3f, std: 2f);

        Assert.That(DataDependentInit.Apply(model, batch, initScale, new RandomGenerator(6)), Is.EqualTo(3));

        List<Tensor> preActivations = model.PreActivations(batch);
        for (int layer = 0; layer < preActivations.Count; layer++)
        {
            (double[] mean, double[] std) = ColumnStatistics(preActivations[layer]);
            for (int j = 0; j < mean.Length; j++)
            {
                Assert.That(mean[j], Is.EqualTo(0).Within(1e-4), $"layer {layer}, unit {j}: mean");
                Assert.That(std[j], Is.EqualTo(initScale).Within(1e-4), $"layer {layer}, unit {j}: std");
            }
        }
    }

    [Test]
    public void DirectionsAreDrawnFromNormalWithStd005AndGIsSetNotV()
    {
        LinearReluStack model = Mlp("fused");
        Tensor batch = Tensor.RandomNormal(new RandomGenerator(5), [100, 20]);

        DataDependentInit.Apply(model, batch, random: new RandomGenerator(6));

        float[] v = model.Layers[1].WeightV!.ToArray();   // 25·30 = 750 draws: std estimated to ~3%
        double std = Math.Sqrt(v.Average(x => (double)x * x));
        Assert.That(std, Is.EqualTo(0.05).Within(10).Percent);
        // The reference code's rule: g = init_scale/σ[t] with t = v·x/‖v‖ (not 1/σ of the raw v·x).
        Assert.That(model.Layers[1].WeightG!.ToArray().All(g => g > 0 && float.IsFinite(g)), Is.True);
    }

    [Test]
    public void ResampleFalseKeepsTheDirections()
    {
        LinearReluStack model = Mlp("fused");
        float[] v = model.Layers[0].WeightV!.ToArray();

        DataDependentInit.Apply(model, Tensor.RandomNormal(new RandomGenerator(5), [50, 20]), resample: false);

        Assert.That(model.Layers[0].WeightV!.ToArray(), Is.EqualTo(v));
    }

    [Test]
    public void ALayerTheForwardNeverCallsIsReported()
    {
        var used = new Linear(4, 3, random: new RandomGenerator(1));
        var unused = new Linear(3, 2, random: new RandomGenerator(2));
        var model = new LinearReluStack(used, unused) { Depth = 1 };

        var error = Assert.Throws<InvalidOperationException>(() => DataDependentInit.Apply(model, Tensor.Ones(5, 4)));

        Assert.That(error!.Message, Does.Contain("1 Linear(3→2)"));
        Assert.That(unused.Forward(Tensor.Ones(1, 3)).Shape.ToArray(), Is.EqualTo(new[] { 1, 2 }), "no init left pending");
    }

    [Test]
    public void WeightNormWithoutOneGPerUnitIsRejectedAndNothingChanges()
    {
        var first = new Linear(4, 3, random: new RandomGenerator(1)).WithWeightNorm();
        var second = new Linear(3, 2, random: new RandomGenerator(2)).WithWeightNorm(dim: null);
        var model = new LinearReluStack(first, second);
        float[] v = first.WeightV!.ToArray();

        Assert.Throws<InvalidOperationException>(() => DataDependentInit.Apply(model, Tensor.Ones(5, 4)));

        Assert.That(first.WeightV!.ToArray(), Is.EqualTo(v));
        Assert.Throws<ArgumentException>(() => DataDependentInit.Apply(new LinearReluStack(), Tensor.Ones(5, 4)));
        Assert.Throws<ArgumentException>(() => DataDependentInit.Apply(model, Tensor.Ones(5, 4), initScale: 0f));
    }

    private static LinearReluStack Mlp(string kind)
    {
        Linear[] layers =
        [
            new Linear(20, 30, random: new RandomGenerator(1)),
            new Linear(30, 25, random: new RandomGenerator(2)),
            new Linear(25, 10, random: new RandomGenerator(3)),
        ];
        if (kind != "plain")
        {
            WeightNorm.Apply(new LinearReluStack(layers), mode: kind == "fused" ? WeightNormMode.Fused : WeightNormMode.Unfused);
        }
        return new LinearReluStack(layers);
    }

    private static (double[] Mean, double[] Std) ColumnStatistics(Tensor t)
    {
        int rows = t.Size(0), cols = t.Size(1);
        float[] values = t.ToArray();
        var mean = new double[cols];
        var std = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            double m = 0, s = 0;
            for (int n = 0; n < rows; n++)
            {
                m += values[n * cols + j];
            }
            m /= rows;
            for (int n = 0; n < rows; n++)
            {
                double d = values[n * cols + j] - m;
                s += d * d;
            }
            mean[j] = m;
            std[j] = Math.Sqrt(s / rows);
        }
        return (mean, std);
    }
}

/// <summary>A test model: Linear → ReLU → Linear → ReLU → … → Linear (the colleague's Sequential is not used here).</summary>
internal sealed class LinearReluStack : Module
{
    public LinearReluStack(params Linear[] layers)
    {
        Layers = layers;
        Depth = layers.Length;
        for (int i = 0; i < layers.Length; i++)
        {
            RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
        }
    }

    public Linear[] Layers { get; }

    /// <summary>How many layers Forward calls (fewer than registered, to test a layer that is never reached).</summary>
    public int Depth { get; init; }

    public override Tensor Forward(Tensor input) => PreActivations(input)[^1];

    /// <summary>The output of each Linear (before its ReLU), in order.</summary>
    public List<Tensor> PreActivations(Tensor input)
    {
        var outputs = new List<Tensor>();
        Tensor h = input;
        for (int i = 0; i < Depth; i++)
        {
            Tensor t = Layers[i].Forward(h);
            outputs.Add(t);
            h = t.Relu();
        }
        return outputs;
    }
}
