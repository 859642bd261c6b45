using System.Buffers;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Layers;

/// <summary>
/// Weight normalization (Salimans &amp; Kingma 2016): <c>w = g·v/‖v‖</c>, one <c>g</c> and one norm per slice of the
/// weight along <c>dim</c>. This class holds the two ways to compute it (the fused Linear op and the unfused reference
/// built from tape ops) and the functions that switch it on and off for every eligible layer of a model.
/// </summary>
/// <remarks>
/// <para>
/// The norm carries an epsilon: <c>‖v‖ = √(Σ v² + ε)</c> with ε = <see cref="Epsilon"/>, so a zero slice of <c>v</c>
/// gives <c>w = 0</c> and finite gradients instead of 0/0 = NaN (PyTorch has no epsilon here). For any slice with
/// Σ v² above 1e-5 the change is below float rounding (ε/Σv² &lt; 1e-7).
/// </para>
/// <para>
/// <c>dim</c> follows PyTorch for non-negative values (0: one norm per output unit, <c>g</c> of shape (out, 1)) and
/// <c>null</c> means one norm over the whole tensor (<c>g</c> a scalar). Unlike PyTorch, where <c>dim = -1</c> also
/// means "the whole tensor", a negative dim here counts from the end like every other axis argument: -1 is the last
/// axis (for a Linear weight, one norm per input column).
/// </para>
/// </remarks>
public static class WeightNorm
{
    /// <summary>The ε in <c>‖v‖ = √(Σ v² + ε)</c> (see the remarks).</summary>
    public const float Epsilon = 1e-12f;

    // ---------------------------------------------------------------- whole models

    /// <summary>
    /// Switches weight normalization on for every <see cref="WeightNormalizableLayer"/> (Linear, Conv2d) in
    /// <paramref name="model"/> and its descendants: each <c>weight</c> becomes <c>weight_g</c>, <c>weight_v</c> with
    /// <c>g = ‖v‖</c>, so the model's outputs do not change.
    /// </summary>
    /// <param name="model">The model (it may itself be a layer).</param>
    /// <param name="dim">The axis that keeps one norm per slice (0: per output unit); null for one norm over each whole weight.</param>
    /// <param name="mode">Fused (the default) or the unfused reference path.</param>
    /// <returns>The number of layers normalized.</returns>
    /// <exception cref="InvalidOperationException">A layer is already weight-normalized (nothing is changed).</exception>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range for a layer's weight (nothing is changed).</exception>
    public static int Apply(Module model, int? dim = 0, WeightNormMode mode = WeightNormMode.Fused)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new List<WeightNormalizableLayer>();
        foreach (KeyValuePair<string, Module> named in model.NamedModules())
        {
            if (named.Value is WeightNormalizableLayer layer)
            {
                // Check every layer before changing any, so a failure leaves the model as it was.
                layer.CheckCanEnableWeightNorm(dim);
                layers.Add(layer);
            }
        }
        foreach (WeightNormalizableLayer layer in layers)
        {
            layer.EnableWeightNorm(dim, mode);
        }
        return layers.Count;
    }

    /// <summary>
    /// Folds every weight-normalized layer of <paramref name="model"/> back to a plain <c>weight = g·v/‖v‖</c>
    /// (<see cref="WeightNormalizableLayer.RemoveWeightNorm"/>), e.g. for inference.
    /// </summary>
    /// <returns>The number of layers folded.</returns>
    public static int Remove(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new List<WeightNormalizableLayer>();
        foreach (KeyValuePair<string, Module> named in model.NamedModules())
        {
            if (named.Value is WeightNormalizableLayer { IsWeightNormalized: true } layer)
            {
                layers.Add(layer);
            }
        }
        foreach (WeightNormalizableLayer layer in layers)
        {
            layer.RemoveWeightNorm();
        }
        return layers.Count;
    }

    // ---------------------------------------------------------------- the unfused reference path

    /// <summary>
    /// <c>‖v‖ = √(Σ v² + ε)</c> over every axis except <paramref name="dim"/> (all axes when null), built from tape
    /// ops (pow, sum, add_scalar, sqrt), so it is differentiable. Shape: <paramref name="v"/>'s rank with size 1 on
    /// each reduced axis, e.g. (out, 1) for a Linear weight with dim 0.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range.</exception>
    public static Tensor Norm(Tensor v, int? dim = 0)
    {
        ArgumentNullException.ThrowIfNull(v);
        int? axis = NormalizeDim(dim, v.ShapeArray, "WeightNorm.Norm");
        Tensor squares = v.Pow(2f);
        Tensor sumOfSquares;
        if (axis is null)
        {
            sumOfSquares = squares.Sum(keepDim: true); // one norm over the whole tensor
        }
        else if (v.Rank == 1)
        {
            sumOfSquares = squares; // a 1-D v with dim 0 has one element per slice: nothing to sum
        }
        else
        {
            // Every axis but dim, on the stack: the unfused layer calls this every step.
            Span<int> axes = stackalloc int[v.Rank - 1];
            for (int a = 0, k = 0; a < v.Rank; a++)
            {
                if (a != axis.Value)
                {
                    axes[k++] = a;
                }
            }
            sumOfSquares = squares.SumAxes(axes, keepDim: true);
        }
        return sumOfSquares.AddScalar(Epsilon).Sqrt();
    }

    /// <summary>
    /// The unfused reference: <c>w = g·v/‖v‖</c> (the paper's eq. 2) from ordinary tape ops, differentiable in both.
    /// The backward is whatever the tape's rules for pow, sum, sqrt, div, mul and reshape compose to; the fused
    /// <see cref="Linear(Tensor, Tensor, Tensor, Tensor?)"/> is tested against it.
    /// </summary>
    /// <param name="v">The direction, any rank ≥ 1, e.g. (out, in).</param>
    /// <param name="g">The scales: as many as slices along <paramref name="dim"/> (any shape with that count).</param>
    /// <param name="dim">The axis with one norm per slice; null for one norm over the whole tensor.</param>
    /// <returns>The weight, <paramref name="v"/>'s shape.</returns>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range, or <paramref name="g"/> has the wrong number of elements.</exception>
    public static Tensor Weight(Tensor v, Tensor g, int? dim = 0)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(g);
        Tensor norm = Norm(v, dim); // ‖v‖, (out, 1) for dim 0
        if (g.Count != norm.Count)
        {
            throw new ArgumentException(
                $"WeightNorm.Weight: v {v.ShapeText} with dim {Describe(dim)} has {norm.Count} slices, but g {g.ShapeText} has {g.Count} elements.");
        }
        // g usually has the norm's shape already ((out, 1) for a Linear weight): a reshape would only add an op.
        Tensor slices = Shapes.SameShape(g.ShapeArray, norm.ShapeArray) ? g : g.Reshape(norm.ShapeArray);
        Tensor scale = slices / norm;                     // s = g/‖v‖, one per slice
        return v * scale;                                 // w = s·v
    }

    // ---------------------------------------------------------------- the fused Linear op

    /// <summary>
    /// The weight-normalized linear map without building <c>w</c>: <c>u = x·Vᵀ</c>, then <c>y = u·diag(s) + b</c> with
    /// <c>s = g/‖v‖</c> (DESIGN.md "Fused forward"). Differentiable in all inputs, with the hand-written backward of
    /// DESIGN.md "Fused backward" (op label <c>weight_norm_linear</c>).
    /// </summary>
    /// <param name="input">(*, in): any number of leading axes, flattened into rows.</param>
    /// <param name="v">(out, in).</param>
    /// <param name="g">out scales (one norm per row of v, dim = 0; e.g. shape (out, 1)) or one (one norm over all of v, dim = null).</param>
    /// <param name="bias">(out), or null.</param>
    /// <returns>(*, out).</returns>
    /// <exception cref="ArgumentException">The shapes do not fit; the message names them.</exception>
    public static Tensor Linear(Tensor input, Tensor v, Tensor g, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(input);
        Span<int> shape = stackalloc int[input.Rank]; // (*, out)
        Layers.Linear.CheckOperands("WeightNorm.Linear", input, v, bias, shape, out int rows);
        int outF = v.Size(0), inF = v.Size(1);
        int groups = g.Count;
        if (groups != outF && groups != 1)
        {
            throw new ArgumentException(
                $"WeightNorm.Linear: g {g.ShapeText} has {groups} elements; expected {outF} (one per row of v {v.ShapeText}) or 1 (one norm over all of v).");
        }
        input = input.Contiguous();
        v = v.Contiguous();
        g = g.Contiguous();
        bias = bias?.Contiguous();
        Tape? tape = bias is null ? Tape.ForInputs(input, v, g) : Tape.ForInputs([input, v, g, bias]);
        Tensor result = Tensor.NewResult(tape, shape);

        // Row 0 of stats (2, out) first receives the squared row norms Σ_k v_jk², summed by the GEMM below while it
        // packs V (no pass over V of its own), then ‖v_j‖; row 1 the scales s_j = g_j/‖v_j‖. With a tape they are kept
        // for backward (tape-private, like u); without one they live in pooled memory.
        Tensor? stats = tape?.NewPrivate([2, outF]);
        float[] statsArray = stats?.Buffer ?? ArrayPool<float>.Shared.Rent(2 * outF);
        int statsOffset = stats?.Offset ?? 0;
        try
        {
            Span<float> norms = statsArray.AsSpan(statsOffset, outF), scale = statsArray.AsSpan(statsOffset + outF, outF);
            norms.Clear();

            // u = x·Vᵀ (rows, out): the plain GEMM, V read in place as the transposed operand. The backward needs u for
            // ∂g, so with a tape it gets its own buffer; without one it is computed in the output and scaled in place.
            Tensor u = tape is null ? result : tape.NewPrivate(shape);
            WeightNormKernels.Gemm(false, true, rows, outF, inF,
                input.Buffer, input.Offset, inF, v.Buffer, v.Offset, inF, 0f, u.Buffer, u.Offset, outF,
                new GemmEpilogue { ColumnSquaresOfB = statsArray, ColumnSquaresOfBOffset = statsOffset });
            if (rows == 0)
            {
                WeightNormKernels.SquaredRowNorms(v.AsSpan(), outF, inF, norms); // an empty batch packs nothing
            }
            WeightNormKernels.NormsAndScalesFromSquares(norms, g.AsSpan(), outF, groups, scale);
            // y = u·diag(s) + b: the GEMM epilogue's arithmetic, as its own pass because backward needs u unscaled.
            WeightNormKernels.ScaleBiasEpilogue(u.AsSpan(), result.AsSpan(), rows, outF, scale, bias is null ? default : bias.AsSpan());

            if (tape is not null)
            {
                TapeEntry entry = bias is null
                    ? tape.Record("weight_norm_linear", result, WeightNormLinearBackward, input, v, g)
                    : tape.Record("weight_norm_linear", result, WeightNormLinearBackward, [input, v, g, bias]);
                entry.Saved = u;
                entry.Saved2 = stats;
            }
        }
        finally
        {
            if (stats is null)
            {
                ArrayPool<float>.Shared.Return(statsArray);
            }
        }
        return result;
    }

    // weight_norm_linear, with δ = ∂L/∂y (rows, out) and the saved u = x·Vᵀ, ‖v_j‖ and s_j (DESIGN.md "Fused backward"):
    //   ∂b   += Σₙ δ_nj
    //   ∂g_j += Σₙ δ_nj·u_nj / ‖v_j‖                  (∂L/∂g = G·v/‖v‖ with G = δᵀx, since Σₙ δ_nj u_nj = v_j·(δᵀx)_j)
    //   δ'    = δ·diag(s)
    //   ∂x   += δ'·V                                  (NN GEMM)
    //   ∂V   += δ'ᵀx − diag(s_j·∂g_j/‖v_j‖)·V          (TN GEMM, then the correction row by row)
    // For dim = null (one group) ∂g is the sum of the per-row terms and every row shares ‖v‖ and s.
    private static void WeightNormLinearBackward(TapeEntry e, Tensor dy)
    {
        Tensor x = e.Input(0), v = e.Input(1), g = e.Input(2);
        Tensor u = e.Saved!, stats = e.Saved2!;
        int outF = v.Size(0), inF = v.Size(1), groups = g.Count;
        int rows = Shapes.Count(x.ShapeArray.AsSpan(0, x.Rank - 1));
        ReadOnlySpan<float> norms = stats.AsSpan()[..outF], scale = stats.AsSpan()[outF..];
        Tensor? sinkX = e.GradSink(0), sinkV = e.GradSink(1), sinkG = e.GradSink(2);
        Tensor? sinkB = e.InputCount > 3 ? e.GradSink(3) : null;
        bool needGradG = sinkV is not null || sinkG is not null; // ∂V's correction needs ∂g too

        float[] scaled = e.Tape.Rent(rows * outF); // δ' (rows, out)
        try
        {
            using Scratch dot = needGradG ? Scratch.RentZeroed(outF) : default; // Σₙ δ_nj u_nj (out)
            WeightNormKernels.BackwardColumnPass(dy.AsSpan(), u.AsSpan(), scale, rows, outF,
                sinkB is null ? default : sinkB.AsSpan(), dot.Span, scaled);

            if (needGradG)
            {
                // ∂g per group, then the correction coefficient s_j·∂g_j/‖v_j‖ per row (reusing dot's memory).
                using Scratch gradG = Scratch.Rent(groups); // (groups)
                int rowsPerGroup = outF / groups;
                for (int k = 0; k < groups; k++)
                {
                    double sum = 0;
                    for (int j = k * rowsPerGroup; j < (k + 1) * rowsPerGroup; j++)
                    {
                        sum += dot.Span[j];
                    }
                    gradG.Span[k] = (float)(sum / norms[k * rowsPerGroup]);
                }
                if (sinkG is not null)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(sinkG.AsSpan(), gradG.Span, sinkG.AsSpan());
                }
                if (sinkV is not null)
                {
                    WeightNormKernels.Gemm(true, false, outF, inF, rows,
                        scaled, 0, outF, x.Buffer, x.Offset, inF, 1f, sinkV.Buffer, sinkV.Offset, inF); // ∂V += δ'ᵀx
                    // The correction −diag(c)·V as a streaming pass of its own, split by rows across the cores (fused
                    // into the GEMM's tile stores it read V in scattered 64-byte pieces and measured slower: see
                    // docs/weight-normalization.md).
                    float[] negativeCoefficient = e.Tape.Rent(outF);
                    try
                    {
                        for (int j = 0; j < outF; j++)
                        {
                            negativeCoefficient[j] = -(scale[j] * gradG.Span[groups == 1 ? 0 : j] / norms[j]); // −c_j
                        }
                        RowPass.MultiplyAddRows(v.Buffer, v.Offset, negativeCoefficient, sinkV.Buffer, sinkV.Offset, outF, inF);
                    }
                    finally
                    {
                        e.Tape.Return(negativeCoefficient);
                    }
                }
            }
            if (sinkX is not null)
            {
                WeightNormKernels.Gemm(false, false, rows, inF, outF,
                    scaled, 0, outF, v.Buffer, v.Offset, inF, 1f, sinkX.Buffer, sinkX.Offset, inF); // ∂x += δ'·V
            }
        }
        finally
        {
            e.Tape.Return(scaled);
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>dim as a non-negative axis (null stays null: the whole tensor).</summary>
    /// <exception cref="ArgumentException">Out of range.</exception>
    internal static int? NormalizeDim(int? dim, int[] weightShape, string owner)
    {
        if (dim is null)
        {
            return null;
        }
        int rank = weightShape.Length;
        int axis = dim.Value < 0 ? dim.Value + rank : dim.Value;
        if (axis < 0 || axis >= rank)
        {
            throw new ArgumentException(
                $"{owner}: weight norm dim {dim} is out of range for a weight of shape {Shapes.Format(weightShape)}; " +
                $"expected {-rank}..{rank - 1}, or null for one norm over the whole tensor.");
        }
        return axis;
    }

    /// <summary>The shape of <c>g</c>: size 1 on every axis but <paramref name="axis"/> (PyTorch's); a scalar for null.</summary>
    internal static int[] GShape(int[] weightShape, int? axis)
    {
        if (axis is null)
        {
            return [];
        }
        int[] shape = new int[weightShape.Length];
        Array.Fill(shape, 1);
        shape[axis.Value] = weightShape[axis.Value];
        return shape;
    }

    internal static string Describe(int? dim) => dim?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null";
}
