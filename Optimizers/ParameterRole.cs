namespace NeuralCore.Optimizers;

/// <summary>What a parameter is for, as <see cref="ParameterRoles.Classify"/> reads it from its name.</summary>
public enum ParameterRole
{
    /// <summary>Anything else: plain weights (<c>fc.weight</c>), embeddings.</summary>
    Other,

    /// <summary>A weight-norm magnitude g (<c>*weight_g</c>, <c>*.parametrizations.weight.original0</c>).</summary>
    Magnitude,

    /// <summary>A weight-norm direction v (<c>*weight_v</c>, <c>*.parametrizations.weight.original1</c>).</summary>
    Direction,

    /// <summary>A bias (<c>*bias</c>) outside a normalization layer.</summary>
    Bias,

    /// <summary>A parameter of a normalization layer (its gain and bias, e.g. <c>bn1.weight</c>, <c>bn1.bias</c>).</summary>
    Normalization,
}
