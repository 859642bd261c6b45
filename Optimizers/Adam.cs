using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) with bias correction, optional AMSGrad and L2 weight decay added to the gradient:
/// <c>torch.optim.Adam</c>, with the same semantics and defaults. For decoupled weight decay use <see cref="AdamW"/>.
/// </summary>
/// <remarks>
/// PyTorch's algorithm box (γ lr, β1, β2, ε, λ weight decay), per parameter θ with gradient g, at its step t ≥ 1:
/// <code>
/// g ← g + λθ;   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
/// θ ← θ − γ/(1 − β1ᵗ) · m / (√(v / (1 − β2ᵗ)) + ε)      (AMSGrad: v replaced by its running maximum)
/// </code>
/// The paper trained CIFAR-10 with Adam and lowered β1 from 0.9 to 0.5 halfway: see <see cref="Schedules.Scheduler.ForBeta1"/>.
/// Fused kernel: <see cref="AdamKernel"/>.
/// </remarks>
/// <example><code>
/// var adam = new Adam(parameters, learningRate: 1e-3);
/// </code></example>
public sealed class Adam : AdamBase
{
    /// <summary>Adam over one group of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to train (contiguous leaves, each at most once).</param>
    /// <param name="learningRate">γ, default 1e-3.</param>
    /// <param name="beta1">β1, in [0, 1), default 0.9.</param>
    /// <param name="beta2">β2, in [0, 1), default 0.999.</param>
    /// <param name="epsilon">ε, added to the denominator, default 1e-8.</param>
    /// <param name="weightDecay">λ (L2 penalty added to the gradient), default 0.</param>
    /// <param name="amsGrad">Use the running maximum of v (Reddi et al., 2018), default false.</param>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, or the parameters are empty or repeated.</exception>
    public Adam(
        IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool amsGrad = false)
        : this([new ParameterGroup(parameters)], learningRate, beta1, beta2, epsilon, weightDecay, amsGrad)
    {
    }

    /// <summary>Adam over several parameter groups; the arguments are the defaults for what a group leaves unset.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, a group sets momentum, or a parameter is in two groups.</exception>
    public Adam(
        IEnumerable<ParameterGroup> groups, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool amsGrad = false)
        : base("Adam", groups, learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: false)
    {
    }
}
