using System.Linq;
using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// One optimizer step over the 1.8 M parameters of a 784-1000-1000-10 MLP (1,796,010 floats in six tensors).
/// The fused Adam step reads θ, g, m, v and writes θ, m, v: 7 × 4 bytes × 1,796,010 ≈ 50.3 MB per step, so at
/// this machine's ~25 GB/s single-thread bandwidth the floor is about 2.0 ms; the report compares with it.
/// The scalar twin over the same buffers shows what the vector paths buy.
/// </summary>
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private static readonly int[][] s_shapes = [[1000, 784], [1000], [1000, 1000], [1000], [10, 1000], [10]];

    private Tensor[] _parameters = [];
    private Adam _adam = null!;
    private Sgd _sgd = null!;
    private float[][] _m = [], _v = [];

    /// <summary>Random parameters with random gradients, and optimizers that have already taken their first step.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new RandomGenerator(1);
        _parameters = [.. s_shapes.Select(shape => Tensor.RandomNormal(random, shape, std: 0.05f).RequireGrad())];
        foreach (Tensor p in _parameters)
        {
            p.Backward(Tensor.RandomNormal(random, p.Shape.ToArray(), std: 0.01f));
        }
        // A tiny learning rate keeps the parameters from drifting over millions of benchmark steps.
        _adam = new Adam(_parameters, learningRate: 1e-9);
        _sgd = new Sgd(_parameters, learningRate: 1e-9, momentum: 0.9);
        _adam.Step();
        _sgd.Step();
        _m = [.. _parameters.Select(p => new float[p.Count])];
        _v = [.. _parameters.Select(p => new float[p.Count])];
    }

    /// <summary>One fused Adam step over all six tensors.</summary>
    [Benchmark(Baseline = true)]
    public void AdamStep() => _adam.Step();

    /// <summary>The same update through the scalar twin (no vector paths).</summary>
    [Benchmark]
    public void AdamScalarTwin()
    {
        var c = new AdamKernel.Coefficients(1e-9, 0.9, 0.999, 1e-8, 0, false, 10);
        for (int i = 0; i < _parameters.Length; i++)
        {
            AdamKernel.StepScalar(_parameters[i].AsSpan(), _parameters[i].Grad!.AsSpan(), _m[i], _v[i], [], false, c);
        }
    }

    /// <summary>SGD with momentum: reads θ, g, b and writes θ, b (5 × 4 bytes per parameter).</summary>
    [Benchmark]
    public void SgdMomentumStep() => _sgd.Step();
}
