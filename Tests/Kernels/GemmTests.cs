using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>
/// The packed GEMM against <see cref="GemmReference"/> (a double-precision triple loop), for every micro-kernel,
/// every transposition form and shapes that hit every edge of the blocking.
/// </summary>
/// <remarks>
/// <para>
/// Tolerance. Each float FMA rounds once, with relative error at most u = 2⁻²⁴. Over a sum of k products the
/// errors are bounded by k·u·Σ|a·b| in the worst case, but with random signs they behave like a random walk and
/// grow as √k·u·Σ|a·b|. We allow (8 + 4√k)·u times the element's magnitude scale
/// <c>(|alpha|·Σ_p|a_ip·b_pj| + |beta·c_ij|)·|scale_j| + |bias_j|</c>: several standard deviations of the random
/// walk, plus a few roundings for alpha, beta and the epilogue. The scale is built from absolute values so that
/// cancellation in the sum cannot make the test fragile. A bug such as a dropped, doubled or misplaced term
/// changes an element by about Σ|a·b|/k, far above the tolerance for every k used here (it stays below
/// (8 + 4√k)·u·Σ|a·b| only for k beyond ~10⁴); the worst-case bound k·u would let such bugs through at large k.
/// </para>
/// <para>
/// Inputs are random in ±[0.25, 1], never zero, so every term of every sum matters.
/// </para>
/// </remarks>
[TestFixture]
[NonParallelizable] // Tests switch Gemm.Kernel and Gemm.MaxThreads, which are global.
public sealed class GemmTests
{
    private const double Ulp = 1.0 / (1 << 24);

    private static readonly string[] s_kernels = ["Scalar", "Vector128", "Vector256", "Vector512"];

    // The ways a multi-threaded product is split (GemmSplit): chosen by shape, one part per thread, shared B panels.
    private static readonly string[] s_splits = ["Auto", "Parts", "SharedPanels"];

    // (m, n, k): the degenerate shapes, primes, each kernel's tile sizes ±1 (6×16, 8×32, 4×8, 4×4), k across
    // KC (192, 256 and 768) and AVX2's single-slice depth (512: 600 in two slices, 1600 in three), m across MC (72, 128, 384), n across NC (4064, 4080). Rows 6·i + 4 end on the AVX2 kernel's
    // short 4-row tile (full width or ragged); up to 2·MC rows take the few-rows path, where B stored k×n is copied by
    // the first tile of each sliver (with and without prefetching ahead: k above and below 48), and which has no NC
    // loop; 148 rows end on a 4-row block of the panel path (the NC loop of that path: see
    // OneThreadPanelPathCrossesColumnPanels).
    private static readonly (int M, int N, int K)[] s_shapes =
    [
        (1, 1, 1), (1, 17, 5), (19, 1, 7), (13, 29, 1), (97, 83, 61),
        (5, 15, 3), (6, 16, 8), (7, 17, 9), (8, 32, 4), (9, 33, 2), (3, 7, 4), (4, 8, 5), (12, 48, 17),
        (11, 35, 193), (13, 33, 257), (7, 9, 600),
        (129, 9, 10), (145, 17, 20), (385, 33, 11),
        (3, 4081, 5), (2, 4100, 3),
        (1, 1000, 784), (1, 97, 1003),
        (100, 48, 50), (10, 33, 300), (148, 40, 70), (22, 16, 130), (5, 20, 1600),
    ];

    private GemmKernelKind _savedKernel;
    private int _savedThreads;
    private GemmSplit _savedSplit;
    private int _savedRotatedWidth;

    /// <summary>Saves the global settings the tests change.</summary>
    [SetUp]
    public void SaveSettings()
    {
        _savedKernel = Gemm.Kernel;
        _savedThreads = Gemm.MaxThreads;
        _savedSplit = Gemm.Split;
        _savedRotatedWidth = GemmPanelColumns.MinimumRotatedWidth;
    }

    /// <summary>Restores them.</summary>
    [TearDown]
    public void RestoreSettings()
    {
        Gemm.Kernel = _savedKernel;
        Gemm.MaxThreads = _savedThreads;
        Gemm.Split = _savedSplit;
        GemmPanelColumns.MinimumRotatedWidth = _savedRotatedWidth;
    }

    /// <summary>All shapes, all four transposition forms, plain alpha = 1, beta = 0.</summary>
    [Test]
    public void MatchesReferenceOnEdgeShapes([ValueSource(nameof(s_kernels))] string kernel)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        var rng = new TestRandom(1);
        foreach ((int m, int n, int k) in s_shapes)
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    var c = Case.Create(rng, transA, transB, m, n, k, alpha: 1f, beta: 0f, padding: 0, epilogue: false);
                    c.Check($"{kernel} {m}×{n}×{k} transA={transA} transB={transB}");
                }
            }
        }
    }

    /// <summary>
    /// The one-thread panel path over more than one NC panel of columns (loop 5), for every kernel and form: more rows
    /// than the few-rows path takes (2·MC, 768 for the AVX-512 kernel) and n past NC (4064, 4080). On more threads this
    /// shape is split or shares panels, and smaller ones take the few-rows path, which has no loop 5.
    /// </summary>
    [Test]
    public void OneThreadPanelPathCrossesColumnPanels([ValueSource(nameof(s_kernels))] string kernel)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        Gemm.MaxThreads = 1;
        var rng = new TestRandom(10);
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                var c = Case.Create(rng, transA, transB, 770, 4100, 2, alpha: 1f, beta: 0.5f, padding: 1, epilogue: true);
                c.Check($"{kernel} one thread, 770×4100×2 transA={transA} transB={transB}");
            }
        }
    }

    /// <summary>Offsets, padded leading dimensions, alpha and beta ≠ 1 and 0, and the full epilogue.</summary>
    [Test]
    public void MatchesReferenceWithOffsetsScalingAndEpilogue([ValueSource(nameof(s_kernels))] string kernel)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        var rng = new TestRandom(2);
        foreach ((int m, int n, int k) in s_shapes)
        {
            if ((long)m * n * k > 200_000)
            {
                continue;
            }
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    var c = Case.Create(rng, transA, transB, m, n, k, alpha: -1.5f, beta: 0.75f, padding: 3, epilogue: true);
                    c.Check($"{kernel} {m}×{n}×{k} transA={transA} transB={transB} with epilogue");
                }
            }
        }
    }

    /// <summary>Each part of the epilogue on its own, so one term cannot hide another's bug.</summary>
    [Test]
    public void EpiloguePartsEachMatchReference(
        [Values(true, false)] bool scale, [Values(true, false)] bool bias, [Values(true, false)] bool relu)
    {
        var rng = new TestRandom(3);
        var c = Case.Create(rng, false, true, 37, 45, 70, alpha: 0.5f, beta: 0f, padding: 1, epilogue: false);
        c.Epilogue = new GemmEpilogue
        {
            ColumnScale = scale ? rng.Array(45 + 2) : null,
            ColumnScaleOffset = scale ? 2 : 0,
            ColumnBias = bias ? rng.Array(45 + 1) : null,
            ColumnBiasOffset = bias ? 1 : 0,
            Activation = relu ? GemmActivation.Relu : GemmActivation.None,
        };
        c.Check($"scale={scale} bias={bias} relu={relu}");
    }

    /// <summary>
    /// The column sums of squares of op(B), a by-product of packing, against a double-precision loop: every kernel,
    /// both layouts of B, edge shapes, offsets, and added onto what the array held. Summands are positive, so the
    /// float sum's error is below k·u of the total (no cancellation); we allow (8 + k)·u.
    /// </summary>
    [Test]
    public void ColumnSquaresOfBMatchReference([ValueSource(nameof(s_kernels))] string kernel, [Values(false, true)] bool transB)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        var rng = new TestRandom(7);
        foreach ((int m, int n, int k) in s_shapes)
        {
            if ((long)m * n * k > 200_000)
            {
                continue;
            }
            var c = Case.Create(rng, false, transB, m, n, k, alpha: 1f, beta: 0f, padding: 2, epilogue: false);
            float[] start = rng.Array(n + 3);
            float[] actual = (float[])start.Clone(), expected = (float[])start.Clone();
            c.Epilogue = new GemmEpilogue { ColumnSquaresOfB = actual, ColumnSquaresOfBOffset = 3 };
            _ = c.RunGemm();
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double value = transB ? c.B[c.BOffset + (j * c.Ldb) + p] : c.B[c.BOffset + (p * c.Ldb) + j];
                    sum += value * value;
                }
                expected[3 + j] += (float)sum;
                Assert.That(actual[3 + j], Is.EqualTo(expected[3 + j]).Within((8 + k) * Ulp * (sum + Math.Abs(start[3 + j]))),
                    $"{kernel} {m}×{n}×{k} transB={transB}, column {j}");
            }
            Assert.That(actual.AsSpan(0, 3).ToArray(), Is.EqualTo(start.AsSpan(0, 3).ToArray()).AsCollection, "elements before the offset untouched");
        }
    }

    /// <summary>
    /// The shared-panel split (forced, so that small products take it too) against the reference: every kernel and
    /// transposition form, 2 and 3 threads, with offsets, alpha, beta and the epilogue, on shapes with one and several
    /// row blocks (MC), slices of the sum (KC), packing pieces (256 columns) and column panels (NC), and ragged edges.
    /// </summary>
    [Test]
    public void SharedPanelsMatchReference([ValueSource(nameof(s_kernels))] string kernel, [Values(2, 3)] int threads)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        Gemm.Split = GemmSplit.SharedPanels;
        Gemm.MaxThreads = threads;
        var rng = new TestRandom(9);
        foreach ((int m, int n, int k) in new[] { (2, 3, 4), (7, 17, 9), (97, 83, 61), (150, 37, 200), (389, 260, 400), (13, 4100, 20), (800, 33, 5), (160, 40, 1100) })
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    var c = Case.Create(rng, transA, transB, m, n, k, alpha: -1.5f, beta: 0.75f, padding: 3, epilogue: true);
                    c.Check($"{kernel} shared panels, {threads} threads, {m}×{n}×{k} transA={transA} transB={transB}");
                }
            }
        }
    }

    /// <summary>
    /// C placed at each of the 16 offsets into a cache line, its rows a whole number of lines apart: the placements
    /// whose rows start part-way into a line rotate the B panels (<see cref="GemmPanelColumns"/>), the others do not.
    /// Every placement matches the reference and gives the same bits as every other (each element is one lane's sum,
    /// wherever its lane is), with the epilogue's columns and the column sums of squares in the right places, and
    /// nothing outside C written. One thread, two threads split into parts (each part's panel rotates on its own),
    /// and shared panels; every kernel and transposition form, and a product with two column panels (NC).
    /// </summary>
    [Test]
    public void EveryPlacementOfCGivesTheSameBits([ValueSource(nameof(s_kernels))] string kernel, [Values("One", "Parts", "SharedPanels")] string mode)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        Gemm.MaxThreads = mode == "One" ? 1 : 2;
        Gemm.Split = mode == "One" ? GemmSplit.Auto : Enum.Parse<GemmSplit>(mode);
        GemmPanelColumns.MinimumRotatedWidth = 0; // the library rotates only panels 1024 columns wide or more
        var rng = new TestRandom(11);
        // Rotation is for the panel path: rows above the few-rows path's limit (2·MC: 144 for AVX2, 256 for the
        // Vector128 kernel, 768 for AVX-512), or for each part of a two-thread split (at least 1 << 20 multiply-adds per
        // thread); (7, 4112, 9) crosses the AVX2 kernel's NC (4080), leaving a 32-column second panel.
        var shapes = new List<(int M, int N, int K)> { (20, 64, 30), (13, 50, 7), (9, 96, 600), (300, 256, 30), (600, 128, 30) };
        if (kernel == "Vector512")
        {
            shapes.Add(mode == "Parts" ? (1600, 64, 20) : (800, 64, 5));
        }
        if (mode == "One" && kernel == "Vector256")
        {
            shapes.Add((7, 4112, 9));
        }
        int rotated = 0;
        foreach ((int m, int n, int k) in shapes)
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    if (m * n > 20_000 && transA != transB)
                    {
                        continue; // the large shapes in two forms only
                    }
                    var c = Case.Create(rng, transA, transB, m, n, k, alpha: -1.5f, beta: 0.75f, padding: 0, epilogue: true);
                    int ldc = ((n + 15) / 16 * 16) + 16;
                    float[]? firstResult = null, firstSquares = null;
                    for (int offset = 0; offset < 16; offset++)
                    {
                        Case placed = c.PlacedAt(offset, ldc);
                        float[] squares = new float[n];
                        placed.Epilogue = placed.Epilogue with { ColumnSquaresOfB = squares };
                        string what = $"{kernel} {mode} {m}×{n}×{k} transA={transA} transB={transB}, C at offset {offset}";
                        float[] result = placed.RunGemm();
                        placed.CheckResult(result, what);
                        for (int index = 0; index < result.Length; index++)
                        {
                            bool inside = index >= offset && (index - offset) % ldc < n && (index - offset) / ldc < m;
                            if (!inside && BitConverter.SingleToInt32Bits(result[index]) != BitConverter.SingleToInt32Bits(placed.C[index]))
                            {
                                Assert.Fail($"{what}: element {index}, outside C, was written");
                            }
                        }
                        float[] logical = placed.Logical(result);
                        firstResult ??= logical;
                        firstSquares ??= squares;
                        Assert.That(logical, Is.EqualTo(firstResult).AsCollection, $"{what}: not the bits of offset 0");
                        Assert.That(squares, Is.EqualTo(firstSquares).AsCollection, $"{what}: column squares not the bits of offset 0");
                        rotated += mode != "Parts" && (mode == "SharedPanels" || m > FewRows()) && RotatesFirstPanel(placed) ? 1 : 0;
                    }
                }
            }
        }
        if (kernel != "Scalar" && mode != "Parts") // (the parts' panels are not visible from here)
        {
            Assert.That(rotated, Is.GreaterThan(0), "some placements rotate the panels");
        }
    }

    /// <summary>
    /// The tiles of one B sliver prefetch the next sliver in consecutive shares that cover every cache line once, also
    /// when there are more tiles than lines.
    /// </summary>
    [Test]
    public void NextSliverSharesCoverTheSliverOnce()
    {
        foreach (int tiles in new[] { 1, 2, 7, 12, 24 })
        {
            foreach (int lines in new[] { 1, 5, 12, 13, 689, 1025 })
            {
                int next = 0;
                for (int tile = 0; tile < tiles; tile++)
                {
                    (int from, int to) = GemmDriver.NextSliverShare(tile, tiles, lines);
                    Assert.That(from, Is.EqualTo(next), $"{tiles} tiles, {lines} lines: tile {tile} starts where the last ended");
                    Assert.That(to, Is.GreaterThanOrEqualTo(from), $"{tiles} tiles, {lines} lines: tile {tile}");
                    next = to;
                }
                Assert.That(next, Is.EqualTo(lines), $"{tiles} tiles, {lines} lines: the shares end at the sliver's end");
            }
        }
    }

    /// <summary>
    /// Each micro-kernel's prefetching tile gives the bits of its plain one, with every store (beta, reading C, the
    /// epilogue), for depths that end on the unrolled pair of steps and one past it.
    /// </summary>
    [Test]
    public void PrefetchingTileGivesTheBitsOfThePlainOne([ValueSource(nameof(s_kernels))] string kernel)
    {
        // (Each kernel runs on any machine: without the instructions, .NET runs its vector types in software.)
        switch (Enum.Parse<GemmKernelKind>(kernel))
        {
            case GemmKernelKind.Vector512:
                CheckPrefetchingTile<GemmMicroKernel512>();
                break;
            case GemmKernelKind.Vector256:
                CheckPrefetchingTile<GemmMicroKernel256>();
                break;
            case GemmKernelKind.Vector128:
                CheckPrefetchingTile<GemmMicroKernel128>();
                break;
            default:
                CheckPrefetchingTile<GemmMicroKernelScalar>();
                break;
        }
    }

    private static void CheckPrefetchingTile<TKernel>()
        where TKernel : struct, IGemmMicroKernel
    {
        var rng = new TestRandom(13);
        int mr = TKernel.Mr, nr = TKernel.Nr, ldc = nr + 3;
        var epilogue = new GemmEpilogue { ColumnScale = rng.Array(nr), ColumnBias = rng.Array(nr), Activation = GemmActivation.Relu };
        foreach (int kc in new[] { 1, 2, 7, 16, 17, 688 })
        {
            float[] a = rng.Array(mr * kc), b = rng.Array(kc * nr), c = rng.Array(mr * ldc);
            float[] target = rng.Array((kc * 16) + 16); // what the prefetches point at: one line per two steps
            foreach (GemmTileStore store in new[]
            {
                new GemmTileStore(1f, 0f, readC: false, default, applyEpilogue: false),
                new GemmTileStore(-0.5f, 1.5f, readC: true, epilogue, applyEpilogue: true),
            })
            {
                float[] plain = (float[])c.Clone(), prefetching = (float[])c.Clone();
                TKernel.Run(kc, ref a[0], ref b[0], ref plain[0], ldc, store, 0);
                TKernel.RunPrefetching(kc, ref a[0], ref b[0], ref prefetching[0], ldc, store, 0, ref target[0], 64);
                Assert.That(prefetching, Is.EqualTo(plain).AsCollection, $"{typeof(TKernel).Name}, kc = {kc}");
            }
        }
    }

    // The rows up to which the kernel in use takes the few-rows path, which does not rotate.
    private static int FewRows() => Gemm.Kernel switch
    {
        GemmKernelKind.Vector512 => GemmDriver.FewRows<GemmMicroKernel512>(),
        GemmKernelKind.Vector256 => GemmDriver.FewRows<GemmMicroKernel256>(),
        GemmKernelKind.Vector128 => GemmDriver.FewRows<GemmMicroKernel128>(),
        _ => GemmDriver.FewRows<GemmMicroKernelScalar>(),
    };

    // Whether the kernel in use rotates the first column panel of this placement on the panel path.
    private static bool RotatesFirstPanel(Case placed)
    {
        var problem = new GemmProblem(placed.TransA, placed.TransB, placed.M, placed.N, placed.K, placed.Alpha,
            placed.A, placed.AOffset, placed.Lda, placed.B, placed.BOffset, placed.Ldb, placed.Beta, placed.C, placed.COffset, placed.Ldc, default);
        int misalignment = GemmPanelColumns.Misalignment(problem);
        GemmPanelColumns columns = Gemm.Kernel switch
        {
            GemmKernelKind.Vector512 => GemmPanelColumns.For<GemmMicroKernel512>(misalignment, 0, Math.Min(placed.N, GemmMicroKernel512.Nc)),
            GemmKernelKind.Vector256 => GemmPanelColumns.For<GemmMicroKernel256>(misalignment, 0, Math.Min(placed.N, GemmMicroKernel256.Nc)),
            GemmKernelKind.Vector128 => GemmPanelColumns.For<GemmMicroKernel128>(misalignment, 0, Math.Min(placed.N, GemmMicroKernel128.Nc)),
            _ => GemmPanelColumns.For<GemmMicroKernelScalar>(misalignment, 0, Math.Min(placed.N, GemmMicroKernelScalar.Nc)),
        };
        return columns.Lead > 0;
    }

    /// <summary>
    /// The rotation is a one-to-one map of the panel's columns that puts a line boundary of C at the start of every
    /// full sliver and keeps the lead beside the body's remainder in one sliver, for every misalignment and width.
    /// </summary>
    [Test]
    public void RotatedColumnsAreAPermutationAlignedToLines()
    {
        GemmPanelColumns.MinimumRotatedWidth = 0;
        int nr = GemmMicroKernel256.Nr;
        int leads = 0;
        for (int misalignment = -1; misalignment < 16; misalignment++)
        {
            for (int width = 1; width <= 100; width++)
            {
                GemmPanelColumns columns = GemmPanelColumns.For<GemmMicroKernel256>(misalignment, 32, width);
                Assert.That(columns.Start, Is.EqualTo(32));
                Assert.That(columns.Width, Is.EqualTo(width));
                var seen = new HashSet<int>();
                for (int t = 0; t < width; t++)
                {
                    Assert.That(seen.Add(columns.Physical(t)), Is.True, $"misalignment {misalignment}, width {width}: column {t} maps twice");
                }
                Assert.That(seen.Min(), Is.EqualTo(32));
                Assert.That(seen.Max(), Is.EqualTo(32 + width - 1));
                if (columns.Lead == 0)
                {
                    continue;
                }
                leads++;
                Assert.That(misalignment, Is.GreaterThanOrEqualTo(0), "C's rows not alike: no rotation");
                Assert.That((misalignment + columns.Physical(0)) % 16, Is.Zero, $"misalignment {misalignment}, width {width}: body not on a line");
                int merged = columns.MergedSliver(nr);
                Assert.That((columns.Body - merged) + columns.Lead, Is.LessThanOrEqualTo(nr), "lead and remainder share one sliver");
                Assert.That(columns.Physical(columns.Body), Is.EqualTo(32), "the lead follows the body");
            }
        }
        Assert.That(leads, Is.GreaterThan(100));
    }

    /// <summary>By default only panels of 1024 columns or more rotate.</summary>
    [Test]
    public void OnlyWidePanelsRotate()
    {
        int Lead(int m, int n)
        {
            float[] c = new float[(m * n) + 16];
            for (int offset = 0; offset < 16; offset++)
            {
                var problem = new GemmProblem(false, false, m, n, 1, 1f, [1f], 0, 1, [1f], 0, n, 0f, c, offset, n, default);
                int lead = GemmPanelColumns.For<GemmMicroKernel256>(GemmPanelColumns.Misalignment(problem), 0, n).Lead;
                if (lead > 0)
                {
                    return lead;
                }
            }
            return 0;
        }
        Assert.That(Lead(512, 512), Is.Zero, "512 columns");
        Assert.That(Lead(8, 1008), Is.Zero, "1008 columns");
        Assert.That(Lead(8, 1024), Is.InRange(1, 15), "1024 columns");
        Assert.That(Lead(8, 2048), Is.InRange(1, 15), "2048 columns");
    }

    /// <summary>The squares are written once per column and bitwise the same for 1, 2 and 3 threads, whichever way C is split.</summary>
    [Test]
    public void ColumnSquaresOfBIsBitwiseIdenticalForAnyThreadCount([Values(false, true)] bool transB, [ValueSource(nameof(s_splits))] string split)
    {
        Gemm.Split = Enum.Parse<GemmSplit>(split);
        var rng = new TestRandom(8);
        foreach ((int m, int n, int k) in new[] { (100, 1000, 784), (1000, 100, 300), (300, 301, 299), (1, 1000, 784), (600, 300, 700) })
        {
            var c = Case.Create(rng, false, transB, m, n, k, alpha: 1f, beta: 0f, padding: 1, epilogue: false);
            float[] Run(int threads)
            {
                Gemm.MaxThreads = threads;
                float[] squares = new float[n];
                c.Epilogue = new GemmEpilogue { ColumnSquaresOfB = squares };
                _ = c.RunGemm();
                return squares;
            }
            float[] one = Run(1);
            Assert.That(Run(2), Is.EqualTo(one).AsCollection, $"2 threads, {m}×{n}×{k}");
            Assert.That(Run(3), Is.EqualTo(one).AsCollection, $"3 threads, {m}×{n}×{k}");
        }
    }

    /// <summary>Large enough to use the worker threads: 1, 2 and 3 threads give the same bytes.</summary>
    [Test]
    public void ResultIsBitwiseIdenticalForAnyThreadCount(
        [Values(false, true)] bool transA, [Values(false, true)] bool transB, [ValueSource(nameof(s_splits))] string split)
    {
        Gemm.Split = Enum.Parse<GemmSplit>(split);
        var rng = new TestRandom(4);
        // (1, n, k): a single row of A takes the matrix-vector path, split by columns. (600, 300, 700) has enough rows
        // for the shared panels by default, several row blocks and two slices of the sum.
        foreach ((int m, int n, int k) in new[] { (100, 1000, 784), (1000, 784, 100), (301, 299, 300), (1, 1000, 784), (1, 333, 1500), (600, 300, 700) })
        {
            var c = Case.Create(rng, transA, transB, m, n, k, alpha: 1.25f, beta: 0.5f, padding: 2, epilogue: true);
            Gemm.MaxThreads = 1;
            float[] one = c.RunGemm();
            Gemm.MaxThreads = 2;
            float[] two = c.RunGemm();
            Gemm.MaxThreads = 3;
            float[] three = c.RunGemm();
            Assert.That(two, Is.EqualTo(one).AsCollection, $"2 threads, {m}×{n}×{k}");
            Assert.That(three, Is.EqualTo(one).AsCollection, $"3 threads, {m}×{n}×{k}");
        }
    }

    /// <summary>
    /// Two threads multiplying at once share the workers safely: one gets them, the other runs on its own thread,
    /// and both results are the same bytes as a lone single-threaded run.
    /// </summary>
    [Test]
    public void ConcurrentCallersGetCorrectResults()
    {
        var rng = new TestRandom(8);
        var first = Case.Create(rng, false, true, 100, 1000, 784, alpha: 1f, beta: 0f, padding: 0, epilogue: true);
        // 600 rows: enough for the shared-panel split, whose caller must also finish alone when the workers are taken.
        var second = Case.Create(rng, true, false, 600, 200, 150, alpha: 1f, beta: 0.5f, padding: 1, epilogue: false);
        Gemm.MaxThreads = 1;
        float[] expectedFirst = first.RunGemm(), expectedSecond = second.RunGemm();
        Gemm.MaxThreads = 2;
        float[][] results = new float[2][];
        var threads = new System.Threading.Thread[2];
        for (int t = 0; t < 2; t++)
        {
            int index = t;
            threads[t] = new System.Threading.Thread(() =>
            {
                for (int repeat = 0; repeat < 20; repeat++)
                {
                    results[index] = index == 0 ? first.RunGemm() : second.RunGemm();
                }
            });
            threads[t].Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }
        Assert.That(results[0], Is.EqualTo(expectedFirst).AsCollection);
        Assert.That(results[1], Is.EqualTo(expectedSecond).AsCollection);
    }

    /// <summary>The grid choice splits the long side and never makes an empty part.</summary>
    [Test]
    public void PartitionSplitsTheCheaperSide()
    {
        Assert.That(GemmPartition.Choose(100, 1000, 6, 16, 2), Is.EqualTo((1, 2)));
        Assert.That(GemmPartition.Choose(1000, 100, 6, 16, 2), Is.EqualTo((2, 1)));
        Assert.That(GemmPartition.Choose(6, 16, 6, 16, 2), Is.EqualTo((1, 1)));
        Assert.That(GemmPartition.Choose(12, 16, 6, 16, 4), Is.EqualTo((2, 1)));
        Assert.That(GemmPartition.Range(100, 6, 2, 0), Is.EqualTo((0, 48)));
        Assert.That(GemmPartition.Range(100, 6, 2, 1), Is.EqualTo((48, 100)));
    }

    /// <summary>After warm-up a call allocates nothing, on one thread and with the workers.</summary>
    [Test]
    public void SteadyStateCallsAllocateNothing([Values(1, 2)] int threads, [Values("Parts", "SharedPanels")] string split)
    {
        Gemm.MaxThreads = threads;
        Gemm.Split = Enum.Parse<GemmSplit>(split);
        var rng = new TestRandom(5);
        var c = Case.Create(rng, false, true, 100, 1000, 784, alpha: 1f, beta: 0f, padding: 0, epilogue: true);
        for (int i = 0; i < 5; i++)
        {
            c.RunGemmInPlace();
        }
        // The calling thread: ten calls in a row that allocate nothing. Up to three tries: a one-off allocation on this
        // thread that is not the GEMM's (seen twice in session 8, 144 bytes once in a full test run, source not found)
        // passes on the next try, while a GEMM that allocated in steady state would allocate in every try.
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                c.RunGemmInPlace();
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.That(allocated, Is.Zero, "bytes allocated on the calling thread");

        // Whole-process count, which includes the workers; the test host may allocate on its own threads meanwhile,
        // so one quiet try out of several is enough.
        bool quiet = false;
        for (int attempt = 0; attempt < 20 && !quiet; attempt++)
        {
            long total = GC.GetTotalAllocatedBytes(precise: true);
            c.RunGemmInPlace();
            quiet = GC.GetTotalAllocatedBytes(precise: true) == total;
        }
        Assert.That(quiet, Is.True, "bytes allocated by any thread during a call");
    }

    /// <summary>beta = 0 overwrites C without reading it, as in BLAS: NaN there does not leak into the result.</summary>
    [Test]
    public void BetaZeroIgnoresNaNInC([ValueSource(nameof(s_kernels))] string kernel)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        var rng = new TestRandom(6);
        var c = Case.Create(rng, false, false, 13, 35, 300, alpha: 2f, beta: 0f, padding: 0, epilogue: false);
        Array.Fill(c.C, float.NaN);
        c.Check("C full of NaN, beta = 0");
    }

    /// <summary>alpha = 0 or k = 0 leaves beta·C then the epilogue; A and B are not read.</summary>
    [Test]
    public void NothingToMultiplyScalesC()
    {
        float[] c = [1f, 2f, 3f, 4f, 5f, 6f];
        float[] nanA = [float.NaN, float.NaN];
        float[] b = [1f, 1f, 1f, 1f, 1f, 1f];
        var epilogue = new GemmEpilogue { ColumnBias = [1f, 0f, -100f] };
        Gemm.Multiply(false, false, 2, 3, 1, 0f, nanA, 0, 1, b, 0, 3, 0.5f, c, 0, 3, epilogue);
        Assert.That(c, Is.EqualTo(new[] { 1.5f, 1f, -98.5f, 3f, 2.5f, -97f }).AsCollection);

        float[] empty = [];
        Gemm.Multiply(false, false, 2, 3, 0, 1f, empty, 0, 1, empty, 0, 3, 2f, c, 0, 3);
        Assert.That(c, Is.EqualTo(new[] { 3f, 2f, -197f, 6f, 5f, -194f }).AsCollection);
    }

    /// <summary>Nothing outside the m×n region of C changes: not the row padding, not before the offset, not after.</summary>
    [Test]
    public void WritesOnlyInsideC([ValueSource(nameof(s_kernels))] string kernel)
    {
        Gemm.Kernel = Enum.Parse<GemmKernelKind>(kernel);
        var rng = new TestRandom(7);
        var c = Case.Create(rng, true, false, 31, 47, 19, alpha: 1f, beta: 1f, padding: 5, epilogue: true);
        float[] before = (float[])c.C.Clone();
        float[] after = c.RunGemm();
        for (int index = 0; index < after.Length; index++)
        {
            int local = index - c.COffset;
            bool inside = local >= 0 && local / c.Ldc < c.M && local % c.Ldc < c.N;
            if (!inside)
            {
                Assert.That(after[index], Is.EqualTo(before[index]), $"element {index} outside C changed");
            }
        }
    }

    /// <summary>
    /// The kernel picked at start-up follows what the runtime accelerates, so the forced-down CI runs
    /// (DOTNET_EnableAVX2=0 and the like) really run the narrower kernels.
    /// </summary>
    [Test]
    public void StartUpKernelFollowsTheHardware()
    {
        GemmKernelKind kernel = _savedKernel;
        TestContext.Out.WriteLine($"GEMM kernel: {kernel}");
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Assert.That(kernel, Is.Not.EqualTo(GemmKernelKind.Vector512));
        }
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            Assert.That(kernel, Is.Not.EqualTo(GemmKernelKind.Vector256));
        }
        if (!System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            Assert.That(kernel, Is.EqualTo(GemmKernelKind.Scalar));
        }
    }

    /// <summary>Bad arguments throw with a message naming the matrix and its sizes.</summary>
    [Test]
    public void RejectsBadArgumentsWithClearMessages()
    {
        float[] a = new float[100 * 784], b = new float[784 * 10], c = new float[100 * 10];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 100, 10, 784, 1f, a, 0, 700, b, 0, 10, 0f, c, 0, 10));
        Assert.That(ex!.Message, Does.StartWith("Gemm: A is 100×784 (transA=false, lda=700"));
        Assert.That(ex.Message, Does.Contain("lda must be ≥ 784"));

        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 100, 10, 784, 1f, a, 1, 784, b, 0, 10, 0f, c, 0, 10));
        Assert.That(ex!.Message, Does.Contain("needs 78401 elements, the array has 78400"));

        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, true, 100, 10, 784, 1f, a, 0, 784, b, 0, 784, 0f, c, 0, 9));
        Assert.That(ex!.Message, Does.Contain("ldc must be ≥ 10"));

        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, -1, 10, 784, 1f, a, 0, 784, b, 0, 10, 0f, c, 0, 10));
        Assert.That(ex!.Message, Does.Contain("must not be negative"));

        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 100, 10, 784, 1f, a, 0, 784, b, 0, 10, 0f, c, 0, 10,
            new GemmEpilogue { ColumnBias = new float[9] }));
        Assert.That(ex!.Message, Does.Contain("ColumnBias needs 10 elements"));

        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 100, 10, 784, 1f, a, 0, 784, b, 0, 10, 0f, c, 0, 10,
            new GemmEpilogue { ColumnSquaresOfB = b }));
        Assert.That(ex!.Message, Does.Contain("ColumnSquaresOfB must be an array of its own"));

        ex = Assert.Throws<ArgumentException>(() => GemmReference.Multiply(true, false, 100, 10, 784, 1f, a, 0, 99, b, 0, 10, 0f, c, 0, 10));
        Assert.That(ex!.Message, Does.StartWith("Gemm: A is 784×100 (transA=true, lda=99"));

        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MaxThreads = 0);
    }

    /// <summary>One multiplication with its inputs, run by the kernel and by the reference.</summary>
    private sealed class Case
    {
        public bool TransA { get; private init; }
        public bool TransB { get; private init; }
        public int M { get; private init; }
        public int N { get; private init; }
        public int K { get; private init; }
        public float Alpha { get; private init; }
        public float Beta { get; private init; }
        public float[] A { get; private init; } = [];
        public int AOffset { get; private init; }
        public int Lda { get; private init; }
        public float[] B { get; private init; } = [];
        public int BOffset { get; private init; }
        public int Ldb { get; private init; }
        public float[] C { get; private init; } = [];
        public int COffset { get; private init; }
        public int Ldc { get; private init; }
        public GemmEpilogue Epilogue { get; set; }

        public static Case Create(TestRandom rng, bool transA, bool transB, int m, int n, int k,
            float alpha, float beta, int padding, bool epilogue)
        {
            // Stored shapes: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k).
            int aRows = transA ? k : m, aCols = transA ? m : k;
            int bRows = transB ? n : k, bCols = transB ? k : n;
            int lda = aCols + padding, ldb = bCols + padding, ldc = n + padding;
            int aOffset = padding, bOffset = 2 * padding, cOffset = padding;

            // Exactly as long as the extent needs, so a read past the end would be a read past the array.
            var result = new Case
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                A = rng.Array(aOffset + ((aRows - 1) * lda) + aCols), AOffset = aOffset, Lda = lda,
                B = rng.Array(bOffset + ((bRows - 1) * ldb) + bCols), BOffset = bOffset, Ldb = ldb,
                C = rng.Array(cOffset + ((m - 1) * ldc) + n + padding), COffset = cOffset, Ldc = ldc,
            };
            if (epilogue)
            {
                result.Epilogue = new GemmEpilogue
                {
                    ColumnScale = rng.Array(n + 1), ColumnScaleOffset = 1,
                    ColumnBias = rng.Array(n), Activation = GemmActivation.Relu,
                };
            }
            return result;
        }

        /// <summary>
        /// The same product with C's elements (the same values) at <paramref name="cOffset"/>, rows
        /// <paramref name="ldc"/> apart, in an array whose other elements are distinct non-zero values.
        /// </summary>
        public Case PlacedAt(int cOffset, int ldc)
        {
            float[] c = new float[cOffset + ((M - 1) * ldc) + N + 5];
            for (int index = 0; index < c.Length; index++)
            {
                c[index] = 1000f + index;
            }
            for (int i = 0; i < M; i++)
            {
                Array.Copy(C, COffset + (i * Ldc), c, cOffset + (i * ldc), N);
            }
            return new Case
            {
                TransA = TransA, TransB = TransB, M = M, N = N, K = K, Alpha = Alpha, Beta = Beta,
                A = A, AOffset = AOffset, Lda = Lda, B = B, BOffset = BOffset, Ldb = Ldb,
                C = c, COffset = cOffset, Ldc = ldc, Epilogue = Epilogue,
            };
        }

        /// <summary>The M×N elements of C, row after row, out of an array laid out as this case's C.</summary>
        public float[] Logical(float[] c)
        {
            float[] values = new float[M * N];
            for (int i = 0; i < M; i++)
            {
                Array.Copy(c, COffset + (i * Ldc), values, i * N, N);
            }
            return values;
        }

        public float[] RunGemm()
        {
            float[] c = (float[])C.Clone();
            Gemm.Multiply(TransA, TransB, M, N, K, Alpha, A, AOffset, Lda, B, BOffset, Ldb, Beta, c, COffset, Ldc, Epilogue);
            return c;
        }

        public void RunGemmInPlace() =>
            Gemm.Multiply(TransA, TransB, M, N, K, Alpha, A, AOffset, Lda, B, BOffset, Ldb, Beta, C, COffset, Ldc, Epilogue);

        public void Check(string what) => CheckResult(RunGemm(), what);

        public void CheckResult(float[] actual, string what)
        {
            float[] expected = (float[])C.Clone();
            GemmReference.Multiply(TransA, TransB, M, N, K, Alpha, A, AOffset, Lda, B, BOffset, Ldb, Beta, expected, COffset, Ldc, Epilogue);
            double relative = (8 + (4 * Math.Sqrt(K))) * Ulp;
            int failures = 0;
            var messages = new List<string>();
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    int index = COffset + (i * Ldc) + j;
                    double tolerance = relative * MagnitudeScale(i, j) + 1e-30;
                    double error = Math.Abs((double)actual[index] - expected[index]);
                    if (!(error <= tolerance) && failures++ < 5)
                    {
                        messages.Add($"C[{i},{j}] = {actual[index]}, expected {expected[index]} (±{tolerance:G3})");
                    }
                }
            }
            Assert.That(failures, Is.Zero, $"{what}: {failures} elements off. " + string.Join("; ", messages));
        }

        // (|alpha|·Σ|a·b| + |beta·c|)·|scale| + |bias|: the size of what was added up, without cancellation.
        private double MagnitudeScale(int i, int j)
        {
            double sum = 0;
            for (int p = 0; p < K; p++)
            {
                double a = TransA ? A[AOffset + (p * Lda) + i] : A[AOffset + (i * Lda) + p];
                double b = TransB ? B[BOffset + (j * Ldb) + p] : B[BOffset + (p * Ldb) + j];
                sum += Math.Abs(a * b);
            }
            double magnitude = (Math.Abs(Alpha) * sum) + (Beta == 0f ? 0 : Math.Abs(Beta * (double)C[COffset + (i * Ldc) + j]));
            if (Epilogue.ColumnScale is { } scale)
            {
                magnitude *= Math.Abs(scale[Epilogue.ColumnScaleOffset + j]);
            }
            if (Epilogue.ColumnBias is { } bias)
            {
                magnitude += Math.Abs(bias[Epilogue.ColumnBiasOffset + j]);
            }
            return magnitude;
        }
    }

    /// <summary>A small seeded generator (xorshift64*), so the inputs never depend on System.Random's version.</summary>
    private sealed class TestRandom(ulong seed)
    {
        private ulong _state = (seed * 0x9E3779B97F4A7C15UL) | 1;

        /// <summary>Values in ±[0.25, 1]: random signs and magnitudes, never zero.</summary>
        public float[] Array(int length)
        {
            float[] values = new float[length];
            for (int i = 0; i < length; i++)
            {
                _state ^= _state >> 12;
                _state ^= _state << 25;
                _state ^= _state >> 27;
                ulong bits = _state * 0x2545F4914F6CDD1DUL;
                float magnitude = 0.25f + (0.75f * (bits >> 40) / (1 << 24));
                values[i] = (bits & 1) == 0 ? magnitude : -magnitude;
            }
            return values;
        }
    }
}
