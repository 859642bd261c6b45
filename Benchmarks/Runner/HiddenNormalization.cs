namespace NeuralCore.Benchmarks.Runner;

/// <summary>What a <see cref="Variant"/> puts after each hidden Linear or Conv2d, before its activation.</summary>
public enum HiddenNormalization
{
    /// <summary>Nothing: the layer's own bias.</summary>
    None,

    /// <summary>Batch normalization (mean and variance), with its learned scale and shift; the layer's bias is off.</summary>
    BatchNorm,

    /// <summary>The paper's mean-only batch normalization (§4), with its learned shift; the layer's bias is off.</summary>
    MeanOnlyBatchNorm,
}
