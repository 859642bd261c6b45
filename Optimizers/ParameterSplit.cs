using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>A model's parameters sorted by <see cref="ParameterRole"/>, each list in the model's order.</summary>
public sealed class ParameterSplit
{
    private readonly List<Tensor>[] _byRole;

    internal ParameterSplit(List<Tensor>[] byRole) => _byRole = byRole;

    /// <summary>Weight-norm magnitudes g.</summary>
    public IReadOnlyList<Tensor> Magnitudes => Of(ParameterRole.Magnitude);

    /// <summary>Weight-norm directions v.</summary>
    public IReadOnlyList<Tensor> Directions => Of(ParameterRole.Direction);

    /// <summary>Biases outside normalization layers.</summary>
    public IReadOnlyList<Tensor> Biases => Of(ParameterRole.Bias);

    /// <summary>Parameters of normalization layers.</summary>
    public IReadOnlyList<Tensor> Normalization => Of(ParameterRole.Normalization);

    /// <summary>Everything else (plain weights).</summary>
    public IReadOnlyList<Tensor> Others => Of(ParameterRole.Other);

    /// <summary>The parameters of one role.</summary>
    public IReadOnlyList<Tensor> Of(ParameterRole role) => _byRole[(int)role];
}
