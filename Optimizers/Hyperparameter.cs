namespace NeuralCore.Optimizers;

/// <summary>
/// The hyperparameters a <see cref="ParameterGroup"/> may set for itself, and a <see cref="Schedules.Scheduler"/>
/// may change between steps. Each optimizer uses a subset (SGD has no betas, Adam no momentum).
/// </summary>
public enum Hyperparameter
{
    /// <summary>The step size, <c>lr</c> in PyTorch.</summary>
    LearningRate,

    /// <summary>L2 penalty (SGD, Adam, Adamax, RMSprop) or decoupled decay (AdamW), <c>weight_decay</c>.</summary>
    WeightDecay,

    /// <summary>Decay rate of the first-moment average (Adam family), <c>betas[0]</c>.</summary>
    Beta1,

    /// <summary>Decay rate of the second-moment (or infinity-norm) average (Adam family), <c>betas[1]</c>.</summary>
    Beta2,

    /// <summary>Momentum factor (SGD, RMSprop), <c>momentum</c>.</summary>
    Momentum,
}
