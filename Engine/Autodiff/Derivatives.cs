namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// Every differentiable op's label and its backward rule, in one table (as PyTorch's <c>derivatives.yaml</c>).
/// The code of each rule sits right below its op's forward (search for the label); this table is where a
/// reader looks them all up, and the tests fail when an op recorded on the tape is missing here or has no
/// gradient check.
/// </summary>
/// <remarks>
/// Notation: <c>y</c> is the op's result, <c>∂y</c> the incoming gradient ∂L/∂y, <c>∂x</c> the gradient sent to
/// input <c>x</c>. Gradients are accumulated (+=); an input that was broadcast receives the sum over the
/// broadcast axes (<see cref="TapeEntry"/>.AccumulateGrad, the one place where broadcasting is undone).
/// </remarks>
public static class Derivatives
{
    /// <summary>All rules, by op label.</summary>
    public static IReadOnlyList<Derivative> All { get; } =
    [
        // Arithmetic (Tensor.Arithmetic.cs)
        new("add", "∂a += ∂y; ∂b += ∂y"),
        new("sub", "∂a += ∂y; ∂b −= ∂y"),
        new("mul", "∂a += ∂y·b; ∂b += ∂y·a"),
        new("div", "∂a += ∂y/b; ∂b −= ∂y·y/b"),
        new("add_scalar", "∂x += ∂y"),
        new("mul_scalar", "∂x += s·∂y"),
        new("neg", "∂x −= ∂y"),
        new("exp", "∂x += ∂y·y"),

        // Elementwise math and activations (Tensor.Elementwise.cs)
        new("log", "∂x += ∂y/x"),
        new("sqrt", "∂x += ∂y/(2y)"),
        new("abs", "∂x += ∂y·sign(x)   (0 at x = 0)"),
        new("pow", "∂x += ∂y·p·x^(p−1)   (scalar exponent p; 0 when p = 0)"),
        new("pow_tensor", "∂a += ∂y·b·a^(b−1); ∂b += ∂y·y·ln a"),
        new("clamp", "∂x += ∂y where low ≤ x ≤ high, else 0"),
        new("maximum", "∂a += ∂y where a > b (half each where a = b); ∂b likewise"),
        new("minimum", "∂a += ∂y where a < b (half each where a = b); ∂b likewise"),
        new("relu", "∂x += ∂y where x > 0"),
        new("leaky_relu", "∂x += ∂y where x > 0, slope·∂y elsewhere"),
        new("elu", "∂x += ∂y where x > 0, ∂y·α·eˣ (= ∂y·(y + α)) elsewhere"),
        new("sigmoid", "∂x += ∂y·y·(1 − y)"),
        new("tanh", "∂x += ∂y·(1 − y²)"),
        new("softplus", "∂x += ∂y·sigmoid(βx); ∂y where βx > threshold"),

        // Reductions, softmax, losses (Tensor.Reductions.cs, Tensor.Softmax.cs, Losses.cs)
        new("sum", "∂x += ∂y broadcast over the reduced axes"),
        new("mean", "∂x += ∂y/n broadcast over the reduced axes (n = elements per output)"),
        new("max", "∂x += ∂y where x equals the max, shared evenly between ties"),
        new("var", "∂x += ∂y·2(x − mean)/(n − correction)"),
        new("softmax", "∂x += y·(∂y − Σ ∂y·y) along the axis"),
        new("log_softmax", "∂x += ∂y − softmax(x)·Σ ∂y along the axis"),
        new("cross_entropy", "∂logits += (softmax(logits) − onehot(label))·∂y/N   (mean over N rows)"),
        new("mse_loss", "∂a += 2(a − b)·∂y/n; ∂b −= the same"),

        // Matrix products (Tensor.Matmul.cs)
        new("matmul", "∂A += ∂C·Bᵀ; ∂B += Aᵀ·∂C   (batched: per batch, summed over broadcast batch axes)"),

        // Views and copies (Tensor.Views.cs, Tensor.Joins.cs, Tensor.Indexing.cs)
        new("contiguous", "∂x += ∂y"),
        new("reshape", "∂x += ∂y reshaped to x's shape"),
        new("transpose", "∂x += ∂y with the two axes swapped back"),
        new("permute", "∂x += ∂y permuted by the inverse permutation"),
        new("squeeze", "∂x += ∂y with the size-1 axes put back"),
        new("unsqueeze", "∂x += ∂y with the inserted axis removed"),
        new("slice", "∂x[slice] += ∂y; 0 elsewhere"),
        new("expand", "∂x += ∂y summed over the expanded axes"),
        new("concat", "∂xᵢ += the part of ∂y that came from xᵢ"),
        new("stack", "∂xᵢ += ∂y[i] along the new axis"),
        new("gather", "∂x[index[j]] += ∂y[j] along the axis (scatter-add)"),
        new("index_select", "∂x[index[j]] += ∂y[j] along the axis (scatter-add)"),

        // Convolution and pooling (Tensor.Convolution.cs, Tensor.Pooling.cs)
        new("conv2d", "per image n, with cols = im2col(x[n]): ∂W += ∂y[n]·colsᵀ; ∂x[n] += col2im(Wᵀ·∂y[n]); ∂b += Σ ∂y over N, Ho, Wo"),
        new("max_pool2d", "∂x[argmax] += ∂y   (the saved index of each window's maximum)"),
        new("avg_pool2d", "∂x += ∂y/(kh·kw) on each window's in-bounds elements   (padding counts in the divisor)"),
        new("global_avg_pool2d", "∂x[n, c, :, :] += ∂y[n, c]/(H·W)"),

        // Normalization layers' fused ops (Layers/Normalization.cs); x̂ = (x − μ)/σ, means and sums over the batch axes (N, *)
        new("batch_norm", "∂x += (γ/σ)(∂y − mean(∂y) − x̂·mean(∂y·x̂)); ∂γ += Σ ∂y·x̂; ∂β += Σ ∂y"),
        new("mean_only_batch_norm", "∂x += ∂y − mean(∂y); ∂b += Σ ∂y"),

        // Linear and weight normalization (Layers/Linear.cs, Layers/WeightNorm.cs; docs/weight-normalization.md)
        new("linear", "∂x += ∂y·W; ∂W += ∂yᵀ·x; ∂b += Σₙ ∂y   (y = x·Wᵀ + b, leading axes of x flattened into rows n)"),
        new("weight_norm_linear", "s = g/‖v‖, u = x·Vᵀ saved: ∂b += Σₙ δ; ∂g_j += Σₙ δ_nj·u_nj/‖v_j‖; δ' = δ·diag(s); ∂x += δ'·V; " +
            "∂V += δ'ᵀx − diag(s_j·∂g_j/‖v_j‖)·V   (‖v‖ = √(Σv² + ε); dim = null: one g, ∂g summed over rows)"),

        // Weight-normalized convolution (Layers/Conv2d.cs; docs/weight-normalization.md section 4), one unit per output channel o
        new("weight_norm_conv2d", "s_o = g_o/‖v_o‖ (norm over C·kh·kw), w = diag(s)·V saved, y = conv(x, w) + b: ∂b, ∂x from the plain " +
            "conv backward with w; G = conv_backward_weight(δ, x); ∂g_o += G_o·v_o/‖v_o‖; " +
            "∂V_o += s_o·G_o − (s_o·∂g_o/‖v_o‖)·v_o   (dim = null: one g, ∂g summed over channels)"),
    ];

    /// <summary>The rule for the op labelled <paramref name="op"/>, or null if it has none.</summary>
    public static Derivative? Find(string op)
    {
        foreach (Derivative derivative in All)
        {
            if (derivative.Op == op)
            {
                return derivative;
            }
        }
        return null;
    }
}
