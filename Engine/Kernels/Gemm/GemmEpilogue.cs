namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Work <see cref="Gemm.Multiply"/> does on each tile of C while the tile is still in registers, after
/// <c>alpha</c> and <c>beta</c>: <c>c[i, j] = act(c[i, j] · scale[j] + bias[j])</c>. Fusing it saves a second pass over
/// C; the weight-normalized Linear layer uses the scale for <c>g / ‖v‖</c> (see DESIGN.md, "Fused forward").
/// </summary>
/// <remarks>
/// <c>default(GemmEpilogue)</c> does nothing. Each array is optional and is read from its offset for <c>n</c> elements,
/// one per column of C. Only the last slice of the sum applies the epilogue, so it sees the finished product.
/// </remarks>
public readonly struct GemmEpilogue
{
    /// <summary>Per-column factors, (n) from <see cref="ColumnScaleOffset"/>; null for none.</summary>
    public float[]? ColumnScale { get; init; }

    /// <summary>Where column 0's factor sits in <see cref="ColumnScale"/>.</summary>
    public int ColumnScaleOffset { get; init; }

    /// <summary>Per-column terms added after the scale, (n) from <see cref="ColumnBiasOffset"/>; null for none.</summary>
    public float[]? ColumnBias { get; init; }

    /// <summary>Where column 0's term sits in <see cref="ColumnBias"/>.</summary>
    public int ColumnBiasOffset { get; init; }

    /// <summary>The activation applied last.</summary>
    public GemmActivation Activation { get; init; }

    /// <summary>True when the epilogue changes nothing (the default value).</summary>
    public bool IsIdentity => ColumnScale is null && ColumnBias is null && Activation == GemmActivation.None;
}
