using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// RMSprop (Hinton's lecture 6e), optionally centered (Graves, 2013) and with momentum: <c>torch.optim.RMSprop</c>,
/// with the same semantics and defaults.
/// </summary>
/// <remarks>
/// PyTorch's algorithm box (γ lr, α smoothing, ε, λ weight decay, μ momentum):
/// <code>
/// g ← g + λθ;   s ← α·s + (1 − α)·g²;   centered: ḡ ← α·ḡ + (1 − α)·g, s̃ = s − ḡ², else s̃ = s
/// μ &gt; 0: b ← μ·b + g/(√s̃ + ε), θ ← θ − γ·b;   μ = 0: θ ← θ − γ·g/(√s̃ + ε)
/// </code>
/// Note that ε is added after the square root, and that there is no bias correction. Fused kernel: <see cref="RmsPropKernel"/>.
/// </remarks>
/// <example><code>
/// var rmsprop = new RmsProp(parameters, learningRate: 1e-3, centered: true);
/// </code></example>
public sealed class RmsProp : Optimizer
{
    private const int SquareAvg = 0, MomentumBuffer = 1, GradAvg = 2;

    /// <summary>RMSprop over one group of <paramref name="parameters"/>.</summary>
    /// <param name="parameters">The tensors to train (contiguous leaves, each at most once).</param>
    /// <param name="learningRate">γ, default 1e-2.</param>
    /// <param name="alpha">α, the smoothing constant of the squared average, in [0, 1], default 0.99.</param>
    /// <param name="epsilon">ε, added to the root, default 1e-8.</param>
    /// <param name="weightDecay">λ (L2 penalty added to the gradient), default 0.</param>
    /// <param name="momentum">μ, default 0.</param>
    /// <param name="centered">Divide by an estimate of the variance instead of the raw second moment, default false.</param>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, or the parameters are empty or repeated.</exception>
    public RmsProp(
        IEnumerable<Tensor> parameters, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double weightDecay = 0,
        double momentum = 0, bool centered = false)
        : this([new ParameterGroup(parameters)], learningRate, alpha, epsilon, weightDecay, momentum, centered)
    {
    }

    /// <summary>RMSprop over several parameter groups; the arguments are the defaults for what a group leaves unset.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is out of range, a group sets a beta, or a parameter is in two groups.</exception>
    public RmsProp(
        IEnumerable<ParameterGroup> groups, double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double weightDecay = 0,
        double momentum = 0, bool centered = false)
        : base("RmsProp", groups,
            [(Hyperparameter.LearningRate, learningRate), (Hyperparameter.Momentum, momentum), (Hyperparameter.WeightDecay, weightDecay)],
            ["square_avg", "momentum_buffer", "grad_avg"])
    {
        Alpha = alpha;
        Epsilon = epsilon;
        Centered = centered;
        Validate();
    }

    /// <summary>α, the smoothing constant of the squared-gradient average.</summary>
    public double Alpha { get; set; }

    /// <summary>ε, added to the root of the average.</summary>
    public double Epsilon { get; set; }

    /// <summary>Whether the denominator uses the variance (subtracting the squared mean gradient).</summary>
    public bool Centered { get; set; }

    private protected override void ValidateSettings()
    {
        Check.UnitInterval(Name, "alpha", Alpha);
        Check.NonNegative(Name, "eps", Epsilon);
    }

    private protected override void Update(ParameterGroup group, ParameterState state, Tensor parameter, ReadOnlySpan<float> gradient)
    {
        var c = new RmsPropKernel.Coefficients(
            Value(group, Hyperparameter.LearningRate), Alpha, Epsilon, Value(group, Hyperparameter.WeightDecay),
            Value(group, Hyperparameter.Momentum), Centered);
        RmsPropKernel.Step(
            parameter.AsSpan(), gradient, state.Buffer(SquareAvg, parameter),
            c.Centered ? state.Buffer(GradAvg, parameter) : [],
            c.UseMomentum ? state.Buffer(MomentumBuffer, parameter) : [], c);
    }

    private protected override void WriteSettings(TrainingState state)
    {
        state.Scalars["alpha"] = Alpha;
        state.Scalars["eps"] = Epsilon;
        state.Scalars["centered"] = Centered ? 1 : 0;
    }

    private protected override void ReadSettings(TrainingState state, bool apply)
    {
        double alpha = state.Scalar("alpha", Name);
        double epsilon = state.Scalar("eps", Name);
        bool centered = ReadFlag(state, "centered");
        Check.UnitInterval(Name, "alpha", alpha);
        Check.NonNegative(Name, "eps", epsilon);
        if (apply)
        {
            Alpha = alpha;
            Epsilon = epsilon;
            Centered = centered;
        }
    }

    private protected override bool IsSettingKey(string key) => key is "alpha" or "eps" or "centered";
}
