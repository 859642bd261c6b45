using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Single-precision general matrix multiply, <c>C = alpha·op(A)·op(B) + beta·C</c>, packed, cache-blocked,
/// register-blocked and multi-threaded in the manner of BLIS (Van Zee and van de Geijn, 2015).
/// </summary>
/// <remarks>
/// <para>
/// The product is m·n·k multiply-adds but only m·k + k·n + m·n numbers: each number of A is used n times and each
/// of B m times. A naive loop fetches them from memory each time; the design below fetches each from far memory
/// about once, from L2 about n/NC times, and keeps the multiply-adds themselves in registers. Five loops do it:
/// </para>
/// <code>
/// for jc in 0..n step NC                     loop 5: a panel of NC columns of B and C          (B panel → L3)
///   for pc in 0..k step KC                   loop 4: a slice of KC steps of the sum
///     pack op(B)[pc.., jc..] as KC×NC        NR-column slivers, contiguous; the transposition happens here
///     for ic in 0..m step MC                 loop 3: a block of MC rows of A and C
///       pack op(A)[ic.., pc..] as MC×KC      MR-row slivers                                    (A block → L2)
///       for jr in 0..NC step NR              loop 2: one KC×NR sliver of B                     (B sliver → L1)
///         for ir in 0..MC step MR            loop 1: one MR×KC sliver of A, streamed from L2
///           micro-kernel: C[MR×NR tile] += A sliver · B sliver, the tile in registers (KC rank-1 updates)
/// </code>
/// <para>
/// The micro-kernel (<see cref="GemmMicroKernel256"/> and its siblings) is chosen once, at start-up, for the widest
/// vectors the CPU accelerates; its comments give the tile shape and the MC/KC/NC chosen for this machine's caches.
/// Edge tiles are computed in full from zero-padded packing into a scratch tile and only their valid part is
/// stored, so nothing outside A, B or C is ever read or written. A last sliver of A with 4 real rows or fewer runs the
/// kernel's short tile (<see cref="IGemmMicroKernel.RunShort"/>) instead of a full one padded with zeros.
/// </para>
/// <para>
/// A part of C at most 2·MC rows tall (the MLP's batch of 100) skips the packed panel of loop 5: B is packed one
/// sliver at a time, right before its tiles, and when B is stored k×n the first tile of each sliver reads it in
/// place and leaves the packed copy behind, so there is no packing pass over B at all (<c>GemmDriver.RunFewRows</c>).
/// Each value of B is used only m times there, so moving B is a large part of the call.
/// </para>
/// <para>
/// Threads never split the sum, so every element is computed by the same sequence of operations whatever the
/// thread count: results are bitwise identical for 1, 2 or 64 threads. When C has a few MC-row blocks per thread
/// (<see cref="GemmPanelJob"/>), the threads share each packed B panel, as BLIS and OpenBLAS do: its pieces are
/// packed once, by whichever thread is free, and the blocks of C's rows are taken from its two ends, the caller from
/// the top and the helpers from the bottom, so that each thread keeps its rows from slice to slice. Otherwise (the
/// MLP's batch of 100 rows) C is cut into one row × column part per thread (<see cref="GemmPartition"/>), each
/// packing what it needs. Products too small to repay waking a thread run on the caller's thread.
/// </para>
/// </remarks>
public static class Gemm
{
    // Below this many multiply-adds per thread (about 20 µs of work at 100 GFLOP/s), waking a worker (a few µs,
    // more if it has gone to sleep) and packing B or A twice cost more than the second core gives back.
    private const double MinMultiplyAddsPerThread = 1 << 20;

    // A single row of A (m = 1) is a matrix-vector product, bound by reading B: a second thread pays once each has
    // a quarter of a megabyte of B to read (65 536 floats), which takes longer than waking it.
    private const double MinRowTimesMatrixMultiplyAddsPerThread = 1 << 16;

    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>The micro-kernel in use; tests switch it to check every kernel on one machine.</summary>
    internal static GemmKernelKind Kernel { get; set; } = DetectKernel();

    /// <summary>How a multi-threaded product is split; tests and benchmarks force either way, the library chooses.</summary>
    internal static GemmSplit Split { get; set; } = GemmSplit.Auto;

    /// <summary>
    /// The most threads one call uses, the calling thread included. Defaults to <see cref="Environment.ProcessorCount"/>;
    /// 1 keeps every call on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxThreads
    {
        get => Volatile.Read(ref s_maxThreads);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_maxThreads, value);
        }
    }

    /// <summary>
    /// <c>C = alpha·op(A)·op(B) + beta·C</c>, then <paramref name="epilogue"/>, all row-major. op(A) is (m, k),
    /// op(B) is (k, n), C is (m, n).
    /// </summary>
    /// <param name="transA">False: A is stored (m, k) and <c>op(A)[i, p] = a[aOffset + i·lda + p]</c>.
    /// True: A is stored (k, m) and <c>op(A)[i, p] = a[aOffset + p·lda + i]</c>.</param>
    /// <param name="transB">False: B is stored (k, n), <c>op(B)[p, j] = b[bOffset + p·ldb + j]</c>.
    /// True: B is stored (n, k), <c>op(B)[p, j] = b[bOffset + j·ldb + p]</c>.</param>
    /// <param name="m">Rows of C and op(A).</param>
    /// <param name="n">Columns of C and op(B).</param>
    /// <param name="k">Columns of op(A), rows of op(B): the length of each sum.</param>
    /// <param name="alpha">Factor on the product. When 0, A and B are not read.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="aOffset">Index of A's first element.</param>
    /// <param name="lda">Distance between the starts of A's stored rows.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="bOffset">Index of B's first element.</param>
    /// <param name="ldb">Distance between the starts of B's stored rows.</param>
    /// <param name="beta">Factor on C's previous contents. When 0, C is not read, so NaN there is overwritten.</param>
    /// <param name="c">C's elements; <c>C[i, j] = c[cOffset + i·ldc + j]</c>. Must not overlap A or B.</param>
    /// <param name="cOffset">Index of C's first element.</param>
    /// <param name="ldc">Distance between the starts of C's rows.</param>
    /// <param name="epilogue">Per-column scale, bias and activation applied last; default: none.</param>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is smaller than its row, an
    /// offset is negative, or an array is too short for the extent described; the message names the matrix.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc, in GemmEpilogue epilogue = default) =>
        MultiplyWithThreads(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, epilogue, MaxThreads);

    /// <summary>
    /// <see cref="Multiply"/> with at most <paramref name="maxThreads"/> threads: 1 for callers that already split their work across threads
    /// (convolution runs whole images per thread) and would only lose by splitting each small product again. The result
    /// is the same bits whatever the thread count.
    /// </summary>
    internal static void MultiplyWithThreads(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc, in GemmEpilogue epilogue, int maxThreads)
    {
        GemmChecks.Validate(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, epilogue);
        if (m == 0 || n == 0)
        {
            return;
        }
        GemmProblem problem = new(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
            beta, c, cOffset, ldc, epilogue);
        if (k == 0 || alpha == 0f)
        {
            GemmDriver.ScaleOnly(problem);
            return;
        }

        GemmKernelKind kernel = Kernel;
        double perThread = m == 1 ? MinRowTimesMatrixMultiplyAddsPerThread : MinMultiplyAddsPerThread;
        int threads = (int)Math.Clamp(problem.MultiplyAdds / perThread, 1, Math.Max(1, maxThreads));
        GemmSplit split = Split;
        if (split == GemmSplit.SharedPanels && m > 1 && maxThreads > 1)
        {
            // Forced (tests): the task order and waits run even for products too small to be worth a second thread.
            GemmPanelJob.Run(kernel, problem, maxThreads);
            return;
        }
        if (threads > 1 && m > 1 && split == GemmSplit.Auto && GemmPanelJob.Suits(kernel, m, threads))
        {
            GemmPanelJob.Run(kernel, problem, threads);
            return;
        }
        if (threads > 1)
        {
            (int mr, int nr) = GemmDriver.TileShape(kernel);
            (int rowParts, int colParts) = GemmPartition.Choose(m, n, mr, nr, threads);
            if (rowParts * colParts > 1)
            {
                GemmJob.Run(kernel, problem, rowParts, colParts);
                return;
            }
        }
        GemmDriver.RunPart(kernel, problem, 1, 1, 0);
    }

    private static GemmKernelKind DetectKernel()
    {
        // IsHardwareAccelerated is the runtime's advice: it is false for Vector512 on CPUs where 512-bit
        // instructions lower the clock, and false for all of them under DOTNET_EnableHWIntrinsic=0.
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            return GemmKernelKind.Vector512;
        }
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            return GemmKernelKind.Vector256;
        }
        return Vector128.IsHardwareAccelerated ? GemmKernelKind.Vector128 : GemmKernelKind.Scalar;
    }
}
