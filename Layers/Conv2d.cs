using NeuralCore.Engine;

namespace NeuralCore.Layers;

// STAND-IN (wt-run): a minimal Conv2d so the runner builds before the real layer lands. The lead replaces this file
// with the colleague's Conv2d; only the public constructor below is the agreed API.

/// <summary>
/// STAND-IN for the real Conv2d: a 2-D convolution (N, C, H, W) → (N, O, Ho, Wo) with PyTorch's default init; the
/// weight can be weight-normalized (fused path here: the convolution by v, then a per-channel scale g/‖v‖).
/// </summary>
public sealed class Conv2d : WeightNormalizableLayer
{
    private readonly int _stride;
    private readonly int _padding;
    private readonly int _dilation;

    /// <summary>A convolution with weight (out, in, k, k) and bias (out), both ~ U(−1/√fan_in, 1/√fan_in).</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, bool bias = true,
        RandomGenerator? random = null)
        : base(CreateWeight(inChannels, outChannels, kernelSize, random), bias ? CreateBias(inChannels * kernelSize * kernelSize, outChannels, random) : null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        _stride = stride;
        _padding = padding;
        _dilation = dilation;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>The kernel's height and width.</summary>
    public int KernelSize { get; }

    /// <inheritdoc/>
    public override string ToString() => $"Conv2d({InChannels}→{OutChannels}, {KernelSize}×{KernelSize})";

    /// <inheritdoc/>
    protected override float DataInitEpsilon => 1e-8f;

    /// <inheritdoc/>
    protected override Tensor PlainForward(Tensor input, Tensor weight, Tensor? bias) =>
        input.Conv2d(weight, bias, _stride, _padding, _dilation);

    /// <inheritdoc/>
    protected override Tensor FusedForward(Tensor input, Tensor v, Tensor g, Tensor? bias)
    {
        Tensor scale = g.Reshape(1, -1, 1, 1) / WeightNorm.Norm(v, 0).Reshape(1, -1, 1, 1); // (1, O, 1, 1)
        Tensor y = input.Conv2d(v, null, _stride, _padding, _dilation) * scale;
        return bias is null ? y : y + bias.Reshape(1, -1, 1, 1);
    }

    /// <inheritdoc/>
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (N, {InChannels}, H, W).");
        }
    }

    /// <inheritdoc/>
    protected override int OutputUnitAxis(int outputRank) => 1;

    private static Tensor CreateWeight(int inChannels, int outChannels, int kernelSize, RandomGenerator? random)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1)
        {
            throw new ArgumentException($"Conv2d({inChannels}→{outChannels}, {kernelSize}×{kernelSize}): sizes must be at least 1.");
        }
        return Init.KaimingUniform(Tensor.Zeros(outChannels, inChannels, kernelSize, kernelSize), a: MathF.Sqrt(5f), random: random);
    }

    private static Tensor CreateBias(int fanIn, int outChannels, RandomGenerator? random)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        return Init.Uniform(Tensor.Zeros(outChannels), -bound, bound, random);
    }
}
