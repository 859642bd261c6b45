using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Copies a block of op(A) or op(B) into the order the micro-kernel reads it, which is where the transpositions go:
/// whatever the layout of A and B, the kernel sees the same packed slivers.
/// </summary>
/// <remarks>
/// <para>
/// Packed A (MC×KC) is a run of slivers MR rows tall; sliver s holds, for each step p of the sum, the MR values
/// <c>op(A)[s·MR + 0..MR, p]</c> side by side. Packed B (KC×NC) is a run of slivers NR columns wide; sliver s holds,
/// for each p, the NR values <c>op(B)[p, s·NR + 0..NR]</c>. Rows or columns past the matrix's edge are packed as
/// zeros, so the kernel always runs a full MR×NR tile and its extra lanes are simply never stored.
/// </para>
/// <para>
/// Cost: B is packed once per KC slice and A once per MC×KC block, so packing is O(1/m) and O(1/n) of the work.
/// At about one cycle per element packing would still cost several percent (and for the MLP's small m, where
/// each packed value of B is used only 100 times, much more), so every layout gets vector code and a
/// cache-friendly walk: a matrix whose stored rows run along the packed direction (B in NN/TN, A in TN) is read
/// row by row and dealt out to the slivers; one whose rows run across it (A in NN/NT, B in NT) is transposed in
/// 8×8 register blocks.
/// </para>
/// </remarks>
internal static class GemmPacking
{
    /// <summary>
    /// Floats a caller must leave free after the packed A block: the 6-row transposition writes whole 8-float
    /// vectors, so its last store runs 2 floats past the end (earlier overruns are overwritten by later stores).
    /// </summary>
    public const int PackASlack = 8;

    // Rows of a transposed A packed together (see PackA).
    private const int TransposedRowBlock = 8;

    /// <summary>
    /// Floats from the start of one packed B sliver to the next: the sliver's KC×NR values and one cache line more.
    /// Without the line, slivers lie KC·NR floats apart (32 KiB for AVX2 at KC 512), a multiple of 4 KiB, so packing
    /// a row of B (NN, TN), which writes one line into each sliver, sent every write of that row to the same L1 set:
    /// 64 slivers through 8 ways. With it, consecutive slivers' lines fall in consecutive sets. Packing a 1024×1024
    /// B (two 512×1024 panels) took 0.43 ms without the line and 0.23 ms with it, as fast as copying it (0.22 ms).
    /// </summary>
    public static int BSliverStride<TKernel>(int kc)
        where TKernel : struct, IGemmMicroKernel => (kc * TKernel.Nr) + CacheHint.LineFloats;

    /// <summary>Floats a packed B panel of <paramref name="nc"/> columns and depth <paramref name="kc"/> takes.</summary>
    public static int BPanelLength<TKernel>(int kc, int nc)
        where TKernel : struct, IGemmMicroKernel => (nc + TKernel.Nr - 1) / TKernel.Nr * BSliverStride<TKernel>(kc);

    /// <summary>Where, in a packed B panel of depth <paramref name="kc"/>, the sliver of column <paramref name="column"/>
    /// (a multiple of NR counted from the panel's first column) starts.</summary>
    public static nint BSliverOffset<TKernel>(int column, int kc)
        where TKernel : struct, IGemmMicroKernel => (nint)(column / TKernel.Nr) * BSliverStride<TKernel>(kc);

    // Rows of B prefetched ahead when packing short rows (2 and 4 measured alike, 8 slower), and what is short.
    private const int PrefetchRowsOfB = 4;
    private const int ShortRowOfB = 256;

    /// <summary>Packs <c>op(A)[ic..ic+mc, pc..pc+kc]</c> into MR-row slivers at <paramref name="packed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<TKernel>(in GemmProblem problem, int ic, int mc, int pc, int kc, ref float packed)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.Mr;
        nint lda = problem.Lda;
        ref float a = ref MemoryMarshal.GetArrayDataReference(problem.A);
        if (problem.TransA)
        {
            // A is stored k×m: row p of the stored matrix holds op(A)[·, p] contiguously, so walk it a few rows at a
            // time and deal each run of MR values to its sliver. Walking sliver by sliver instead would read each
            // cache line of A several times and touch a new page on every step. Row by row, each sliver got MR floats
            // (24 bytes) per row, a part of a line; the slivers lie KC·MR floats apart (12 KiB at KC 512, a multiple
            // of 4 KiB), so the 12 lines being filled shared one L1 set of 8 ways and were evicted and fetched again
            // before they were full. Eight rows at a time write 8·MR floats (whole lines) into each sliver in one go:
            // TN 1.8 % and TT 2.2 % faster at 1024³, TN 0.8 % at 1000×1000×512 (one thread, alternating processes);
            // the MLP's 1000×784×100 TN is unchanged (at KC 100 the slivers do not alias).
            ref float src = ref Unsafe.Add(ref a, problem.AOffset + (pc * lda) + ic);
            for (int p0 = 0; p0 < kc; p0 += TransposedRowBlock)
            {
                int pEnd = Math.Min(kc, p0 + TransposedRowBlock);
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int rows = Math.Min(mr, mc - ir);
                    for (int p = p0; p < pEnd; p++)
                    {
                        CopyPadded(ref Unsafe.Add(ref src, (p * lda) + ir), ref Unsafe.Add(ref packed, ((nint)ir * kc) + ((nint)p * mr)), rows, mr);
                    }
                }
            }
            return;
        }

        // A is stored m×k: each sliver gathers MR rows, one value from each per step: a transposition.
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            ref float src = ref Unsafe.Add(ref a, problem.AOffset + ((ic + ir) * lda) + pc);
            ref float sliver = ref Unsafe.Add(ref packed, (nint)ir * kc);
            int p = 0;
            if (Avx.IsSupported && rows == mr && mr <= 8 && mr >= 6)
            {
                // The next sliver's rows, fetched while this one is transposed: each row is only KC floats (a few
                // dozen lines), too short for the hardware prefetcher to pick up MR new streams before they end.
                // Measured 0.5–1.5 % faster at 1024³ and 2048³ on one and two threads (alternating in one process).
                int ahead = Math.Min(mr, problem.M - (ic + ir + mr));
                ref float next = ref Unsafe.Add(ref src, mr * lda);
                for (; p <= kc - 8; p += 8)
                {
                    if ((p & 15) == 0)
                    {
                        for (int r = 0; r < ahead; r++)
                        {
                            CacheHint.Prefetch(ref Unsafe.Add(ref next, (r * lda) + p));
                        }
                    }
                    Transpose8x8(ref Unsafe.Add(ref src, p), lda, mr, ref Unsafe.Add(ref sliver, (nint)p * mr), mr);
                }
            }
            for (; p < kc; p++)
            {
                ref float dst = ref Unsafe.Add(ref sliver, (nint)p * mr);
                for (int r = 0; r < rows; r++)
                {
                    Unsafe.Add(ref dst, r) = Unsafe.Add(ref src, (r * lda) + p);
                }
                for (int r = rows; r < mr; r++)
                {
                    Unsafe.Add(ref dst, r) = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs <c>op(B)[pc..pc+kc, jc..jc+nc]</c> into NR-column slivers at <paramref name="packed"/>. A caller packing
    /// one sliver at a time passes in <paramref name="prefetchColumns"/> how many columns from <paramref name="jc"/> on
    /// it will pack next, so that the transposition (NT) fetches the next sliver's first rows ahead as it does within a panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<TKernel>(in GemmProblem problem, int pc, int kc, int jc, int nc, ref float packed, int prefetchColumns = 0)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        nint ldb = problem.Ldb;
        ref float b = ref MemoryMarshal.GetArrayDataReference(problem.B);
        if (!problem.TransB)
        {
            // B is stored k×n: row p holds op(B)[p, ·] contiguously; walk it row by row, NR values per sliver.
            ref float src = ref Unsafe.Add(ref b, problem.BOffset + (pc * ldb) + jc);
            nint stride = BSliverStride<TKernel>(kc);
            int fullWidth = nc / nr * nr;
            // A row this short (a piece of the shared panel: 256 floats) is a few lines on a new page, too little for
            // the hardware prefetcher to pick up before it ends; fetch the rows a few ahead. Measured on two threads
            // 1 % faster at 768³ and 1024³ (packing 0.85 → 0.6 ms a call, summed over both threads); for a whole
            // panel's rows (one thread) it was 0.5 % slower.
            bool prefetch = nc <= ShortRowOfB;
            for (int p = 0; p < kc; p++)
            {
                ref float row = ref Unsafe.Add(ref src, p * ldb);
                if (prefetch && p + PrefetchRowsOfB < kc)
                {
                    ref float ahead = ref Unsafe.Add(ref row, PrefetchRowsOfB * ldb);
                    for (int q = 0; q < nc; q += 16)
                    {
                        CacheHint.Prefetch(ref Unsafe.Add(ref ahead, q));
                    }
                }
                ref float dst = ref Unsafe.Add(ref packed, (nint)p * nr);
                int jr = 0;
                if (Vector256.IsHardwareAccelerated && nr % 8 == 0)
                {
                    for (; jr < fullWidth; jr += nr)
                    {
                        for (int q = 0; q < nr; q += 8)
                        {
                            Vector256.LoadUnsafe(ref row, (nuint)(jr + q)).StoreUnsafe(ref dst, (nuint)q);
                        }
                        dst = ref Unsafe.Add(ref dst, stride);
                    }
                }
                for (; jr < nc; jr += nr)
                {
                    CopyPadded(ref Unsafe.Add(ref row, jr), ref dst, Math.Min(nr, nc - jr), nr);
                    dst = ref Unsafe.Add(ref dst, stride);
                }
            }
            return;
        }

        // B is stored n×k: column j of op(B) is row j of B, so each sliver is a transposition of NR rows.
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            ref float src = ref Unsafe.Add(ref b, problem.BOffset + ((jc + jr) * ldb) + pc);
            ref float sliver = ref Unsafe.Add(ref packed, BSliverOffset<TKernel>(jr, kc));
            int p = 0;
            if (Avx.IsSupported && cols == nr && nr % 8 == 0)
            {
                // Eight rows of B at a time, all the way along the slice: reading all NR rows at once would be
                // more concurrent streams than the hardware prefetcher follows (on Zen 3, 16 streams packed 1.5× slower).
                int blocks = kc / 8 * 8;
                for (int jj = 0; jj < nr; jj += 8)
                {
                    // The next 8 rows (of this sliver or the next), fetched while these are transposed, as in PackA:
                    // measured 2–3 % faster on the MLP's NT shapes (100×1000×784, 100×1000×1000) on one thread.
                    int ahead = Math.Min(8, Math.Max(nc, prefetchColumns) - (jr + jj + 8));
                    ref float next = ref Unsafe.Add(ref src, (jj + 8) * ldb);
                    for (p = 0; p < blocks; p += 8)
                    {
                        if ((p & 15) == 0)
                        {
                            for (int q = 0; q < ahead; q++)
                            {
                                CacheHint.Prefetch(ref Unsafe.Add(ref next, (q * ldb) + p));
                            }
                        }
                        Transpose8x8(ref Unsafe.Add(ref src, (jj * ldb) + p), ldb, 8, ref Unsafe.Add(ref sliver, ((nint)p * nr) + jj), nr);
                    }
                }
            }
            for (; p < kc; p++)
            {
                ref float dst = ref Unsafe.Add(ref sliver, (nint)p * nr);
                for (int q = 0; q < cols; q++)
                {
                    Unsafe.Add(ref dst, q) = Unsafe.Add(ref src, (q * ldb) + p);
                }
                for (int q = cols; q < nr; q++)
                {
                    Unsafe.Add(ref dst, q) = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs the packed columns <paramref name="first"/>..first+width of a panel laid out as <paramref name="columns"/>
    /// says into <paramref name="panel"/> (the panel's packed column 0): the body's columns as one run of C's columns,
    /// then, if the merged sliver is among them, the lead beside the body's last columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackBPanel<TKernel>(in GemmProblem problem, int pc, int kc, in GemmPanelColumns columns, int first, int width,
        ref float panel)
        where TKernel : struct, IGemmMicroKernel
    {
        int bodyEnd = Math.Min(first + width, columns.Body);
        if (bodyEnd > first)
        {
            PackB<TKernel>(problem, pc, kc, columns.Start + columns.Lead + first, bodyEnd - first,
                ref Unsafe.Add(ref panel, BSliverOffset<TKernel>(first, kc)));
        }
        int merged = columns.MergedSliver(TKernel.Nr);
        if (columns.Lead > 0 && first <= merged && merged < first + width)
        {
            PackLead<TKernel>(problem, pc, kc, columns, ref Unsafe.Add(ref panel, BSliverOffset<TKernel>(merged, kc)));
        }
    }

    /// <summary>
    /// Writes the lead's columns (C's first <see cref="GemmPanelColumns.Lead"/> of the panel) into the merged sliver,
    /// after the body's remainder, and zeros the lanes past them. One sliver per panel, so plain scalar code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackLead<TKernel>(in GemmProblem problem, int pc, int kc, in GemmPanelColumns columns, ref float sliver)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        int tail = columns.Body - columns.MergedSliver(nr);
        int lead = columns.Lead;
        nint ldb = problem.Ldb;
        ref float b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(problem.B), problem.BOffset);
        for (int p = 0; p < kc; p++)
        {
            ref float dst = ref Unsafe.Add(ref sliver, ((nint)p * nr) + tail);
            for (int q = 0; q < lead; q++)
            {
                int j = columns.Start + q;
                Unsafe.Add(ref dst, q) = problem.TransB ? Unsafe.Add(ref b, (j * ldb) + pc + p) : Unsafe.Add(ref b, ((pc + p) * ldb) + j);
            }
            for (int q = lead; q < nr - tail; q++)
            {
                Unsafe.Add(ref dst, q) = 0f;
            }
        }
    }

    /// <summary>
    /// <see cref="AddColumnSquares{TKernel}"/> over the packed columns <paramref name="first"/>..first+width of a panel
    /// laid out as <paramref name="columns"/> says; <paramref name="squares"/> holds the sums of C's columns
    /// Start..Start+Width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddPanelColumnSquares<TKernel>(ref float panel, int kc, in GemmPanelColumns columns, int first, int width,
        Span<float> squares)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        int bodyEnd = Math.Min(first + width, columns.Body);
        if (bodyEnd > first)
        {
            AddColumnSquares<TKernel>(ref Unsafe.Add(ref panel, BSliverOffset<TKernel>(first, kc)), kc, bodyEnd - first,
                squares.Slice(columns.Lead + first, bodyEnd - first));
        }
        int merged = columns.MergedSliver(nr);
        if (columns.Lead > 0 && first <= merged && merged < first + width)
        {
            // One lane at a time, summed in the same order as a vector lane, so each column's sum is the same bits.
            AddLaneSquares(ref Unsafe.Add(ref panel, BSliverOffset<TKernel>(merged, kc) + (columns.Body - merged)), kc, nr,
                squares[..columns.Lead]);
        }
    }

    /// <summary>
    /// <c>squares[j] += Σ_p packed[p, j]²</c> over a packed KC×NC slice of B (<paramref name="squares"/> holds its
    /// <paramref name="nc"/> columns). Sliver by sliver, each sliver (KC×NR, a few KiB) streaming from cache, one
    /// vector of NR/8 column sums per step: the order of the sum depends only on the slicing of k, never on threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSquares<TKernel>(ref float packed, int kc, int nc, Span<float> squares)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        for (int jr = 0; jr < nc; jr += nr)
        {
            ref float sliver = ref Unsafe.Add(ref packed, BSliverOffset<TKernel>(jr, kc));
            int cols = Math.Min(nr, nc - jr);
            int q = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; q <= nr - 8; q += 8)
                {
                    Vector256<float> sum = Vector256<float>.Zero;
                    for (int p = 0; p < kc; p++)
                    {
                        Vector256<float> value = Vector256.LoadUnsafe(ref sliver, (nuint)((p * nr) + q));
                        sum += value * value;
                    }
                    AddLanes(sum, squares, jr + q, cols - q);
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                for (; q <= nr - 4; q += 4)
                {
                    Vector128<float> sum = Vector128<float>.Zero;
                    for (int p = 0; p < kc; p++)
                    {
                        Vector128<float> value = Vector128.LoadUnsafe(ref sliver, (nuint)((p * nr) + q));
                        sum += value * value;
                    }
                    AddLanes(sum, squares, jr + q, cols - q);
                }
            }
            if (q < cols)
            {
                AddLaneSquares(ref Unsafe.Add(ref sliver, q), kc, nr, squares.Slice(jr + q, cols - q));
            }
        }
    }

    /// <summary><c>squares[q] += Σ_p lanes[p·nr + q]²</c> for each of <paramref name="squares"/>' lanes, one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddLaneSquares(ref float lanes, int kc, int nr, Span<float> squares)
    {
        for (int q = 0; q < squares.Length; q++)
        {
            float sum = 0f;
            for (int p = 0; p < kc; p++)
            {
                float value = Unsafe.Add(ref lanes, (p * nr) + q);
                sum += value * value;
            }
            squares[q] += sum;
        }
    }

    // Lanes past the matrix's last column hold the packing's zero padding: they are summed but not stored.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddLanes<TVector>(TVector sum, Span<float> squares, int start, int validLanes)
        where TVector : struct
    {
        ReadOnlySpan<float> lanes = MemoryMarshal.Cast<TVector, float>(new ReadOnlySpan<TVector>(in sum));
        for (int lane = 0; lane < Math.Min(lanes.Length, validLanes); lane++)
        {
            squares[start + lane] += lanes[lane];
        }
    }

    /// <summary>
    /// <see cref="IGemmMicroKernel.RunCopyingB"/> for a kernel that does not copy B while it multiplies: packs the
    /// sliver (<paramref name="kc"/> rows of NR floats, <paramref name="ldb"/> apart) first, then runs the tile on it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyThenRun<TKernel>(int kc, ref float a, ref float b, nint ldb, ref float packedB, ref float c, int ldc,
        in GemmTileStore store, int column)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        for (int p = 0; p < kc; p++)
        {
            CopyPadded(ref Unsafe.Add(ref b, p * ldb), ref Unsafe.Add(ref packedB, (nint)p * nr), nr, nr);
        }
        TKernel.Run(kc, ref a, ref packedB, ref c, ldc, store, column);
    }

    /// <summary>Copies <paramref name="count"/> floats and zero-fills up to <paramref name="width"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyPadded(ref float src, ref float dst, int count, int width)
    {
        int q = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; q <= count - 8; q += 8)
            {
                Vector256.LoadUnsafe(ref src, (nuint)q).StoreUnsafe(ref dst, (nuint)q);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; q <= count - 4; q += 4)
            {
                Vector128.LoadUnsafe(ref src, (nuint)q).StoreUnsafe(ref dst, (nuint)q);
            }
        }
        for (; q < count; q++)
        {
            Unsafe.Add(ref dst, q) = Unsafe.Add(ref src, q);
        }
        for (; q < width; q++)
        {
            Unsafe.Add(ref dst, q) = 0f;
        }
    }

    /// <summary>
    /// Reads <paramref name="rows"/> (6 to 8) rows of 8 floats, <paramref name="ldSrc"/> apart, and writes the 8
    /// columns as rows <paramref name="ldDst"/> apart, missing rows as zeros: the classic unpack / shuffle /
    /// lane-permute sequence. Each written row is a whole vector of 8, in order, so with <paramref name="ldDst"/>
    /// of 6 each store's last 2 floats are overwritten by the next store, and the last one runs 2 floats past
    /// the 6×8 block (see <see cref="PackASlack"/>).
    /// </summary>
    /// <remarks>
    /// Inlined, so that each caller's <paramref name="rows"/> is a constant. Left to the JIT's tiers, this method was
    /// compiled once for all callers with a profile from whichever ran first: after a square product (PackA, 6 rows)
    /// the NT packing of B (8 rows) ran so much slower that 100×1000×784 NT took 2.2 ms instead of 1.8.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref float src, nint ldSrc, int rows, ref float dst, nint ldDst)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref src);
        Vector256<float> r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, ldSrc));
        Vector256<float> r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 2 * ldSrc));
        Vector256<float> r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 3 * ldSrc));
        Vector256<float> r4 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 4 * ldSrc));
        Vector256<float> r5 = Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 5 * ldSrc));
        Vector256<float> r6 = rows > 6 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 6 * ldSrc)) : Vector256<float>.Zero;
        Vector256<float> r7 = rows > 7 ? Vector256.LoadUnsafe(ref Unsafe.Add(ref src, 7 * ldSrc)) : Vector256<float>.Zero;

        // Interleave pairs of rows: t0 = (r0[0], r1[0], r0[1], r1[1] | r0[4], r1[4], r0[5], r1[5]), and so on.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        // Gather 4-row columns within each 128-bit lane: u0 holds column 0 (low lane) and column 4 (high lane).
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        // Join the rows 0-3 half and the rows 4-7 half of each column across lanes.
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, ldDst));
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 2 * ldDst));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref Unsafe.Add(ref dst, 3 * ldDst));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 4 * ldDst));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 5 * ldDst));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 6 * ldDst));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref Unsafe.Add(ref dst, 7 * ldDst));
    }
}
