using System.Globalization;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NeuralCore.Optimizers;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// The whole-network cases of issue 7: one training step of the MLP and of the small CNN under each
/// parameterization, and the MLP's inference. <c>Benchmarks/peers/pytorch_speed.py</c> builds the same networks
/// under the same names; change both together.
/// </summary>
/// <remarks>
/// <para>
/// MLP: 784-1000-1000-10, ReLU, batch 100. CNN: input (100, 1, 28, 28); conv3×3(1→32)-ReLU-conv3×3(32→32)-ReLU-
/// maxpool2-conv3×3(32→64)-ReLU-conv3×3(64→64)-ReLU-maxpool2-flatten-linear(3136→10). Every convolution pads by 1:
/// that is what makes the flatten width 3136 = 64·7·7.
/// </para>
/// <para>
/// Variants: <c>plain</c>; <c>wn</c> (fused weight norm on every Linear and Conv2d); <c>wn-unfused</c> (w built on
/// the tape); <c>bn</c> (BatchNorm after each hidden layer, before its ReLU, hidden bias off); <c>wn-mobn</c> (fused
/// weight norm + mean-only BN, hidden bias off). One step = <c>ZeroGrad</c>, forward, cross-entropy, backward,
/// Adam(1e-3) step.
/// </para>
/// <para>
/// FLOPs are counted for the GEMM and convolution layers only: forward 2·MACs, backward twice the forward, so a step
/// is 3·2·MACs (normalization, activations, pooling and the update are not counted).
/// </para>
/// </remarks>
internal static class StepCases
{
    /// <summary>Examples per training batch (and the large inference batch).</summary>
    public const int Batch = 100;

    /// <summary>The training variants, in the order they run.</summary>
    public static IReadOnlyList<string> Variants { get; } = ["plain", "wn", "wn-unfused", "bn", "wn-mobn"];

    // Multiply-adds per example of the layers that count.
    private const double MlpMacs = (784.0 * 1000) + (1000.0 * 1000) + (1000.0 * 10);
    private const double CnnMacs = (28.0 * 28 * 32 * 1 * 9) + (28.0 * 28 * 32 * 32 * 9) + (14.0 * 14 * 64 * 32 * 9)
        + (14.0 * 14 * 64 * 64 * 9) + (3136.0 * 10);

    /// <summary>Every step and inference case, with <paramref name="batch"/> examples per training step (100 in the issue).</summary>
    public static IEnumerable<SpeedCase> All(int batch = Batch)
    {
        foreach (string variant in Variants)
        {
            yield return StepCase("mlp-step", variant, batch, 3 * 2 * MlpMacs * batch, () => Mlp(variant), [batch, 784]);
        }
        foreach (string variant in Variants)
        {
            yield return StepCase("cnn-step", variant, batch, 3 * 2 * CnnMacs * batch, () => Cnn(variant), [batch, 1, 28, 28]);
        }
        foreach (int inferBatch in (int[])[1, batch])
        {
            foreach (string variant in (string[])["plain", "wn"])
            {
                yield return InferCase(variant, inferBatch);
            }
        }
    }

    /// <summary>The MLP of issue 7 under <paramref name="variant"/>.</summary>
    public static Sequential Mlp(string variant)
    {
        var random = new RandomGenerator(7);
        bool normalized = variant is "bn" or "wn-mobn";
        var network = new Sequential();
        foreach ((int inputs, int outputs) in ((int, int)[])[(784, 1000), (1000, 1000)])
        {
            network.Add(new Linear(inputs, outputs, bias: !normalized, random: random));
            AddNormalization(network, variant, outputs, convolution: false);
            network.Add(new ReLU());
        }
        network.Add(new Linear(1000, 10, random: random));
        return ApplyWeightNorm(network, variant);
    }

    /// <summary>The small CNN of issue 7 under <paramref name="variant"/>.</summary>
    public static Sequential Cnn(string variant)
    {
        var random = new RandomGenerator(7);
        bool normalized = variant is "bn" or "wn-mobn";
        var network = new Sequential();
        void Conv(int inputs, int outputs)
        {
            network.Add(new Conv2d(inputs, outputs, 3, padding: 1, bias: !normalized, random: random));
            AddNormalization(network, variant, outputs, convolution: true);
            network.Add(new ReLU());
        }
        Conv(1, 32);
        Conv(32, 32);
        network.Add(new MaxPool2d(2));
        Conv(32, 64);
        Conv(64, 64);
        network.Add(new MaxPool2d(2));
        network.Add(new Flatten());
        network.Add(new Linear(3136, 10, random: random));
        return ApplyWeightNorm(network, variant);
    }

    /// <summary>The name of a case, e.g. <c>mlp-step wn</c> or <c>mlp-infer b1 plain</c>.</summary>
    public static string Name(string kind, string variant, int? batch = null) =>
        batch is int b ? string.Create(CultureInfo.InvariantCulture, $"{kind} b{b} {variant}") : $"{kind} {variant}";

    private static void AddNormalization(Sequential network, string variant, int features, bool convolution)
    {
        if (variant == "bn")
        {
            network.Add(convolution ? new BatchNorm2d(features) : new BatchNorm1d(features));
        }
        else if (variant == "wn-mobn")
        {
            network.Add(convolution ? new MeanOnlyBatchNorm2d(features) : new MeanOnlyBatchNorm1d(features));
        }
    }

    private static Sequential ApplyWeightNorm(Sequential network, string variant)
    {
        switch (variant)
        {
            case "wn" or "wn-mobn":
                WeightNorm.Apply(network, dim: 0, WeightNormMode.Fused);
                break;
            case "wn-unfused":
                WeightNorm.Apply(network, dim: 0, WeightNormMode.Unfused);
                break;
        }
        return network;
    }

    private static SpeedCase StepCase(string kind, string variant, int batch, double flops, Func<Sequential> build, int[] inputShape)
    {
        KeyValuePair<string, object>[] fields = [new("variant", variant), new("batch", batch)];
        return new SpeedCase(kind, Name(kind, variant), flops, fields, seconds =>
        {
            Sequential model = build();
            model.Train();
            var adam = new Adam(model.Parameters(), learningRate: 1e-3);
            var random = new RandomGenerator(11);
            Tensor x = Tensor.RandomNormal(random, inputShape);
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++)
            {
                labels[i] = random.NextInt(10);
            }
            void Step()
            {
                adam.ZeroGrad();
                Tensor loss = Losses.CrossEntropy(model.Forward(x), labels);
                loss.Backward();
                adam.Step();
            }
            TimingSamples samples = SpeedTimer.Measure(Step, seconds);
            Tape.Current.Reset();
            return samples;
        });
    }

    // The MLP forward in eval mode under NoGrad; "wn" is the weight-normed network folded back to plain weights.
    private static SpeedCase InferCase(string variant, int batch)
    {
        KeyValuePair<string, object>[] fields = [new("variant", variant), new("batch", batch)];
        return new SpeedCase("mlp-infer", Name("mlp-infer", variant, batch), 2 * MlpMacs * batch, fields, seconds =>
        {
            Sequential model = Mlp(variant);
            if (variant == "wn")
            {
                WeightNorm.Remove(model);
            }
            model.Eval();
            Tensor x = Tensor.RandomNormal(new RandomGenerator(12), [batch, 784]);
            using (Tape.NoGrad())
            {
                return SpeedTimer.Measure(() => model.Forward(x), seconds);
            }
        });
    }
}
