namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Work <see cref="Gemm.Multiply"/> does on each tile of C while the tile is still in registers, after
/// <c>alpha</c> and <c>beta</c>: <c>c[i, j] = act(c[i, j] · scale[j] + bias[j])</c>. Fusing it saves a second pass over
/// C; the weight-normalized Linear layer can use the scale for <c>g / ‖v‖</c> (see DESIGN.md, "Fused forward").
/// </summary>
/// <remarks>
/// <c>default(GemmEpilogue)</c> does nothing. Each array is optional and is read from its offset for <c>n</c> elements,
/// one per column of C. Only the last slice of the sum applies the epilogue, so it sees the finished product.
/// <para>
/// It also carries the one by-product of the GEMM, <see cref="ColumnSquaresOfB"/>: the squared column norms of op(B),
/// summed while B is packed. The weight-normalized layers read their <c>‖v_j‖</c> from it instead of making another
/// pass over V (op(B) = Vᵀ in <c>u = x·Vᵀ</c>).
/// </para>
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

    /// <summary>
    /// When set, <c>Σ_p op(B)[p, j]²</c> is added to element <see cref="ColumnSquaresOfBOffset"/> + j for each of the n
    /// columns, computed from the packed copy of B while it is in L1 (the caller zeroes the array first). Each column
    /// is summed in the same order whatever the thread count. Left untouched when k = 0 or alpha = 0 (nothing is
    /// packed). Must be a different array from A, B, C and the other epilogue arrays.
    /// </summary>
    public float[]? ColumnSquaresOfB { get; init; }

    /// <summary>Where column 0's sum sits in <see cref="ColumnSquaresOfB"/>.</summary>
    public int ColumnSquaresOfBOffset { get; init; }

    /// <summary>The activation applied last.</summary>
    public GemmActivation Activation { get; init; }

    /// <summary>True when the epilogue changes nothing (the default value).</summary>
    public bool IsIdentity => ColumnScale is null && ColumnBias is null && Activation == GemmActivation.None;
}
