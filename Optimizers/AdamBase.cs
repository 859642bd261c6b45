using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// What <see cref="Adam"/> and <see cref="AdamW"/> share: the moments, ε, AMSGrad, the settings in the state
/// dictionary and the fused <see cref="AdamKernel"/> step. They differ only in where weight decay acts: added to the
/// gradient (Adam, L2) or applied to the parameters directly (AdamW, decoupled).
/// </summary>
public abstract class AdamBase : Optimizer
{
    private const int ExpAvg = 0, ExpAvgSq = 1, MaxExpAvgSq = 2;

    private readonly bool _decoupledWeightDecay;

    private protected AdamBase(
        string name, IEnumerable<ParameterGroup> groups, double learningRate, double beta1, double beta2, double epsilon,
        double weightDecay, bool amsGrad, bool decoupledWeightDecay)
        : base(name, groups,
            [(Hyperparameter.LearningRate, learningRate), (Hyperparameter.Beta1, beta1), (Hyperparameter.Beta2, beta2), (Hyperparameter.WeightDecay, weightDecay)],
            ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"])
    {
        _decoupledWeightDecay = decoupledWeightDecay;
        Epsilon = epsilon;
        AmsGrad = amsGrad;
        Validate();
    }

    /// <summary>ε, the term that keeps the denominator away from zero.</summary>
    public double Epsilon { get; set; }

    /// <summary>Whether to divide by the running maximum of the second moment (AMSGrad).</summary>
    public bool AmsGrad { get; set; }

    private protected override void ValidateSettings() => Check.NonNegative(Name, "eps", Epsilon);

    private protected override void Update(ParameterGroup group, ParameterState state, Tensor parameter, ReadOnlySpan<float> gradient)
    {
        var c = new AdamKernel.Coefficients(
            Value(group, Hyperparameter.LearningRate), Value(group, Hyperparameter.Beta1), Value(group, Hyperparameter.Beta2), Epsilon,
            Value(group, Hyperparameter.WeightDecay), decoupledWeightDecay: _decoupledWeightDecay, state.Step);
        AdamKernel.Step(
            parameter.AsSpan(), gradient, state.Buffer(ExpAvg, parameter), state.Buffer(ExpAvgSq, parameter),
            AmsGrad ? state.Buffer(MaxExpAvgSq, parameter) : [], AmsGrad, c);
    }

    private protected override void WriteSettings(TrainingState state)
    {
        state.Scalars["eps"] = Epsilon;
        state.Scalars["amsgrad"] = AmsGrad ? 1 : 0;
    }

    private protected override void ReadSettings(TrainingState state, bool apply)
    {
        double epsilon = state.Scalar("eps", Name);
        bool amsGrad = ReadFlag(state, "amsgrad");
        Check.NonNegative(Name, "eps", epsilon);
        if (apply)
        {
            Epsilon = epsilon;
            AmsGrad = amsGrad;
        }
    }

    private protected override bool IsSettingKey(string key) => key is "eps" or "amsgrad";
}
