using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// Adamax (Kingma &amp; Ba, 2015, §7.1): Adam with the infinity norm in place of the second moment:
/// <c>torch.optim.Adamax</c>, with the same semantics and defaults. The paper trained its VAE with Adamax and Polyak
/// averaging (see <see cref="ExponentialMovingAverage"/>).
/// </summary>
/// <remarks>
/// PyTorch's algorithm box (γ lr, β1, β2, ε, λ weight decay), at step t ≥ 1:
/// <code>
/// g ← g + λθ;   m ← β1·m + (1 − β1)·g;   u ← max(β2·u, |g| + ε);   θ ← θ − γ/(1 − β1ᵗ) · m / u
/// </code>
/// Fused kernel: <see cref="AdamaxKernel"/>.
/// </remarks>
/// <example><code>
/// var adamax = new Adamax(parameters, learningRate: 2e-3);
/// </code></example>
public sealed class Adamax : Optimizer
{
    private const int ExpAvg = 0, ExpInf = 1;

    /// <summary>Adamax over one group of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to train (contiguous leaves, each at most once).</param>
    /// <param name="learningRate">γ, default 2e-3.</param>
    /// <param name="beta1">β1, in [0, 1), default 0.9.</param>
    /// <param name="beta2">β2, in [0, 1), default 0.999.</param>
    /// <param name="epsilon">ε, the floor of u, default 1e-8.</param>
    /// <param name="weightDecay">λ (L2 penalty added to the gradient), default 0.</param>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, or the parameters are empty or repeated.</exception>
    public Adamax(
        IEnumerable<Tensor> parameters, double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : this([new ParameterGroup(parameters)], learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }

    /// <summary>Adamax over several parameter groups; the arguments are the defaults for what a group leaves unset.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, a group sets momentum, or a parameter is in two groups.</exception>
    public Adamax(
        IEnumerable<ParameterGroup> groups, double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base("Adamax", groups,
            [(Hyperparameter.LearningRate, learningRate), (Hyperparameter.Beta1, beta1), (Hyperparameter.Beta2, beta2), (Hyperparameter.WeightDecay, weightDecay)],
            ["exp_avg", "exp_inf"])
    {
        Epsilon = epsilon;
        Validate();
    }

    /// <summary>ε, the floor of the infinity-norm average.</summary>
    public double Epsilon { get; set; }

    private protected override void ValidateSettings() => Check.NonNegative(Name, "eps", Epsilon);

    private protected override void Update(ParameterGroup group, ParameterState state, Tensor parameter, ReadOnlySpan<float> gradient)
    {
        var c = new AdamaxKernel.Coefficients(
            Value(group, Hyperparameter.LearningRate), Value(group, Hyperparameter.Beta1), Value(group, Hyperparameter.Beta2), Epsilon,
            Value(group, Hyperparameter.WeightDecay), state.Step);
        AdamaxKernel.Step(parameter.AsSpan(), gradient, state.Buffer(ExpAvg, parameter), state.Buffer(ExpInf, parameter), c);
    }

    private protected override void WriteSettings(TrainingState state) => state.Scalars["eps"] = Epsilon;

    private protected override void ReadSettings(TrainingState state, bool apply)
    {
        double epsilon = state.Scalar("eps", Name);
        Check.NonNegative(Name, "eps", epsilon);
        if (apply)
        {
            Epsilon = epsilon;
        }
    }

    private protected override bool IsSettingKey(string key) => key is "eps";
}
