using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The five loops of BLIS around a micro-kernel, for one thread's share of C (see <see cref="Gemm"/> for the picture).
/// </summary>
internal static class GemmDriver
{
    /// <summary>The tile of a kernel kind: the units in which C's rows and columns are split among threads.</summary>
    public static (int Mr, int Nr) TileShape(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => (GemmMicroKernel512.Mr, GemmMicroKernel512.Nr),
        GemmKernelKind.Vector256 => (GemmMicroKernel256.Mr, GemmMicroKernel256.Nr),
        GemmKernelKind.Vector128 => (GemmMicroKernel128.Mr, GemmMicroKernel128.Nr),
        _ => (GemmMicroKernelScalar.Mr, GemmMicroKernelScalar.Nr),
    };

    /// <summary>Runs part <paramref name="part"/> of a <paramref name="rowParts"/>×<paramref name="colParts"/> split of C.</summary>
    public static void RunPart(GemmKernelKind kind, in GemmProblem problem, int rowParts, int colParts, int part)
    {
        switch (kind)
        {
            case GemmKernelKind.Vector512:
                RunPart<GemmMicroKernel512>(problem, rowParts, colParts, part);
                break;
            case GemmKernelKind.Vector256:
                RunPart<GemmMicroKernel256>(problem, rowParts, colParts, part);
                break;
            case GemmKernelKind.Vector128:
                RunPart<GemmMicroKernel128>(problem, rowParts, colParts, part);
                break;
            default:
                RunPart<GemmMicroKernelScalar>(problem, rowParts, colParts, part);
                break;
        }
    }

    /// <summary>C = beta·C then the epilogue, for the cases with nothing to multiply (k = 0 or alpha = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleOnly(in GemmProblem problem)
    {
        GemmTileStore store = new(0f, problem.Beta, readC: problem.Beta != 0f, problem.Epilogue, applyEpilogue: true);
        for (int i = 0; i < problem.M; i++)
        {
            Span<float> row = problem.C.AsSpan(problem.COffset + (i * problem.Ldc), problem.N);
            for (int j = 0; j < row.Length; j++)
            {
                row[j] = store.Finish(0f, row[j], j);
            }
        }
    }

    private static void RunPart<TKernel>(in GemmProblem problem, int rowParts, int colParts, int part)
        where TKernel : struct, IGemmMicroKernel
    {
        // Parts are numbered row-major over the split; boundaries fall on whole tiles, so the tiles (and with them
        // every rounding) are the same however many threads there are.
        (int rowStart, int rowEnd) = GemmPartition.Range(problem.M, TKernel.Mr, rowParts, part / colParts);
        (int colStart, int colEnd) = GemmPartition.Range(problem.N, TKernel.Nr, colParts, part % colParts);
        if (rowStart < rowEnd && colStart < colEnd && problem.M == 1)
        {
            RowTimesMatrix(problem, colStart, colEnd);
        }
        else if (rowStart < rowEnd && colStart < colEnd)
        {
            // Every row part packs the same columns of B; only the first sums their squares, so each sum is written once.
            bool sumSquaresOfB = part / colParts == 0;
            if (rowEnd - rowStart <= FewRows<TKernel>())
            {
                RunFewRows<TKernel>(problem, rowStart, rowEnd, colStart, colEnd, sumSquaresOfB);
            }
            else
            {
                Run<TKernel>(problem, rowStart, rowEnd, colStart, colEnd, sumSquaresOfB);
            }
        }
    }

    /// <summary>C[rowStart..rowEnd, colStart..colEnd] = store(op(A)·op(B)), the whole depth of the sum.</summary>
    /// <remarks>
    /// Compiled fully optimized at once (as are the packing routines and kernels): under tiered compilation the
    /// first calls would run unoptimized code, tens of times slower, for as long as the first 100 ms of a program.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TKernel>(in GemmProblem problem, int rowStart, int rowEnd, int colStart, int colEnd, bool sumSquaresOfB)
        where TKernel : struct, IGemmMicroKernel
    {
        float[]? squaresOfB = sumSquaresOfB ? problem.Epilogue.ColumnSquaresOfB : null;
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int k = problem.K;
        int kcStep = SliceDepth<TKernel>(k);
        // Sized for the whole product, not this part: a thread may run any part (they are handed out as threads come
        // free), and a buffer sized by the first part it ran would grow, allocating, when it later ran a larger one.
        int mcMax = Math.Min(TKernel.Mc, RoundUp(problem.M, mr));
        int ncMax = Math.Min(TKernel.Nc, RoundUp(problem.N, nr));
        GemmWorkspace workspace = GemmWorkspace.Current;
        ref float packedA = ref workspace.PackedA((mcMax * kcStep) + GemmPacking.PackASlack); // (MC, KC), MR-row slivers
        ref float packedB = ref workspace.PackedB(GemmPacking.BPanelLength<TKernel>(kcStep, ncMax)); // (KC, NC) as NR-column slivers
        ref float scratch = ref workspace.Tile(mr * nr);            // (MR, NR) for ragged edge tiles
        int misalignment = GemmPanelColumns.Misalignment(problem);

        for (int jc = colStart; jc < colEnd; jc += TKernel.Nc)              // loop 5: NC columns of C and B
        {
            int nc = Math.Min(TKernel.Nc, colEnd - jc);
            GemmPanelColumns columns = GemmPanelColumns.For<TKernel>(misalignment, jc, nc);
            for (int pc = 0; pc < k; pc += kcStep)                           // loop 4: KC steps of the sum
            {
                int kc = Math.Min(kcStep, k - pc);
                GemmPacking.PackBPanel<TKernel>(problem, pc, kc, columns, 0, nc, ref packedB);
                if (squaresOfB is not null)
                {
                    GemmPacking.AddPanelColumnSquares<TKernel>(ref packedB, kc, columns, 0, nc,
                        squaresOfB.AsSpan(problem.Epilogue.ColumnSquaresOfBOffset + jc, nc));
                }

                GemmTileStore store = SliceStore(problem, pc, kc);

                for (int ic = rowStart; ic < rowEnd; ic += TKernel.Mc)       // loop 3: MC rows of C and A
                {
                    int mc = Math.Min(TKernel.Mc, rowEnd - ic);
                    GemmPacking.PackA<TKernel>(problem, ic, mc, pc, kc, ref packedA);
                    MultiplyBlock<TKernel>(problem, ic, mc, columns, 0, nc, kc, ref packedA, ref packedB, ref scratch, store,
                        prefetchNextSliver: true);
                }
            }
        }
    }

    /// <summary>
    /// The most rows of C for which <see cref="RunFewRows{TKernel}"/> replaces <see cref="Run{TKernel}"/>: two row
    /// blocks, so that the packed A of all rows (for AVX2, 144 rows × 512 = 288 KiB; 396 KiB for the 688-deep slices of
    /// k = 2048) still sits in L2.
    /// </summary>
    internal static int FewRows<TKernel>()
        where TKernel : struct, IGemmMicroKernel => 2 * TKernel.Mc;

    /// <summary>
    /// <see cref="Run{TKernel}"/> for a part of C at most <see cref="FewRows{TKernel}"/> tall (the MLP's batch of 100
    /// rows), where each value of B is used only a hundred times or so and moving B costs what the multiply-adds do not
    /// hide. The B panel is never built: A is packed once per slice of the sum, for all rows, and B is packed one
    /// NR-column sliver at a time, right before its tiles, into a buffer that stays in L1. The packed panel of
    /// <see cref="Run{TKernel}"/> (a MiB at 100×1000×784) would go out to L3 and come back once per row block.
    /// </summary>
    /// <remarks>
    /// When B is stored k×n (NN and TN), a sliver's rows are already contiguous and there is no packing pass at all:
    /// the first A sliver's tile reads B in place and writes the packed copy on the way
    /// (<see cref="IGemmMicroKernel.RunCopyingB"/>), for the other A slivers to read from L1. When B is stored n×k
    /// (NT), each sliver is transposed as in <see cref="GemmPacking.PackB{TKernel}"/>, prefetching into the next.
    /// Together with the short tile, against <see cref="Run{TKernel}"/> without it (one thread, alternating in one
    /// process): 100×784×1000 NN 8.6 % faster, 100×1000×784 NT 5.7 %, 100×1000×1000 NT 4.8 %; the short tile alone
    /// gave 1.3–1.5 % of that. Slices, tiles and their order of summation are those of
    /// <see cref="Run{TKernel}"/>, so the result is bitwise the same whichever of the two runs a part.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFewRows<TKernel>(in GemmProblem problem, int rowStart, int rowEnd, int colStart, int colEnd, bool sumSquaresOfB)
        where TKernel : struct, IGemmMicroKernel
    {
        float[]? squaresOfB = sumSquaresOfB ? problem.Epilogue.ColumnSquaresOfB : null;
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int k = problem.K, rows = rowEnd - rowStart;
        int kcStep = SliceDepth<TKernel>(k);
        // Sized for the most rows any part of this product can have (see Run).
        int rowsMax = Math.Min(FewRows<TKernel>(), RoundUp(problem.M, mr));
        GemmWorkspace workspace = GemmWorkspace.Current;
        ref float packedA = ref workspace.PackedA((rowsMax * kcStep) + GemmPacking.PackASlack); // all rows, MR-row slivers
        ref float packedB = ref workspace.PackedB(GemmPacking.BPanelLength<TKernel>(kcStep, nr)); // one KC×NR sliver
        ref float scratch = ref workspace.Tile(mr * nr);
        ref float c = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(problem.C), problem.COffset + ((nint)rowStart * problem.Ldc));
        ref float b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(problem.B), problem.BOffset);
        for (int pc = 0; pc < k; pc += kcStep)
        {
            int kc = Math.Min(kcStep, k - pc);
            GemmPacking.PackA<TKernel>(problem, rowStart, rows, pc, kc, ref packedA);
            GemmTileStore store = SliceStore(problem, pc, kc);
            for (int jr = colStart; jr < colEnd; jr += nr)
            {
                int cols = Math.Min(nr, colEnd - jr);
                int firstRows = 0; // rows already multiplied while copying B
                if (!problem.TransB && cols == nr && rows >= mr)
                {
                    ref float bRows = ref Unsafe.Add(ref b, ((nint)pc * problem.Ldb) + jr);
                    TKernel.RunCopyingB(kc, ref packedA, ref bRows, problem.Ldb, ref packedB, ref Unsafe.Add(ref c, jr), problem.Ldc, store, jr);
                    firstRows = mr;
                }
                else
                {
                    GemmPacking.PackB<TKernel>(problem, pc, kc, jr, cols, ref packedB, prefetchColumns: colEnd - jr);
                }
                if (squaresOfB is not null)
                {
                    GemmPacking.AddColumnSquares<TKernel>(ref packedB, kc, cols,
                        squaresOfB.AsSpan(problem.Epilogue.ColumnSquaresOfBOffset + jr, cols));
                }
                MultiplyBlock<TKernel>(problem, rowStart + firstRows, rows - firstRows, jr, cols, kc,
                    ref Unsafe.Add(ref packedA, firstRows * kc), ref packedB, ref scratch, store);
            }
        }
    }

    /// <summary>
    /// The depth of one slice of the sum (loop 4's step). Equal slices rather than KC, KC, ..., remainder: with KC = 768,
    /// k = 1600 as 536+536+528, not 768+768+64, whose last pass would reload and store all of C for 64 steps. A sum
    /// deeper than the kernel's <see cref="IGemmMicroKernel.SingleSliceDepth"/> gets at least two slices (AVX2: k = 600
    /// as 304+296). A multiple of 8 suits the 8×8 transposes in packing. It depends only on k, never on the thread
    /// split, and with it every rounding of the result.
    /// </summary>
    public static int SliceDepth<TKernel>(int k)
        where TKernel : struct, IGemmMicroKernel
    {
        int kSlices = k <= TKernel.SingleSliceDepth ? 1 : Math.Max(2, (k + TKernel.Kc - 1) / TKernel.Kc);
        return Math.Min(RoundUp((k + kSlices - 1) / kSlices, 8), k);
    }

    /// <summary>How the slice of the sum that starts at <paramref name="pc"/> stores its tiles: the first applies beta
    /// (and skips reading C when beta = 0), the last one the epilogue, the others add to C.</summary>
    public static GemmTileStore SliceStore(in GemmProblem problem, int pc, int kc) =>
        new(problem.Alpha, pc == 0 ? problem.Beta : 1f, readC: pc > 0 || problem.Beta != 0f, problem.Epilogue,
            applyEpilogue: pc + kc == problem.K);

    /// <summary>
    /// Loops 2 and 1: C[ic..ic+mc, jc..jc+nc] (+)= packed A block · packed B panel over one KC slice of the sum, stored
    /// through <paramref name="store"/>; <paramref name="packedB"/> is the sliver of column <paramref name="jc"/>, the
    /// columns packed in order. <paramref name="scratch"/> holds one MR×NR tile for the ragged edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBlock<TKernel>(in GemmProblem problem, int ic, int mc, int jc, int nc, int kc,
        ref float packedA, ref float packedB, ref float scratch, in GemmTileStore store)
        where TKernel : struct, IGemmMicroKernel =>
        MultiplyBlock<TKernel>(problem, ic, mc, new GemmPanelColumns(jc, nc, 0), 0, nc, kc, ref packedA, ref packedB, ref scratch,
            store, prefetchNextSliver: false);

    /// <summary>
    /// The cache lines [From, To) of the next B sliver (of <paramref name="lines"/>) that the tile
    /// <paramref name="tile"/> of <paramref name="tiles"/> prefetches: consecutive equal shares, so that the tiles of one
    /// sliver together prefetch all of the next one, each line once.
    /// </summary>
    internal static (int From, int To) NextSliverShare(int tile, int tiles, int lines) =>
        (tile * lines / tiles, (tile + 1) * lines / tiles);

    /// <summary>
    /// Loops 2 and 1 over the packed columns <paramref name="first"/>..first+width of a panel laid out as
    /// <paramref name="columns"/> says (<paramref name="panel"/> is its packed column 0): C's rows ic..ic+mc (+)= packed
    /// A block · those slivers, over one KC slice of the sum.
    /// </summary>
    /// <remarks>
    /// With <paramref name="prefetchNextSliver"/>, the full tiles of each sliver but the last prefetch the next sliver
    /// between them (<see cref="IGemmMicroKernel.RunPrefetching"/>), spread thinly over their loops. Every row block
    /// reads the whole B panel from L3, and on a shared host another program's traffic evicts part of it between those
    /// reads. Without the prefetch, a neighbour streaming through 24 MiB on the other core made 2048³ on one thread
    /// 8–13 % slower, against 0–2 % for OpenBLAS; with it, 0.3–1.5 % (session 9: 1.084× PyTorch's time with that
    /// neighbour before, 0.985× and 0.995× after). Only the one-thread panel path asks for it: on two threads, where no
    /// such neighbour could be measured, it was 0.3 % slower.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBlock<TKernel>(in GemmProblem problem, int ic, int mc, in GemmPanelColumns columns, int first, int width,
        int kc, ref float packedA, ref float panel, ref float scratch, in GemmTileStore store, bool prefetchNextSliver)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.Mr, nr = TKernel.Nr;
        int ldc = problem.Ldc;
        ref float c = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(problem.C), problem.COffset);
        GemmTileStore plain = store.PlainProduct;
        int merged = columns.Lead > 0 ? columns.MergedSliver(nr) : -1;
        int sliverStride = GemmPacking.BSliverStride<TKernel>(kc);    // the next sliver starts this far on
        int sliverLines = sliverStride / CacheHint.LineFloats, tiles = (mc + mr - 1) / mr;
        for (int jr = first; jr < first + width; jr += nr)       // loop 2: one B sliver, kept in L1
        {
            ref float bSliver = ref Unsafe.Add(ref panel, GemmPacking.BSliverOffset<TKernel>(jr, kc));
            int j = columns.Physical(jr);
            int cols = Math.Min(nr, columns.Body - jr);          // in the merged sliver, the body's part of it
            // Each tile of this sliver prefetches its share of the next one (see NextSliverShare).
            bool prefetch = prefetchNextSliver && jr + nr < first + width;
            for (int ir = 0; ir < mc; ir += mr)                  // loop 1: A slivers stream from L2
            {
                ref float aSliver = ref Unsafe.Add(ref packedA, ir * kc);
                int i = ic + ir;
                int rows = Math.Min(mr, mc - ir);
                ref float cTile = ref Unsafe.Add(ref c, ((nint)i * ldc) + j);
                if (rows == mr && cols == nr && prefetch)
                {
                    (int from, int to) = NextSliverShare(ir / mr, tiles, sliverLines);
                    nint stepBytes = (nint)(to - from) * CacheHint.LineBytes / Math.Max(1, kc / 2); // kc / 2 prefetches per tile
                    TKernel.RunPrefetching(kc, ref aSliver, ref bSliver, ref cTile, ldc, store, j,
                        ref Unsafe.Add(ref bSliver, sliverStride + (from * CacheHint.LineFloats)), stepBytes);
                }
                else if (rows == mr && cols == nr)
                {
                    TKernel.Run(kc, ref aSliver, ref bSliver, ref cTile, ldc, store, j);
                }
                else if (rows == TKernel.ShortRows && cols == nr)
                {
                    TKernel.RunShort(kc, ref aSliver, ref bSliver, ref cTile, ldc, store, j);
                }
                else
                {
                    // A ragged edge: compute the tile into scratch (the short one if it covers the rows), then store only what lies in C.
                    if (rows <= TKernel.ShortRows)
                    {
                        TKernel.RunShort(kc, ref aSliver, ref bSliver, ref scratch, nr, plain, 0);
                    }
                    else
                    {
                        TKernel.Run(kc, ref aSliver, ref bSliver, ref scratch, nr, plain, 0);
                    }
                    if (cols > 0)
                    {
                        StoreEdge(ref scratch, nr, ref cTile, ldc, rows, cols, store, j);
                    }
                    if (jr == merged)
                    {
                        // The lead's lanes follow the body's: C's first columns of the panel.
                        StoreEdge(ref Unsafe.Add(ref scratch, cols), nr, ref Unsafe.Add(ref c, ((nint)i * ldc) + columns.Start),
                            ldc, rows, columns.Lead, store, columns.Start);
                    }
                }
            }
        }
    }

    /// <summary>
    /// C[0, colStart..colEnd] for a single row of A (m = 1: a layer run on one example): a matrix-vector product, which
    /// reads each element of B once and uses it once, so it is bound by memory, not by multiply-adds. Packing would
    /// copy all of B to use each value once; here B is read in place: with B stored (n, k) (the NT form of a Linear
    /// layer, <c>x·Wᵀ</c>) one dot product per contiguous row, with B stored (k, n) one multiply-add of each row into
    /// the result. The epilogue and <see cref="GemmEpilogue.ColumnSquaresOfB"/> are applied as in the packed path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTimesMatrix(in GemmProblem problem, int colStart, int colEnd)
    {
        int k = problem.K, width = colEnd - colStart;
        GemmWorkspace workspace = GemmWorkspace.Current;
        // op(A)'s one row, contiguous: as stored unless A is transposed (then its values lie lda apart).
        Span<float> x = MemoryMarshal.CreateSpan(ref workspace.PackedA(k), k);
        for (int p = 0; p < k; p++)
        {
            x[p] = problem.TransA ? problem.A[problem.AOffset + (p * problem.Lda)] : problem.A[problem.AOffset + p];
        }
        // Sized for all n columns whichever part this is (see Run): Σ_p x_p·op(B)[p, j] for this part's columns.
        Span<float> sums = MemoryMarshal.CreateSpan(ref workspace.PackedB(problem.N), width);
        float[]? squares = problem.Epilogue.ColumnSquaresOfB;
        Span<float> squaresOut = squares is null ? default : squares.AsSpan(problem.Epilogue.ColumnSquaresOfBOffset + colStart, width);
        if (problem.TransB)
        {
            for (int j = 0; j < width; j++)
            {
                ReadOnlySpan<float> row = problem.B.AsSpan(problem.BOffset + ((colStart + j) * problem.Ldb), k);
                sums[j] = TensorPrimitives.Dot(x, row);
                if (squares is not null)
                {
                    squaresOut[j] += TensorPrimitives.SumOfSquares(row); // the row is in L1 after the dot product
                }
            }
        }
        else
        {
            sums.Clear();
            for (int p = 0; p < k; p++)
            {
                ReadOnlySpan<float> row = problem.B.AsSpan(problem.BOffset + (p * problem.Ldb) + colStart, width);
                TensorPrimitives.MultiplyAdd(row, x[p], sums, sums);
                if (squares is not null)
                {
                    TensorPrimitives.MultiplyAdd(row, row, squaresOut, squaresOut);
                }
            }
        }
        GemmTileStore store = new(problem.Alpha, problem.Beta, readC: problem.Beta != 0f, problem.Epilogue, applyEpilogue: true);
        Span<float> c = problem.C.AsSpan(problem.COffset + colStart, width);
        for (int j = 0; j < width; j++)
        {
            c[j] = store.Finish(problem.Alpha * sums[j], c[j], colStart + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreEdge(ref float scratch, int nr, ref float c, int ldc, int rows, int cols, in GemmTileStore store, int column)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float cRow = ref Unsafe.Add(ref c, (nint)r * ldc);
            ref float sRow = ref Unsafe.Add(ref scratch, r * nr);
            for (int q = 0; q < cols; q++)
            {
                ref float cq = ref Unsafe.Add(ref cRow, q);
                cq = store.Finish(Unsafe.Add(ref sRow, q), store.ReadC ? cq : 0f, column + q);
            }
        }
    }

    internal static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
