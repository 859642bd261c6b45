using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter, 2019): Adam whose weight decay shrinks the parameters directly instead of being
/// added to the gradient, so it is not rescaled by the adaptive denominator: <c>torch.optim.AdamW</c>, with the same
/// semantics and defaults (weight decay 1e-2).
/// </summary>
/// <remarks>
/// PyTorch's algorithm box: <c>θ ← θ·(1 − γλ)</c>, then Adam's update without the L2 term. The fused kernel is
/// <see cref="AdamKernel"/>, which does both in the same pass.
/// </remarks>
/// <example><code>
/// var adamw = new AdamW(ParameterRoles.ExemptFromWeightDecay(model.NamedParameters()), learningRate: 1e-3, weightDecay: 0.05);
/// </code></example>
public sealed class AdamW : AdamBase
{
    /// <summary>AdamW over one group of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to train (contiguous leaves, each at most once).</param>
    /// <param name="learningRate">γ, default 1e-3.</param>
    /// <param name="beta1">β1, in [0, 1), default 0.9.</param>
    /// <param name="beta2">β2, in [0, 1), default 0.999.</param>
    /// <param name="epsilon">ε, added to the denominator, default 1e-8.</param>
    /// <param name="weightDecay">λ (decoupled: θ shrinks by the factor 1 − γλ each step), default 1e-2.</param>
    /// <param name="amsGrad">Use the running maximum of v (Reddi et al., 2018), default false.</param>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, or the parameters are empty or repeated.</exception>
    public AdamW(
        IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 1e-2, bool amsGrad = false)
        : this([new ParameterGroup(parameters)], learningRate, beta1, beta2, epsilon, weightDecay, amsGrad)
    {
    }

    /// <summary>AdamW over several parameter groups; the arguments are the defaults for what a group leaves unset.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, a group sets momentum, or a parameter is in two groups.</exception>
    public AdamW(
        IEnumerable<ParameterGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 1e-2, bool amsGrad = false)
        : base("AdamW", groups, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: true)
    {
    }
}
