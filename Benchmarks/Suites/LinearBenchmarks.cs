using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// Forward + backward of one Linear(1000→1000) at batch 100 (the figure): plain, weight-normalized fused
/// (u = x·Vᵀ, then y = u·diag(g/‖v‖) + b) and weight-normalized unfused (w = g·v/‖v‖ from tape ops, then the plain
/// layer). The input requires grad, as for a hidden layer, so every backward computes ∂x, ∂W (or ∂g, ∂V) and ∂b.
/// Target: fused within 1.05× of plain. MemoryDiagnoser shows the managed bytes per step (the tape pools the buffers).
/// </summary>
[MemoryDiagnoser]
public class LinearBenchmarks
{
    private Linear _plain = null!;
    private Linear _fused = null!;
    private Linear _unfused = null!;
    private Tensor _input = Tensor.Zeros(1);
    private Tensor _outputGrad = Tensor.Zeros(1);

    /// <summary>Three layers with the same initial weight, one random batch and one random output gradient.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _plain = new Linear(1000, 1000, random: new RandomGenerator(1));
        _fused = new Linear(1000, 1000, random: new RandomGenerator(1)).WithWeightNorm(mode: WeightNormMode.Fused);
        _unfused = new Linear(1000, 1000, random: new RandomGenerator(1)).WithWeightNorm(mode: WeightNormMode.Unfused);
        var random = new RandomGenerator(2);
        _input = Tensor.RandomNormal(random, [100, 1000]).RequireGrad();
        _outputGrad = Tensor.RandomNormal(random, [100, 1000]);
    }

    /// <summary>y = x·Wᵀ + b, then ∂x, ∂W, ∂b.</summary>
    [Benchmark(Baseline = true)]
    public float Plain() => Step(_plain);

    /// <summary>The fused weight-norm forward and backward (DESIGN.md "Fused forward/backward").</summary>
    [Benchmark]
    public float WeightNormFused() => Step(_fused);

    /// <summary>The unfused reference: w built on the tape, then the plain layer.</summary>
    [Benchmark]
    public float WeightNormUnfused() => Step(_unfused);

    private float Step(Linear layer)
    {
        _input.ZeroGrad();
        layer.ZeroGrad();
        Tensor y = layer.Forward(_input);
        y.Backward(_outputGrad);
        return _input.Grad![0, 0];
    }
}
