using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Layers;

/// <summary>
/// A fully connected layer, <c>y = x·Wᵀ + b</c> (PyTorch's <c>nn.Linear</c>): input (*, in) → output (*, out), the
/// leading axes flattened into rows. Its weight can be weight-normalized (<see cref="WithWeightNorm"/>).
/// </summary>
/// <example><code>
/// var layer = new Linear(784, 1000).WithWeightNorm();   // parameters bias, weight_g (1000, 1), weight_v (1000, 784)
/// Tensor y = layer.Forward(x);                          // x (100, 784) → y (100, 1000)
/// </code></example>
public sealed class Linear : WeightNormalizableLayer
{
    /// <summary>
    /// A layer with PyTorch's default init: <c>W ~ U(−1/√in, 1/√in)</c> (Kaiming uniform with a = √5) and
    /// <c>b ~ U(−1/√in, 1/√in)</c>, drawn in that order from <paramref name="random"/>
    /// (<see cref="Init.DefaultGenerator"/> when null).
    /// </summary>
    /// <param name="inFeatures">Input features, ≥ 1.</param>
    /// <param name="outFeatures">Output features, ≥ 1.</param>
    /// <param name="bias">Whether to learn a bias.</param>
    /// <param name="random">The generator for the initial values.</param>
    /// <exception cref="ArgumentException">A feature count is below 1.</exception>
    public Linear(int inFeatures, int outFeatures, bool bias = true, RandomGenerator? random = null)
        : this(CreateWeight(inFeatures, outFeatures, random), bias ? CreateBias(inFeatures, outFeatures, random) : null)
    {
    }

    private Linear(Tensor weight, Tensor? bias)
        : base(weight, bias)
    {
        OutFeatures = weight.Size(0);
        InFeatures = weight.Size(1);
    }

    /// <summary>Input features (the last axis of the input).</summary>
    public int InFeatures { get; }

    /// <summary>Output features (the last axis of the output).</summary>
    public int OutFeatures { get; }

    /// <summary>A layer whose parameters are copies of <paramref name="weight"/> (out, in) and <paramref name="bias"/> (out).</summary>
    /// <exception cref="ArgumentException">The weight is not 2-D, or the bias is not (out).</exception>
    public static Linear FromWeights(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
        {
            throw new ArgumentException($"Linear.FromWeights: weight {weight.ShapeText}; expected (out, in).");
        }
        return new Linear(weight.Copy(), bias?.Copy());
    }

    /// <summary>
    /// Switches on weight normalization: <c>weight</c> becomes <c>weight_g</c> and <c>weight_v</c> with
    /// <c>g = ‖v‖</c>, so the output is unchanged (to rounding).
    /// </summary>
    /// <param name="dim">0 (default): one norm per output unit, <c>g</c> (out, 1). null: one norm over the whole
    /// weight, <c>g</c> a scalar. 1 or -1: one norm per input column, <c>g</c> (1, in) (always unfused).</param>
    /// <param name="mode">The fused path (default) or the unfused reference.</param>
    /// <returns>This layer.</returns>
    /// <exception cref="InvalidOperationException">Weight norm is already applied.</exception>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range.</exception>
    public Linear WithWeightNorm(int? dim = 0, WeightNormMode mode = WeightNormMode.Fused)
    {
        EnableWeightNorm(dim, mode);
        return this;
    }

    /// <summary>E.g. <c>Linear(784→1000)</c>.</summary>
    public override string ToString() => $"Linear({InFeatures}→{OutFeatures})";

    /// <inheritdoc/>
    protected override Tensor PlainForward(Tensor input, Tensor weight, Tensor? bias) => Functional(input, weight, bias);

    /// <inheritdoc/>
    protected override Tensor FusedForward(Tensor input, Tensor v, Tensor g, Tensor? bias) => WeightNorm.Linear(input, v, g, bias);

    /// <inheritdoc/>
    protected override void CheckInput(Tensor input)
    {
        if (input.Rank < 1 || input.Size(-1) != InFeatures)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (*, {InFeatures}).");
        }
    }

    /// <inheritdoc/>
    protected override int OutputUnitAxis(int outputRank) => outputRank - 1;

    // ---------------------------------------------------------------- the op

    /// <summary>
    /// <c>y = x·Wᵀ + b</c> (PyTorch's <c>F.linear</c>) as one op (label <c>linear</c>): one GEMM, then the bias in the
    /// epilogue pass. Differentiable in all three.
    /// </summary>
    /// <param name="input">(*, in).</param>
    /// <param name="weight">(out, in).</param>
    /// <param name="bias">(out), or null.</param>
    /// <returns>(*, out).</returns>
    /// <exception cref="ArgumentException">The shapes do not fit; the message names them.</exception>
    public static Tensor Functional(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        Span<int> shape = stackalloc int[input.Rank]; // (*, out)
        CheckOperands("Linear", input, weight, bias, shape, out int rows);
        int outF = weight.Size(0), inF = weight.Size(1);
        input = input.Contiguous();
        weight = weight.Contiguous();
        bias = bias?.Contiguous();
        Tape? tape = Tape.ForInputs(input, weight, bias);
        Tensor result = Tensor.NewResult(tape, shape);
        // y = x·Wᵀ (NT: W is read in place as the transposed operand), then y += b in the epilogue.
        WeightNormKernels.Gemm(false, true, rows, outF, inF,
            input.Buffer, input.Offset, inF, weight.Buffer, weight.Offset, inF, 0f, result.Buffer, result.Offset, outF,
            new GemmEpilogue { ColumnBias = bias?.Buffer, ColumnBiasOffset = bias?.Offset ?? 0 });

        // linear: ∂x += ∂y·W (NN), ∂W += ∂yᵀ·x (TN), ∂b += Σₙ ∂y. beta = 1 adds straight into the gradient sinks.
        tape?.Record("linear", result, static (e, dy) =>
        {
            Tensor x = e.Input(0), w = e.Input(1);
            int outF = w.Size(0), inF = w.Size(1);
            int rows = Shapes.Count(x.ShapeArray.AsSpan(0, x.Rank - 1));
            Tensor? sinkX = e.GradSink(0);
            if (sinkX is not null)
            {
                WeightNormKernels.Gemm(false, false, rows, inF, outF,
                    dy.Buffer, dy.Offset, outF, w.Buffer, w.Offset, inF, 1f, sinkX.Buffer, sinkX.Offset, inF);
            }
            Tensor? sinkW = e.GradSink(1);
            if (sinkW is not null)
            {
                WeightNormKernels.Gemm(true, false, outF, inF, rows,
                    dy.Buffer, dy.Offset, outF, x.Buffer, x.Offset, inF, 1f, sinkW.Buffer, sinkW.Offset, inF);
            }
            Tensor? sinkB = e.InputCount > 2 ? e.GradSink(2) : null;
            if (sinkB is not null)
            {
                WeightNormKernels.BackwardColumnPass(dy.AsSpan(), default, default, rows, outF, sinkB.AsSpan(), default, default);
            }
        }, input, weight, bias);
        return result;
    }

    /// <summary>
    /// Checks (*, in) × (out, in) [+ (out)] and writes the output shape (*, out) into <paramref name="shape"/> (input's
    /// rank; the caller's stack, so a recorded op allocates no shape array) and the row count.
    /// </summary>
    internal static void CheckOperands(string op, Tensor input, Tensor weight, Tensor? bias, Span<int> shape, out int rows)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
        {
            throw new ArgumentException($"{op}: weight {weight.ShapeText}; expected (out, in).");
        }
        int outF = weight.Size(0), inF = weight.Size(1);
        if (input.Rank < 1 || input.Size(-1) != inF)
        {
            throw new ArgumentException($"{op}: input {input.ShapeText} with weight {weight.ShapeText}; expected input (*, {inF}).");
        }
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != outF))
        {
            throw new ArgumentException($"{op}: bias {bias.ShapeText} with weight {weight.ShapeText}; expected bias ({outF}).");
        }
        input.Shape.CopyTo(shape); // (*, out)
        shape[^1] = outF;
        rows = Shapes.Count(shape[..^1]);
    }

    private static Tensor CreateWeight(int inFeatures, int outFeatures, RandomGenerator? random)
    {
        if (inFeatures < 1 || outFeatures < 1)
        {
            throw new ArgumentException($"Linear({inFeatures}→{outFeatures}): feature counts must be at least 1.");
        }
        // PyTorch's reset_parameters: kaiming_uniform_(weight, a=√5), i.e. U(−1/√in, 1/√in).
        return Init.KaimingUniform(Tensor.Zeros(outFeatures, inFeatures), a: MathF.Sqrt(5f), random: random);
    }

    private static Tensor CreateBias(int inFeatures, int outFeatures, RandomGenerator? random)
    {
        float bound = 1f / MathF.Sqrt(inFeatures); // PyTorch: U(−1/√fan_in, 1/√fan_in)
        return Init.Uniform(Tensor.Zeros(outFeatures), -bound, bound, random);
    }
}
