using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The AVX2 + FMA micro-kernel: a 6×16 tile of C held in twelve 8-float registers.
/// </summary>
/// <remarks>
/// <para>
/// Why 6×16: x64 without AVX-512 has 16 vector registers. The tile takes 12 (6 rows × 2 vectors of 8 columns),
/// the current row of packed B takes 2, and one broadcast element of packed A takes 1: 15 of 16, no spills.
/// Each step of the sum loads 2 vectors of B and broadcasts 6 elements of A for 12 FMAs, so loads (8 per
/// step, 2 per cycle) never starve the two FMA pipes (12 FMAs, 2 per cycle = 6 cycles), and 12 independent
/// accumulators cover the FMA latency (4 cycles × 2 pipes = 8 in flight). This is BLIS's Haswell/Zen sgemm shape.
/// </para>
/// <para>
/// Blocking for AMD Zen 3 (per core: 32 KiB L1d, 512 KiB L2; 32 MiB L3 shared; lscpu prints the totals over both
/// cores). Slices of the sum up to KC = 768 deep, but a sum deeper than 512 (<see cref="SingleSliceDepth"/>) in at
/// least two: each slice loads and stores the whole of C once, so a deeper slice means fewer passes over C and fewer
/// tile starts and stores. k = 2048 runs as 3 slices of 688 instead of 4 of 512: 0.1–0.7 % faster on one thread and
/// 0.1–1.1 % on two (session 8, alternating processes, fastest call), 1536³ 0.5 %; every k up to 1024 is sliced as
/// with KC 512.
/// A single slice of 513–768 was faster on one thread (768³ 1.5–2 %) but 2 % slower at 600³ on two, where the one
/// step of the shared-panel split leaves nothing to pack while the first blocks are multiplied. The 512×16 B sliver
/// is 32 KiB, all of L1, so it does not stay there whole while the A slivers stream past; it is read from L2 in part,
/// which the loads keep up with. Session 6 measured 512 1–1.5 % faster than 384 on one thread and 0.5–2.5 % on two;
/// session 4 384 2 % faster than 256. MC = 72: the 72×512 packed A block is 144 KiB of L2 (198 KiB at 688 deep); 48
/// and 54 measured the same as 72 with slices of 688.
/// BLIS uses 144 on Zen; on this machine 72 measured about 4% faster at 1024³ (with KC 384), and a micro-kernel loop
/// over 12 A slivers ran at 96% of FMA peak against 90% over 24 (the larger block shares L2 with the streaming B
/// panel and C); with KC 512, 48, 60 and 96 measured the same as 72 within 1 %. NC = 4080: the 512×4080 packed B
/// panel is 8 MiB (12 MiB at 768 deep), a slice of L3, and covers every n up to 4080 in one panel, so A is packed
/// once per slice.
/// </para>
/// </remarks>
internal readonly struct GemmMicroKernel256 : IGemmMicroKernel
{
    public static int Mr => 6;
    public static int Nr => 16;
    public static int Mc => 72;
    public static int Kc => 768;
    public static int SingleSliceDepth => 512;
    public static int Nc => 4080;

    /// <summary>The last sliver of a block 4 rows (or fewer) tall runs as a 4×16 tile: 8 accumulators still cover the
    /// FMA latency (4 cycles × 2 pipes), and the tile does 4/6 of the full one's multiply-adds. For the MLP's 100 rows
    /// (16 slivers of 6 and one of 4) that is 2 % fewer multiply-adds; measured 1.3–1.5 % faster on 100×784×1000 NN
    /// and 100×1000×784 NT (one thread, alternating in one process).</summary>
    public static int ShortRows => 4;

    /// <summary>Rows of B this far ahead are prefetched when <see cref="RunCopyingB"/> reads B in place: each 16-float
    /// row is one or two cache lines ldb apart, a stride the hardware prefetcher follows too late. 48 measured best of
    /// 16–64 on 100×784×1000 (16: 3 %, 32 and 48: 6–7 % faster than none).</summary>
    private const int CopyPrefetchRows = 48;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column) =>
        Tile<GemmYes, GemmNo, GemmNo>(kc, ref a, ref b, 0, ref b, ref c, ldc, store, column);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunShort(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column) =>
        Tile<GemmNo, GemmNo, GemmNo>(kc, ref a, ref b, 0, ref b, ref c, ldc, store, column);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunCopyingB(int kc, ref float a, ref float b, nint ldb, ref float packedB, ref float c, int ldc,
        in GemmTileStore store, int column) =>
        Tile<GemmYes, GemmYes, GemmNo>(kc, ref a, ref b, ldb, ref packedB, ref c, ldc, store, column);

    /// <remarks>
    /// One prefetch every two steps costs nothing measurable when the B panel sits in L3 (2048³ on one thread: 176.0
    /// against 176.3 ms). When another program streams through L3 and evicts part of the panel, the next sliver's lines
    /// are already on their way when its first tile starts: with a 24 MiB neighbour on the other core, 2048³ took
    /// 178.0–178.5 ms against 189.8–190.2 without the prefetch, 1024³ 22.49 against 22.98 (session 9, alternating in
    /// one process). The address reaches the kernel as an argument: static fields read here made the whole kernel
    /// 1.7–2.2× slower.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunPrefetching(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store,
        int column, ref float prefetch, nint prefetchStepBytes) =>
        Tile<GemmYes, GemmNo, GemmYes>(kc, ref a, ref b, prefetchStepBytes, ref prefetch, ref c, ldc, store, column);

    /// <summary>
    /// The one body behind <see cref="Run"/>, <see cref="RunShort"/>, <see cref="RunCopyingB"/> and
    /// <see cref="RunPrefetching"/>: the JIT compiles it once per set of type arguments with the untaken branches (and
    /// the unused accumulators) removed. Compiled fully
    /// optimized at once, never through the tiers: a tier-0 or profile-guided body compiled from another form's calls
    /// could be several times slower (this happened to <see cref="GemmPacking.Transpose8x8"/>; see there).
    /// <typeparamref name="TSixRows"/>: the full 6×16 tile, else the 4×16 one. <typeparamref name="TCopyB"/>: read the
    /// B sliver from the matrix in place (<paramref name="b"/>, rows <paramref name="ldb"/> apart) and write it packed to
    /// <paramref name="packedB"/> on the way, else read it packed from <paramref name="b"/>. <typeparamref name="TPrefetch"/>
    /// (only without TCopyB): prefetch the line at <paramref name="packedB"/> every two steps, moving it on by
    /// <paramref name="ldb"/> bytes each time; the two parameters are free for it, since the packed sliver is read from
    /// <paramref name="b"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TSixRows, TCopyB, TPrefetch>(int kc, ref float a, ref float b, nint ldb, ref float packedB, ref float c,
        int ldc, in GemmTileStore store, int column)
        where TSixRows : struct, IGemmChoice
        where TCopyB : struct, IGemmChoice
        where TPrefetch : struct, IGemmChoice
    {
        // cRow_Half: row 0..5 of the tile, columns 0..7 (half 0) or 8..15 (half 1).
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int rows = TSixRows.Yes ? 6 : 4;
        // Start the C tile's cache lines on their way now (both ends of each row, which may straddle two lines): they
        // arrive while the loop below runs, instead of stalling the stores at the end. C is too big for L2, so without
        // this each tile would wait on L3 (or memory) once per KC slice.
        ref float cRow = ref c;
        for (int r = 0; r < rows; r++)
        {
            CacheHint.Prefetch(ref cRow);
            CacheHint.Prefetch(ref Unsafe.Add(ref cRow, 15));
            cRow = ref Unsafe.Add(ref cRow, ldc);
        }
        int prefetchUntil = kc - CopyPrefetchRows; // never past the slice, so never past the end of B

        // Two rank-1 updates per pass (the tile += column p of the A sliver × row p of the B sliver, then p + 1):
        // half the loop's counter and pointer updates, which share the front end with the 24 FMAs.
        int p = 0;
        Vector256<float> b0, b1, ai;
        for (; p <= kc - 2; p += 2)
        {
            if (TPrefetch.Yes)
            {
                CacheHint.Prefetch(ref packedB);
                packedB = ref Unsafe.AddByteOffset(ref packedB, ldb);
            }
            if (TCopyB.Yes && p < prefetchUntil)
            {
                ref float ahead = ref Unsafe.Add(ref b, CopyPrefetchRows * ldb);
                CacheHint.Prefetch(ref ahead);
                CacheHint.Prefetch(ref Unsafe.Add(ref ahead, 15));
                CacheHint.Prefetch(ref Unsafe.Add(ref ahead, ldb));
                CacheHint.Prefetch(ref Unsafe.Add(ref ahead, ldb + 15));
            }
            LoadB<TCopyB>(ref b, ldb, ref packedB, 0, out b0, out b1);
            ai = Vector256.Create(a);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref a, 1));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(Unsafe.Add(ref a, 2));
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(Unsafe.Add(ref a, 3));
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            if (TSixRows.Yes)
            {
                ai = Vector256.Create(Unsafe.Add(ref a, 4));
                c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
                ai = Vector256.Create(Unsafe.Add(ref a, 5));
                c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            }
            LoadB<TCopyB>(ref b, ldb, ref packedB, 16, out b0, out b1);
            ai = Vector256.Create(Unsafe.Add(ref a, 6));
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref a, 7));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(Unsafe.Add(ref a, 8));
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(Unsafe.Add(ref a, 9));
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            if (TSixRows.Yes)
            {
                ai = Vector256.Create(Unsafe.Add(ref a, 10));
                c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
                ai = Vector256.Create(Unsafe.Add(ref a, 11));
                c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            }
            a = ref Unsafe.Add(ref a, 12);
            if (TCopyB.Yes)
            {
                b = ref Unsafe.Add(ref b, 2 * ldb);
                packedB = ref Unsafe.Add(ref packedB, 32);
            }
            else
            {
                b = ref Unsafe.Add(ref b, 32);
            }
        }
        if (p < kc)
        {
            LoadB<TCopyB>(ref b, ldb, ref packedB, 0, out b0, out b1);
            ai = Vector256.Create(a);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref a, 1));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(Unsafe.Add(ref a, 2));
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(Unsafe.Add(ref a, 3));
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            if (TSixRows.Yes)
            {
                ai = Vector256.Create(Unsafe.Add(ref a, 4));
                c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
                ai = Vector256.Create(Unsafe.Add(ref a, 5));
                c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            }
        }

        ref float tile = ref c;
        Vector256<float> alpha = Vector256.Create(store.Alpha), beta = Vector256.Create(store.Beta);
        bool readC = store.ReadC;
        GemmTileStore.Store(ref c, c00, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c01, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c10, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c11, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c20, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c21, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c30, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c31, alpha, beta, readC);
        if (TSixRows.Yes)
        {
            c = ref Unsafe.Add(ref c, ldc);
            GemmTileStore.Store(ref c, c40, alpha, beta, readC);
            GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c41, alpha, beta, readC);
            c = ref Unsafe.Add(ref c, ldc);
            GemmTileStore.Store(ref c, c50, alpha, beta, readC);
            GemmTileStore.Store(ref Unsafe.Add(ref c, 8), c51, alpha, beta, readC);
        }
        if (store.HasEpilogue)
        {
            store.FinishTile(ref tile, ldc, column, rows, 16);
        }
    }

    /// <summary>Row <c>offset / 16</c> of this pass's two rows of the B sliver: from the packed sliver, or from the
    /// matrix (row <paramref name="ldb"/>·offset/16 of <paramref name="b"/>), then copied to the packed sliver.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadB<TCopyB>(ref float b, nint ldb, ref float packedB, int offset, out Vector256<float> b0, out Vector256<float> b1)
        where TCopyB : struct, IGemmChoice
    {
        if (TCopyB.Yes)
        {
            ref float row = ref Unsafe.Add(ref b, offset == 0 ? 0 : ldb);
            b0 = Vector256.LoadUnsafe(ref row);
            b1 = Vector256.LoadUnsafe(ref row, 8);
            b0.StoreUnsafe(ref packedB, (nuint)offset);
            b1.StoreUnsafe(ref packedB, (nuint)offset + 8);
        }
        else
        {
            b0 = Vector256.LoadUnsafe(ref b, (nuint)offset);
            b1 = Vector256.LoadUnsafe(ref b, (nuint)offset + 8);
        }
    }
}
