using System.Linq;
using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// One training step (forward, loss, backward, SGD update) of a 784-1000-1000-10 ReLU MLP at batch 100, built from
/// engine ops: the baseline the layer and optimizer issues improve on. MemoryDiagnoser shows the managed bytes a
/// steady-state step allocates (the tape recycles activation buffers).
/// </summary>
[MemoryDiagnoser]
public class MlpStepBenchmarks
{
    private Tensor[] _parameters = [];
    private Tensor _input = Tensor.Zeros(1);
    private int[] _labels = [];

    /// <summary>Builds the parameters and a random batch.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new RandomGenerator(1);
        _parameters =
        [
            Tensor.RandomNormal(random, [784, 1000], std: 0.03f).RequireGrad(), Tensor.Zeros(1000).RequireGrad(),
            Tensor.RandomNormal(random, [1000, 1000], std: 0.03f).RequireGrad(), Tensor.Zeros(1000).RequireGrad(),
            Tensor.RandomNormal(random, [1000, 10], std: 0.03f).RequireGrad(), Tensor.Zeros(10).RequireGrad(),
        ];
        _input = Tensor.RandomNormal(random, [100, 784]);
        _labels = Enumerable.Range(0, 100).Select(i => i % 10).ToArray();
    }

    /// <summary>Forward, cross-entropy, backward and an SGD update.</summary>
    [Benchmark]
    public float TrainingStep()
    {
        Tensor[] p = _parameters;
        Tensor h1 = (_input.Matmul(p[0]) + p[1]).Relu();
        Tensor h2 = (h1.Matmul(p[2]) + p[3]).Relu();
        Tensor loss = Losses.CrossEntropy(h2.Matmul(p[4]) + p[5], _labels);
        foreach (Tensor parameter in p)
        {
            parameter.ZeroGrad();
        }
        loss.Backward();
        foreach (Tensor parameter in p)
        {
            TensorPrimitives.MultiplyAdd(parameter.Grad!.AsSpan(), -0.01f, parameter.AsSpan(), parameter.AsSpan());
        }
        return loss.Item();
    }
}
