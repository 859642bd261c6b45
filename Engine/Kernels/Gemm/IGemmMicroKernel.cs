namespace NeuralCore.Engine.Kernels;

/// <summary>
/// A register-blocked micro-kernel: it multiplies one packed MR×KC sliver of A by one packed KC×NR sliver of B,
/// keeping the whole MR×NR tile of C in registers for the length of the sum, and stores it through a
/// <see cref="GemmTileStore"/>. Its cache-blocking sizes travel with it because they depend on MR and NR.
/// </summary>
/// <remarks>
/// Static abstract members plus a <c>struct</c> constraint on <see cref="GemmDriver"/> make the JIT compile one
/// driver per kernel with MR, NR, MC, KC and NC as constants, and inline nothing virtual.
/// </remarks>
internal interface IGemmMicroKernel
{
    /// <summary>Rows of the C tile (the height of a packed A sliver).</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the C tile (the width of a packed B sliver).</summary>
    static abstract int Nr { get; }

    /// <summary>Rows of A packed at once (loop 3); a multiple of <see cref="Mr"/>.</summary>
    static abstract int Mc { get; }

    /// <summary>The most steps of the sum in one slice (loop 4); the driver cuts k into equal slices no deeper.</summary>
    static abstract int Kc { get; }

    /// <summary>
    /// The deepest sum done in one slice; a deeper one is cut into at least two (see
    /// <see cref="GemmDriver.SliceDepth{TKernel}"/>), even when it is no deeper than <see cref="Kc"/>. At most <see cref="Kc"/>.
    /// </summary>
    static abstract int SingleSliceDepth { get; }

    /// <summary>Columns of B packed at once (loop 5); a multiple of <see cref="Nr"/>.</summary>
    static abstract int Nc { get; }

    /// <summary>
    /// <c>C[0..Mr, 0..Nr] ← store(A·B)</c> over <paramref name="kc"/> steps. <paramref name="a"/> holds Mr values per
    /// step, <paramref name="b"/> Nr values per step; <paramref name="c"/> is the tile's top-left element, rows
    /// <paramref name="ldc"/> apart; <paramref name="column"/> is the tile's first column in C, for the epilogue.
    /// </summary>
    static abstract void Run(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column);

    /// <summary>
    /// <see cref="Run"/>, prefetching into the caches as it goes: every two steps of the sum, the cache line at
    /// <paramref name="prefetch"/>, which then moves on by <paramref name="prefetchStepBytes"/> (which may be 0). The
    /// driver points it at a share of the next B sliver (see <see cref="GemmDriver.NextSliverShare"/>). A prefetch
    /// never faults and never changes a result. Kernels that were not measured with it ignore the prefetch.
    /// </summary>
    static abstract void RunPrefetching(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store,
        int column, ref float prefetch, nint prefetchStepBytes);

    /// <summary>
    /// The height of the kernel's short tile, for a last A sliver with fewer than <see cref="Mr"/> real rows: run as a
    /// full tile, its padding rows would cost as much as real ones. <see cref="Mr"/> for a kernel that has none.
    /// </summary>
    static abstract int ShortRows { get; }

    /// <summary>
    /// <see cref="Run"/> for the first <see cref="ShortRows"/> rows of the tile only (<paramref name="a"/> is still a
    /// sliver of <see cref="Mr"/> values per step); stores those rows and no others.
    /// </summary>
    static abstract void RunShort(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column);

    /// <summary>
    /// <see cref="Run"/> with B read in place rather than packed: <paramref name="b"/> is <c>op(B)[p, j]</c> for the tile's
    /// first column, each step's <see cref="Nr"/> values contiguous and <paramref name="ldb"/> floats after the previous
    /// step's (B stored k×n). The kernel writes the packed sliver to <paramref name="packedB"/> on the way, for the next
    /// A slivers, so that a product with few rows needs no separate packing pass over B.
    /// </summary>
    static abstract void RunCopyingB(int kc, ref float a, ref float b, nint ldb, ref float packedB, ref float c, int ldc,
        in GemmTileStore store, int column);
}
