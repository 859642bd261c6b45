using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// What the layer-level sweeps of issue 7 share: one benchmark method per variant, with <c>plain</c> as the
/// baseline, so that every (batch, size) row group of the summary reads as "this variant costs r× plain".
/// A subclass fixes the layer (Linear or Conv2d) and its size parameters; a subclass of that fixes the phase
/// (forward only, or forward + backward).
/// </summary>
/// <remarks>
/// <para>
/// The variants are the speed command's (<c>Benchmarks/Speed/StepCases.cs</c>): <c>plain</c> (layer with bias),
/// <c>wn</c> (fused weight norm, dim 0), <c>wn-unfused</c> (w = g·v/‖v‖ built from tape ops, then the plain layer),
/// <c>bn</c> (layer without bias, then BatchNorm), <c>wn-mobn</c> (fused weight norm without bias, then mean-only
/// BatchNorm). Every layer is in training mode and its input requires grad, as for a hidden layer, so backward computes
/// ∂x as well as the parameter gradients.
/// </para>
/// <para>
/// Only the variant a benchmark method names is built (one <c>[GlobalSetup]</c> per method): BenchmarkDotNet runs
/// each case in its own process, and at width 4096 five layers would hold about 1 GB for nothing.
/// </para>
/// <para>
/// Backward alone is not timed: the tape frees a step's graph in backward, so a backward needs a fresh forward, and
/// timing it through <c>[IterationSetup]</c> would force one invocation per iteration (too noisy at small sizes).
/// Backward = (forward + backward) − forward, from the two phase tables at the same size.
/// </para>
/// <para>
/// Gradients are not zeroed between invocations: backward accumulates (+=) into the leaf gradients whether or not
/// they were cleared, so the work is the same, and a training loop's ZeroGrad is the optimizer's cost, not the layer's.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(LayerSweepConfig))]
public abstract class LayerSweep
{
    private Sequential _layer = new();
    private Tensor _input = Tensor.Zeros(1);
    private Tensor _outputGrad = Tensor.Zeros(1);
    private bool _backward;

    /// <summary>True for the forward + backward phase, false for forward only.</summary>
    protected abstract bool IncludesBackward { get; }

    /// <summary>Builds the layer (and its normalization) for <paramref name="variant"/> at the current parameters.</summary>
    /// <param name="variant">plain, wn, wn-unfused, bn or wn-mobn.</param>
    /// <param name="random">The generator for the initial weights (the same seed for every variant).</param>
    protected abstract Sequential Build(string variant, RandomGenerator random);

    /// <summary>The input's shape at the current parameters; the output has the same shape (width→width, C→C).</summary>
    protected abstract int[] InputShape();

    /// <summary>Builds the plain layer.</summary>
    [GlobalSetup(Target = nameof(Plain))]
    public void SetupPlain() => Setup("plain");

    /// <summary>Builds the fused weight-normed layer.</summary>
    [GlobalSetup(Target = nameof(Wn))]
    public void SetupWn() => Setup("wn");

    /// <summary>Builds the unfused weight-normed layer.</summary>
    [GlobalSetup(Target = nameof(WnUnfused))]
    public void SetupWnUnfused() => Setup("wn-unfused");

    /// <summary>Builds the layer without bias followed by batch norm.</summary>
    [GlobalSetup(Target = nameof(Bn))]
    public void SetupBn() => Setup("bn");

    /// <summary>Builds the fused weight-normed layer without bias followed by mean-only batch norm.</summary>
    [GlobalSetup(Target = nameof(WnMobn))]
    public void SetupWnMobn() => Setup("wn-mobn");

    /// <summary>The plain layer, with bias: the baseline of each row group.</summary>
    [Benchmark(Baseline = true)]
    public float Plain() => Run();

    /// <summary>Fused weight norm: u = op(x, V), then y = u·(g/‖v‖) + b in the epilogue pass.</summary>
    [Benchmark]
    public float Wn() => Run();

    /// <summary>Unfused weight norm: w = g·v/‖v‖ built by seven tape ops over the weight, then the plain layer.</summary>
    [Benchmark]
    public float WnUnfused() => Run();

    /// <summary>The layer without bias, then BatchNorm (batch statistics, training mode).</summary>
    [Benchmark]
    public float Bn() => Run();

    /// <summary>Fused weight norm without bias, then mean-only BatchNorm (the paper's best CIFAR-10 combination).</summary>
    [Benchmark]
    public float WnMobn() => Run();

    private void Setup(string variant)
    {
        _layer = Build(variant, new RandomGenerator(1));
        _layer.Train();
        var random = new RandomGenerator(2);
        int[] shape = InputShape();
        _input = Tensor.RandomNormal(random, shape).RequireGrad();
        _outputGrad = Tensor.RandomNormal(random, shape);
        _backward = IncludesBackward;
    }

    private float Run()
    {
        Tensor y = _layer.Forward(_input);
        if (_backward)
        {
            // The next invocation's first op starts a new step and returns this one's buffers to the pool.
            y.Backward(_outputGrad);
            return _input.Grad!.AsSpan()[0];
        }
        // Forward only: the graph is recorded (as in training) and then dropped, which returns its buffers.
        float first = y.AsSpan()[0];
        Tape.Current.Reset();
        return first;
    }
}
