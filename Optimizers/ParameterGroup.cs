using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>
/// A set of parameters that share hyperparameters, like one entry of PyTorch's <c>optimizer.param_groups</c>:
/// e.g. the weight-norm magnitudes <c>g</c> at their own learning rate, or biases without weight decay.
/// </summary>
/// <remarks>
/// A hyperparameter left <see langword="null"/> takes the optimizer's default when the optimizer adopts the group
/// (PyTorch's <c>setdefault</c>); from then on every hyperparameter the optimizer uses has a value, and setting one
/// between steps (by hand or through a <see cref="Schedules.Scheduler"/>) takes effect at the next
/// <see cref="Optimizer.Step"/>, which validates it. Setting a hyperparameter the optimizer does not use (a beta on
/// <see cref="Sgd"/>) is an error at construction.
/// </remarks>
/// <example><code>
/// var adam = new Adam([new ParameterGroup(magnitudes) { LearningRate = 3e-3 }, new ParameterGroup(rest)], learningRate: 1e-3);
/// </code></example>
public sealed class ParameterGroup
{
    private readonly Tensor[] _parameters;

    /// <summary>A group of <paramref name="parameters"/> (leaf tensors), with no hyperparameter set yet.</summary>
    /// <param name="parameters">The tensors to update; each must be a contiguous leaf.</param>
    /// <param name="name">A label used in error messages and by <see cref="ParameterRoles"/> (e.g. <c>"magnitude"</c>).</param>
    public ParameterGroup(IEnumerable<Tensor> parameters, string name = "")
    {
        _parameters = [.. parameters];
        Name = name;
    }

    /// <summary>A label for messages; empty unless given.</summary>
    public string Name { get; }

    /// <summary>The parameters, in the order the state dict numbers them.</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>The learning rate, or null for the optimizer's default.</summary>
    public double? LearningRate { get; set; }

    /// <summary>The weight decay, or null for the optimizer's default.</summary>
    public double? WeightDecay { get; set; }

    /// <summary>β1 of the Adam family, or null for the optimizer's default.</summary>
    public double? Beta1 { get; set; }

    /// <summary>β2 of the Adam family, or null for the optimizer's default.</summary>
    public double? Beta2 { get; set; }

    /// <summary>The momentum of SGD or RMSprop, or null for the optimizer's default.</summary>
    public double? Momentum { get; set; }

    /// <summary>The array itself, so the step loop indexes it without an enumerator allocation.</summary>
    internal Tensor[] ParameterArray => _parameters;

    /// <summary>The value of one hyperparameter (null if unset).</summary>
    public double? Get(Hyperparameter hyperparameter) => hyperparameter switch
    {
        Hyperparameter.LearningRate => LearningRate,
        Hyperparameter.WeightDecay => WeightDecay,
        Hyperparameter.Beta1 => Beta1,
        Hyperparameter.Beta2 => Beta2,
        Hyperparameter.Momentum => Momentum,
        _ => throw new ArgumentException($"ParameterGroup: unknown hyperparameter {hyperparameter}.", nameof(hyperparameter)),
    };

    /// <summary>Sets one hyperparameter (null to unset it).</summary>
    public void Set(Hyperparameter hyperparameter, double? value)
    {
        switch (hyperparameter)
        {
            case Hyperparameter.LearningRate: LearningRate = value; break;
            case Hyperparameter.WeightDecay: WeightDecay = value; break;
            case Hyperparameter.Beta1: Beta1 = value; break;
            case Hyperparameter.Beta2: Beta2 = value; break;
            case Hyperparameter.Momentum: Momentum = value; break;
            default: throw new ArgumentException($"ParameterGroup: unknown hyperparameter {hyperparameter}.", nameof(hyperparameter));
        }
    }
}
