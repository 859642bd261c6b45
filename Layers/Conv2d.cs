using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Layers;

/// <summary>
/// A 2-D convolution layer (PyTorch's <c>nn.Conv2d</c> with square kernels and the same stride, padding and dilation on
/// both axes): input (N, C, H, W) → output (N, O, Ho, Wo) with <c>Ho = ⌊(H + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1</c>
/// (Wo likewise). Its weight (O, C, k, k) can be weight-normalized (<see cref="WithWeightNorm"/>), one norm per output
/// channel over (C·k·k).
/// </summary>
/// <example><code>
/// var conv = new Conv2d(3, 96, 3, padding: 1).WithWeightNorm(); // bias (96), weight_g (96, 1, 1, 1), weight_v (96, 3, 3, 3)
/// Tensor y = conv.Forward(x);                                   // x (100, 3, 32, 32) → y (100, 96, 32, 32)
/// </code></example>
public sealed class Conv2d : WeightNormalizableLayer
{
    /// <summary>
    /// A layer with PyTorch's default init: <c>W ~ U(−1/√fan_in, 1/√fan_in)</c> (Kaiming uniform with a = √5 on the
    /// (O, C, k, k) weight, fan_in = C·k·k) and <c>b ~ U(−1/√fan_in, 1/√fan_in)</c>, drawn in that order from
    /// <paramref name="random"/> (<see cref="Init.DefaultGenerator"/> when null).
    /// </summary>
    /// <param name="inChannels">Input channels C, ≥ 1.</param>
    /// <param name="outChannels">Output channels O, ≥ 1.</param>
    /// <param name="kernelSize">The kernel's height and width k, ≥ 1.</param>
    /// <param name="stride">Step between window placements, ≥ 1.</param>
    /// <param name="padding">Zeros added on every side, ≥ 0.</param>
    /// <param name="dilation">Spacing between kernel taps, ≥ 1.</param>
    /// <param name="bias">Whether to learn a bias (one per output channel).</param>
    /// <param name="random">The generator for the initial values.</param>
    /// <exception cref="ArgumentException">A channel count or the kernel size is below 1, or stride/padding/dilation is out of range.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        bool bias = true, RandomGenerator? random = null)
        : this(CreateWeight(inChannels, outChannels, kernelSize, stride, padding, dilation, random),
            bias ? CreateBias(inChannels * kernelSize * kernelSize, outChannels, random) : null, stride, padding, dilation)
    {
    }

    private Conv2d(Tensor weight, Tensor? bias, int stride, int padding, int dilation)
        : base(weight, bias)
    {
        OutChannels = weight.Size(0);
        InChannels = weight.Size(1);
        KernelSize = weight.Size(2);
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
    }

    /// <summary>Input channels C (axis 1 of the input).</summary>
    public int InChannels { get; }

    /// <summary>Output channels O (axis 1 of the output).</summary>
    public int OutChannels { get; }

    /// <summary>The kernel's height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Step between window placements, on both axes.</summary>
    public int Stride { get; }

    /// <summary>Zeros added on every side.</summary>
    public int Padding { get; }

    /// <summary>Spacing between kernel taps (1: a dense kernel).</summary>
    public int Dilation { get; }

    /// <summary>
    /// A layer whose parameters are copies of <paramref name="weight"/> (O, C, k, k) and <paramref name="bias"/> (O),
    /// e.g. the result of folding a batch norm (<see cref="Folding"/>).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The weight is not (O, C, k, k) with a square kernel, the bias is not (O), or stride/padding/dilation is out of range.
    /// </exception>
    public static Conv2d FromWeights(Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4 || weight.Size(2) != weight.Size(3) || weight.Count == 0)
        {
            throw new ArgumentException($"Conv2d.FromWeights: weight {weight.ShapeText}; expected (out, in, k, k) with a square kernel.");
        }
        CheckGeometry("Conv2d.FromWeights", stride, padding, dilation);
        return new Conv2d(weight.Copy(), bias?.Copy(), stride, padding, dilation);
    }

    /// <summary>
    /// Switches on weight normalization: <c>weight</c> becomes <c>weight_g</c> and <c>weight_v</c> with
    /// <c>g = ‖v‖</c>, so the output is unchanged (to rounding).
    /// </summary>
    /// <param name="dim">0 (default): one norm per output channel over (C·k·k), <c>g</c> (O, 1, 1, 1). null: one norm
    /// over the whole weight, <c>g</c> a scalar. Other axes (1…3 or negative) keep that axis instead (always unfused).</param>
    /// <param name="mode">The fused path (default) or the unfused reference.</param>
    /// <returns>This layer.</returns>
    /// <exception cref="InvalidOperationException">Weight norm is already applied.</exception>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range.</exception>
    public Conv2d WithWeightNorm(int? dim = 0, WeightNormMode mode = WeightNormMode.Fused)
    {
        EnableWeightNorm(dim, mode);
        return this;
    }

    /// <summary>E.g. <c>Conv2d(3→96, k3, s1, p1)</c> (with <c>, d2</c> before the parenthesis when dilated).</summary>
    public override string ToString() =>
        $"Conv2d({InChannels}→{OutChannels}, k{KernelSize}, s{Stride}, p{Padding}{(Dilation == 1 ? "" : $", d{Dilation}")})";

    /// <inheritdoc/>
    protected override Tensor PlainForward(Tensor input, Tensor weight, Tensor? bias) =>
        input.Conv2d(weight, bias, Stride, Padding, Dilation);

    /// <inheritdoc/>
    protected override Tensor FusedForward(Tensor input, Tensor v, Tensor g, Tensor? bias) =>
        WeightNormFunctional(input, v, g, bias, Stride, Padding, Dilation);

    /// <inheritdoc/>
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (N, {InChannels}, H, W).");
        }
        int outHeight = Window2d.OutputSize(input.Size(2), KernelSize, Stride, Padding, Dilation);
        int outWidth = Window2d.OutputSize(input.Size(3), KernelSize, Stride, Padding, Dilation);
        if (outHeight < 1 || outWidth < 1)
        {
            int span = Dilation * (KernelSize - 1) + 1;
            throw new ArgumentException(
                $"{this}: input {input.ShapeText} is too small: the kernel spans {span}×{span} but the padded input is " +
                $"{input.Size(2) + 2 * Padding}×{input.Size(3) + 2 * Padding}, so the output would be {outHeight}×{outWidth}.");
        }
    }

    /// <inheritdoc/>
    protected override int OutputUnitAxis(int outputRank) => 1; // (N, O, Ho, Wo): statistics per channel over N, Ho, Wo

    /// <summary>1e-8: the reference code's ε for convolutional layers in <c>g ← init_scale/√(var[t] + ε)</c>.</summary>
    protected override float DataInitEpsilon => 1e-8f;

    // ---------------------------------------------------------------- the fused weight-norm op

    /// <summary>
    /// The weight-normalized convolution without building <c>w</c> (op label <c>weight_norm_conv2d</c>):
    /// <c>u = conv(x, V)</c> by the engine's im2col + GEMM on the raw direction V, then <c>y = u·s_o + b_o</c> per output
    /// channel o with <c>s_o = g_o/‖v_o‖</c> (DESIGN.md "Fused forward"; <c>‖v_o‖</c> over C·kh·kw). Differentiable in all
    /// inputs, with the hand-written backward of docs/weight-normalization.md section 4 (the convolution part).
    /// </summary>
    /// <param name="input">(N, C, H, W).</param>
    /// <param name="v">(O, C, kh, kw).</param>
    /// <param name="g">O scales (one norm per output channel, dim = 0; e.g. shape (O, 1, 1, 1)) or one (one norm over all of v, dim = null).</param>
    /// <param name="bias">(O), or null.</param>
    /// <param name="stride">Step between window placements, ≥ 1.</param>
    /// <param name="padding">Zeros added on every side, ≥ 0.</param>
    /// <param name="dilation">Spacing between kernel taps, ≥ 1.</param>
    /// <returns>(N, O, Ho, Wo).</returns>
    /// <exception cref="ArgumentException">The shapes or the geometry do not fit; the message names them.</exception>
    public static Tensor WeightNormFunctional(Tensor input, Tensor v, Tensor g, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(g);
        Window2d window = Tensor.Conv2dWindow(input.ShapeArray, v.ShapeArray, bias?.ShapeArray,
            (stride, stride), (padding, padding), (dilation, dilation));
        int batch = input.Size(0), outC = v.Size(0), rowLength = v.Count / outC, positions = window.ColumnCount;
        int groups = g.Count;
        if (groups != outC && groups != 1)
        {
            throw new ArgumentException(
                $"Conv2d.WeightNormFunctional: g {g.ShapeText} has {groups} elements; expected {outC} (one per output channel of v {v.ShapeText}) or 1 (one norm over all of v).");
        }
        ReadOnlySpan<int> shape = [batch, outC, window.OutputHeight, window.OutputWidth]; // (N, O, Ho, Wo)
        Shapes.Count(shape, "Conv2d.WeightNormFunctional");
        input = input.Contiguous();
        v = v.Contiguous();
        g = g.Contiguous();
        bias = bias?.Contiguous();
        Tape? tape = bias is null ? Tape.ForInputs(input, v, g) : Tape.ForInputs([input, v, g, bias]);
        Tensor result = Tensor.NewResult(tape, shape);

        // ‖v_o‖ over (C·kh·kw) and s_o = g_o/‖v_o‖, once per forward (rows 0 and 1 of stats, (2, O)); kept for backward
        // when recording, in scratch memory otherwise. The weight seen as the matrix (O, C·kh·kw): one norm per row.
        Tensor? stats = tape?.NewPrivate([2, outC]); // tape-private: backward reads it, no user ever sees it
        using Scratch statsScratch = tape is null ? Scratch.Rent(2 * outC) : default;
        Span<float> statsSpan = stats is null ? statsScratch.Span : stats.AsSpan();
        Span<float> norms = statsSpan[..outC], scale = statsSpan[outC..];
        WeightNormKernels.NormsAndScales(v.AsSpan(), g.AsSpan(), outC, rowLength, groups, norms, scale);

        // w = diag(s)·V (O, C, kh, kw), then the plain convolution with w and b. A convolution's weight is small next to
        // its activations (32·288 floats here against 100·32·784 per layer), so weight norm's whole cost stays
        // O(weights) this way; scaling the output instead (as the fused Linear does) would cost passes over the
        // activations, forward and backward, and keep an unscaled copy of them for ∂g (see docs/weight-normalization.md).
        Tensor w = tape is null ? Tensor.NewResult(null, v.ShapeArray) : tape.NewPrivate(v.ShapeArray);
        WeightNormKernels.ScaleRows(v.AsSpan(), scale, outC, rowLength, w.AsSpan());
        Tensor.Conv2dForward(input, w, result, window, bias?.Buffer, bias?.Offset ?? 0);

        if (tape is not null)
        {
            TapeEntry entry = bias is null
                ? tape.Record("weight_norm_conv2d", result, WeightNormConv2dBackward, input, v, g)
                : tape.Record("weight_norm_conv2d", result, WeightNormConv2dBackward, [input, v, g, bias]);
            entry.Saved = w;
            entry.Saved2 = stats;
            entry.KeepWindow(window);
        }
        return result;
    }

    // weight_norm_conv2d, with δ = ∂L/∂y (N, O, Ho, Wo), the saved w = diag(s)·V, ‖v_o‖ and s_o (DESIGN.md step 2, one
    // unit per output channel; G = ∂L/∂w from the plain convolution's backward):
    //   ∂b, ∂x += the plain conv's backward with w;   G = conv_backward_weight(δ, x)
    //   ∂g_o  += G_o·v_o / ‖v_o‖
    //   ∂V_o  += s_o·G_o − (s_o·∂g_o/‖v_o‖)·v_o       (= (g_o/‖v_o‖)·M_w·G_o: the projection away from w)
    // For dim = null (one group) ∂g is the sum of the per-channel terms and every channel shares ‖v‖ and s.
    private static void WeightNormConv2dBackward(TapeEntry e, Tensor dy)
    {
        Tensor x = e.Input(0), v = e.Input(1), g = e.Input(2);
        Tensor w = e.Saved!, stats = e.Saved2!;
        Window2d window = Window2d.FromInts(e.Ints!);
        int outC = v.Size(0), rowLength = v.Count / outC, groups = g.Count;
        ReadOnlySpan<float> norms = stats.AsSpan()[..outC], scale = stats.AsSpan()[outC..];
        Tensor? sinkX = e.GradSink(0), sinkV = e.GradSink(1), sinkG = e.GradSink(2);
        Tensor? sinkB = e.InputCount > 3 ? e.GradSink(3) : null;
        bool needGradW = sinkV is not null || sinkG is not null;

        // G = ∂L/∂w (O, C, kh, kw) accumulates from zero in a tape temporary: it is not a gradient anyone keeps.
        Tensor? gradW = needGradW ? e.Tape.RentTemporary(w.ShapeArray) : null;
        try
        {
            gradW?.AsSpan().Clear();
            Tensor.Conv2dBackward(x, w, dy, sinkX, gradW, window, sinkB);
            if (gradW is null)
            {
                return;
            }
            ReadOnlySpan<float> gw = gradW.AsSpan(), vs = v.AsSpan();
            using Scratch gradG = Scratch.RentZeroed(groups); // (groups)
            int channelsPerGroup = outC / groups;
            for (int o = 0; o < outC; o++)
            {
                // ∂g = G·v/‖v‖, summed over the channels of a group (all of them for dim = null).
                gradG.Span[o / channelsPerGroup] += TensorPrimitives.Dot(gw.Slice(o * rowLength, rowLength), vs.Slice(o * rowLength, rowLength)) / norms[o];
            }
            if (sinkG is not null)
            {
                TensorPrimitives.Add(sinkG.AsSpan(), gradG.Span, sinkG.AsSpan());
            }
            if (sinkV is not null)
            {
                Span<float> sv = sinkV.AsSpan();
                for (int o = 0; o < outC; o++)
                {
                    Span<float> sinkRow = sv.Slice(o * rowLength, rowLength);
                    TensorPrimitives.MultiplyAdd(gw.Slice(o * rowLength, rowLength), scale[o], sinkRow, sinkRow);      // + s_o·G_o
                    float coefficient = scale[o] * gradG.Span[o / channelsPerGroup] / norms[o];
                    TensorPrimitives.MultiplyAdd(vs.Slice(o * rowLength, rowLength), -coefficient, sinkRow, sinkRow); // − c_o·v_o
                }
            }
        }
        finally
        {
            if (gradW is not null)
            {
                e.Tape.ReleaseTemporary(gradW);
            }
        }
    }

    // ---------------------------------------------------------------- construction

    private static void CheckGeometry(string owner, int stride, int padding, int dilation)
    {
        if (stride < 1 || padding < 0 || dilation < 1)
        {
            throw new ArgumentException(
                $"{owner}: stride {stride}, padding {padding}, dilation {dilation}; expected stride ≥ 1, padding ≥ 0 and dilation ≥ 1.");
        }
    }

    private static Tensor CreateWeight(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, RandomGenerator? random)
    {
        string name = $"Conv2d({inChannels}→{outChannels}, k{kernelSize}, s{stride}, p{padding})";
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1)
        {
            throw new ArgumentException($"{name}: channel counts and the kernel size must be at least 1.");
        }
        CheckGeometry(name, stride, padding, dilation);
        // PyTorch's reset_parameters: kaiming_uniform_(weight, a=√5) on (O, C, k, k), i.e. U(−1/√fan_in, 1/√fan_in)
        // with fan_in = C·k·k (Init.Fans counts the receptive field).
        return Init.KaimingUniform(Tensor.Zeros(outChannels, inChannels, kernelSize, kernelSize), a: MathF.Sqrt(5f), random: random);
    }

    private static Tensor CreateBias(int fanIn, int outChannels, RandomGenerator? random)
    {
        float bound = 1f / MathF.Sqrt(fanIn); // PyTorch: U(−1/√fan_in, 1/√fan_in)
        return Init.Uniform(Tensor.Zeros(outChannels), -bound, bound, random);
    }
}
