using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay:
/// <c>torch.optim.SGD</c>, with the same semantics and defaults.
/// </summary>
/// <remarks>
/// PyTorch's algorithm box (γ lr, μ momentum, τ dampening, λ weight decay), per parameter θ with gradient g:
/// <code>
/// g ← g + λθ;   b ← g at the first step, else b ← μb + (1 − τ)g;   g ← g + μb (Nesterov) or g ← b;   θ ← θ − γg
/// </code>
/// Momentum is PyTorch's form (the buffer accumulates gradients, the learning rate scales the step), not
/// Sutskever's (where the buffer holds velocities). Fused kernel: <see cref="SgdKernel"/>.
/// </remarks>
/// <example><code>
/// var sgd = new Sgd(parameters, learningRate: 0.1, momentum: 0.9, nesterov: true);
/// </code></example>
public sealed class Sgd : Optimizer
{
    private const int MomentumBuffer = 0;

    /// <summary>SGD over one group of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to train (contiguous leaves, each at most once).</param>
    /// <param name="learningRate">γ; PyTorch requires it too (no default).</param>
    /// <param name="momentum">μ, default 0 (plain SGD).</param>
    /// <param name="dampening">τ, default 0.</param>
    /// <param name="weightDecay">λ (L2 penalty added to the gradient), default 0.</param>
    /// <param name="nesterov">Nesterov momentum (needs μ &gt; 0 and τ = 0), default false.</param>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, or the parameters are empty or repeated.</exception>
    public Sgd(IEnumerable<Tensor> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : this([new ParameterGroup(parameters)], learningRate, momentum, dampening, weightDecay, nesterov)
    {
    }

    /// <summary>SGD over several parameter groups; the arguments are the defaults for what a group leaves unset.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, a group sets a beta, or a parameter is in two groups.</exception>
    public Sgd(IEnumerable<ParameterGroup> groups, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base("Sgd", groups,
            [(Hyperparameter.LearningRate, learningRate), (Hyperparameter.Momentum, momentum), (Hyperparameter.WeightDecay, weightDecay)],
            ["momentum_buffer"])
    {
        Dampening = dampening;
        Nesterov = nesterov;
        Validate();
    }

    /// <summary>τ, the fraction of each gradient the momentum buffer ignores; in [0, 1].</summary>
    public double Dampening { get; set; }

    /// <summary>Whether the step uses the Nesterov look-ahead <c>g + μb</c>.</summary>
    public bool Nesterov { get; set; }

    private protected override void ValidateSettings() => Check.UnitInterval(Name, "dampening", Dampening);

    private protected override void ValidateGroup(ParameterGroup group, int index)
    {
        base.ValidateGroup(group, index);
        if (Nesterov && (Value(group, Hyperparameter.Momentum) <= 0 || Dampening != 0))
        {
            throw new ArgumentException(
                $"{Name}: nesterov = true needs momentum > 0 and dampening = 0, got momentum = {Check.Format(Value(group, Hyperparameter.Momentum))}{Where(index)}, dampening = {Check.Format(Dampening)}.");
        }
    }

    private protected override void Update(ParameterGroup group, ParameterState state, Tensor parameter, ReadOnlySpan<float> gradient)
    {
        double learningRate = Value(group, Hyperparameter.LearningRate);
        double momentum = Value(group, Hyperparameter.Momentum);
        double weightDecay = Value(group, Hyperparameter.WeightDecay);
        if (momentum == 0)
        {
            SgdKernel.StepWithoutMomentum(parameter.AsSpan(), gradient, new SgdKernel.Coefficients(learningRate, 0, Dampening, weightDecay, false, false));
            return;
        }
        // PyTorch starts the buffer as a copy of the first gradient: a fresh (zero) buffer and a "first step" flag do the same.
        bool firstStep = !state.HasBuffer(MomentumBuffer);
        var c = new SgdKernel.Coefficients(learningRate, momentum, Dampening, weightDecay, Nesterov, firstStep);
        SgdKernel.Step(parameter.AsSpan(), gradient, state.Buffer(MomentumBuffer, parameter), c);
    }

    private protected override void WriteSettings(TrainingState state)
    {
        state.Scalars["dampening"] = Dampening;
        state.Scalars["nesterov"] = Nesterov ? 1 : 0;
    }

    private protected override void ReadSettings(TrainingState state, bool apply)
    {
        double dampening = state.Scalar("dampening", Name);
        bool nesterov = ReadFlag(state, "nesterov");
        Check.UnitInterval(Name, "dampening", dampening);
        if (apply)
        {
            Dampening = dampening;
            Nesterov = nesterov;
        }
    }

    private protected override bool IsSettingKey(string key) => key is "dampening" or "nesterov";
}
