using System.Runtime.CompilerServices;
using System.Threading;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// A multi-threaded GEMM in which the threads share each packed panel of B, as BLIS and OpenBLAS do on cores with
/// private L2 caches: the panel (KC×NC) is packed once, in pieces, by whichever threads are free, and every thread
/// multiplies its own packed MC-row blocks of A against the whole panel. Nothing is packed twice, where a split of C
/// into one part per thread packs all of A once per column part (or all of B once per row part).
/// </summary>
/// <remarks>
/// <para>
/// The work goes in steps, in the order one thread would do it: each step s is a KC slice of the sum within an NC
/// panel of columns, and holds the pieces of its B panel and the MC-row blocks of C. Every thread walks the steps in
/// order; in each it first takes pieces to pack (from a shared counter) until none is left, then blocks to multiply,
/// until none is left. The caller takes blocks from the top of C and the helpers from the bottom, so each thread keeps
/// to the same rows from step to step (their partial sums stay in its caches: measured 1.5–2.5 % faster at 1024³ and
/// 2048³ than dealing blocks out in order), and where the two meet the balance is set by who comes first.
/// </para>
/// <para>
/// A task waits only for tasks that are already taken: a block for its step's pieces (taken before any thread reached
/// the step's blocks) and for its rows' block of the step before (a thread moves on only when every block of its step
/// is taken); a piece for the previous step's pieces (the running column sums of squares) and for the blocks of step
/// s − 2, the last readers of the buffer it overwrites (two panels alternate, so packing step s + 1 overlaps the
/// blocks of step s). Ordering the tasks as one thread would do them (steps in order, a step's pieces before its
/// blocks), every wait is for a task earlier in that order and already taken, so being run; the earliest unfinished
/// task waits for nothing and always proceeds: no deadlock, whether the helpers come at once, late or never.
/// </para>
/// <para>
/// Each tile's sum is that of a single thread: the same micro-kernel over the same KC slices, added to C in slice
/// order. Which thread runs a task changes nothing, so the result is bitwise the same for any thread count.
/// </para>
/// </remarks>
internal sealed class GemmPanelJob : ChunkedJob
{
    // Columns per packing piece: 256 columns × KC 512 is 512 KiB of B, a few tenths of a millisecond to pack, small
    // enough that two threads share a panel's packing evenly and large enough that a piece's overhead is negligible.
    // (128 and 512 measured the same at 1024³ and 2048³ on two threads.)
    private const int PieceColumns = 256;

    // Columns per task in the last step (see Plan).
    private const int LastPartColumns = 128;

    [ThreadStatic]
    private static GemmPanelJob? t_job;

    // The two packed B panels, owned by the job (so by its calling thread): every participant reads them.
    private readonly GemmWorkspace _panels = new();
    private float[] _panelArray = [];
    private int _panelStart;

    private GemmKernelKind _kind;
    private GemmProblem _problem;
    private int _kcStep;
    private int _kSlices;
    private int _ncStep;
    private int _panelLength;
    private int _mc;
    private int _pieces;
    private int _blocks;
    private int _lastStep;
    private int _lastTasks;
    private int _lastParts;
    private int _lastPartWidth;
    private int _misalignment; // of C's rows, read once per call (see GemmPanelColumns.Misalignment)

    // Per step: the next piece to take, pieces packed, blocks multiplied, and the blocks not yet taken as [front, back)
    // in one long (front in the low half) so that both ends move by compare-and-swap. Per block: steps finished.
    private int[] _nextPiece = [];
    private int[] _piecesDone = [];
    private int[] _blocksDone = [];
    private long[] _untaken = [];
    private int[] _blockSteps = [];
    private int _aborted;

    /// <summary>
    /// Whether the shared-panel split suits a product of <paramref name="m"/> rows on <paramref name="threads"/>
    /// threads: it deals out MC-row blocks, so it needs a few per thread to balance them (the last one taken sets the
    /// finish). For fewer rows (the MLP's batch of 100) a split of C's columns balances better.
    /// </summary>
    public static bool Suits(GemmKernelKind kind, int m, int threads) => m >= Mc(kind) * 4 * threads;

    /// <summary>Runs <paramref name="problem"/> on up to <paramref name="threads"/> threads, the B panels shared.</summary>
    public static void Run(GemmKernelKind kind, in GemmProblem problem, int threads)
    {
        GemmPanelJob job = t_job ??= new GemmPanelJob();
        job._kind = kind;
        job._problem = problem;
        try
        {
            int blocks = kind switch
            {
                GemmKernelKind.Vector512 => job.Plan<GemmMicroKernel512>(),
                GemmKernelKind.Vector256 => job.Plan<GemmMicroKernel256>(),
                GemmKernelKind.Vector128 => job.Plan<GemmMicroKernel128>(),
                _ => job.Plan<GemmMicroKernelScalar>(),
            };
            job.Run(blocks, threads); // no more threads than blocks; the chunks themselves are not used

        }
        finally
        {
            job._problem = default; // keeps no reference to the caller's matrices
        }
    }

    /// <inheritdoc/>
    protected override void Participate(int slot)
    {
        switch (_kind)
        {
            case GemmKernelKind.Vector512:
                Participate<GemmMicroKernel512>(slot);
                break;
            case GemmKernelKind.Vector256:
                Participate<GemmMicroKernel256>(slot);
                break;
            case GemmKernelKind.Vector128:
                Participate<GemmMicroKernel128>(slot);
                break;
            default:
                Participate<GemmMicroKernelScalar>(slot);
                break;
        }
    }

    private static int Mc(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => GemmMicroKernel512.Mc,
        GemmKernelKind.Vector256 => GemmMicroKernel256.Mc,
        GemmKernelKind.Vector128 => GemmMicroKernel128.Mc,
        _ => GemmMicroKernelScalar.Mc,
    };

    /// <summary>Sets the slicing, sizes the panels and the counters, and returns the number of row blocks.</summary>
    private int Plan<TKernel>()
        where TKernel : struct, IGemmMicroKernel
    {
        int m = _problem.M, n = _problem.N, k = _problem.K;
        _kcStep = GemmDriver.SliceDepth<TKernel>(k);
        _kSlices = (k + _kcStep - 1) / _kcStep;
        _ncStep = Math.Min(TKernel.Nc, GemmDriver.RoundUp(n, TKernel.Nr));
        _panelLength = GemmDriver.RoundUp(GemmPacking.BPanelLength<TKernel>(_kcStep, _ncStep), 16); // keeps the second panel 64-byte aligned
        _pieces = (_ncStep + PieceColumns - 1) / PieceColumns;
        // Blocks of at most MC rows, as many as MC needs but equal in size, and whole tiles, so that the last block
        // is not a sliver that leaves one thread idle while the other finishes a full one.
        int blocks = (m + TKernel.Mc - 1) / TKernel.Mc;
        _mc = GemmDriver.RoundUp((m + blocks - 1) / blocks, TKernel.Mr);
        _blocks = (m + _mc - 1) / _mc;
        int steps = ((n + _ncStep - 1) / _ncStep) * _kSlices;
        _lastStep = steps - 1;
        // The last step deals each block in parts of about 128 columns (8 AVX2 slivers), so that the threads finish
        // within a small part of each other: each B sliver still meets all of the block's A slivers, and a thread that
        // takes several parts of one block packs its A once. Session 5 halved the blocks' height instead, which halves
        // each B sliver's reuse; session 6 dealt two halves of the width, and the caller then still finished about
        // 0.2 ms (1.5 %) before the helper at 1024³, half of a half-width task. With 128-column parts the two finish
        // within 0.05 ms: 0.4–1.5 % faster at 1024³, 0.5 % at 2048³, up to 1.7 % at 600³ (two threads, in one process).
        _lastParts = Math.Max(2, _ncStep / LastPartColumns);
        _lastPartWidth = GemmDriver.RoundUp((_ncStep + _lastParts - 1) / _lastParts, TKernel.Nr);
        _lastTasks = _lastParts * _blocks;
        _misalignment = GemmPanelColumns.Misalignment(_problem);

        _panelArray = _panels.PackedBArray(2 * _panelLength, out _panelStart);
        EnsureCleared(ref _nextPiece, steps);
        EnsureCleared(ref _piecesDone, steps);
        EnsureCleared(ref _blocksDone, steps);
        EnsureCleared(ref _blockSteps, _blocks);
        if (_untaken.Length < steps)
        {
            _untaken = new long[steps];
        }
        for (int step = 0; step < steps; step++)
        {
            _untaken[step] = (long)(step == _lastStep ? _lastTasks : _blocks) << 32;
        }
        Volatile.Write(ref _aborted, 0);
        return _blocks;
    }

    private static void EnsureCleared(ref int[] counters, int length)
    {
        if (counters.Length < length)
        {
            counters = new int[length];
        }
        else
        {
            Array.Clear(counters, 0, length);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Participate<TKernel>(int slot)
        where TKernel : struct, IGemmMicroKernel
    {
        GemmWorkspace workspace = GemmWorkspace.Current;
        ref float packedA = ref workspace.PackedA((Math.Min(TKernel.Mc, GemmDriver.RoundUp(_problem.M, TKernel.Mr)) * _kcStep) + GemmPacking.PackASlack);
        ref float scratch = ref workspace.Tile(TKernel.Mr * TKernel.Nr);
        bool fromTop = slot == 0;
        long packedFor = -1; // (step, block) whose rows of A are in packedA
        try
        {
            for (int step = 0; step <= _lastStep; step++)
            {
                int piece;
                while ((piece = Interlocked.Increment(ref _nextPiece[step]) - 1) < _pieces)
                {
                    if (!PackPiece<TKernel>(step, piece))
                    {
                        return; // another participant failed: its exception is rethrown on the calling thread
                    }
                }
                int block;
                while ((block = TakeBlock(step, fromTop)) >= 0)
                {
                    if (!MultiplyBlock<TKernel>(step, block, ref packedA, ref scratch, ref packedFor))
                    {
                        return;
                    }
                }
            }
        }
        catch
        {
            Volatile.Write(ref _aborted, 1); // the others stop waiting for tasks that will never finish
            throw;
        }
    }

    private bool PackPiece<TKernel>(int step, int piece)
        where TKernel : struct, IGemmMicroKernel
    {
        if ((step >= 1 && !WaitFor(ref _piecesDone[step - 1], _pieces)) || (step >= 2 && !WaitFor(ref _blocksDone[step - 2], _blocks)))
        {
            return false;
        }
        (int jc, int nc, int pc, int kc) = Step(step);
        int first = piece * PieceColumns;
        if (first < nc)
        {
            int width = Math.Min(PieceColumns, nc - first);
            GemmPanelColumns columns = GemmPanelColumns.For<TKernel>(_misalignment, jc, nc);
            ref float panel = ref Panel(step);
            GemmPacking.PackBPanel<TKernel>(_problem, pc, kc, columns, first, width, ref panel);
            if (_problem.Epilogue.ColumnSquaresOfB is { } squares)
            {
                GemmPacking.AddPanelColumnSquares<TKernel>(ref panel, kc, columns, first, width,
                    squares.AsSpan(_problem.Epilogue.ColumnSquaresOfBOffset + jc, nc));
            }
        }
        Interlocked.Increment(ref _piecesDone[step]); // a full fence: publishes the packed piece
        return true;
    }

    /// <summary>
    /// Multiplies task <paramref name="task"/> of <paramref name="step"/>: a block of rows, or in the last step a part
    /// of a block's columns (task b·parts + q is part q of block b). <paramref name="packedFor"/> names the block whose
    /// A is in <paramref name="packedA"/>, so that a thread taking several parts of a block packs it once.
    /// </summary>
    private bool MultiplyBlock<TKernel>(int step, int task, ref float packedA, ref float scratch, ref long packedFor)
        where TKernel : struct, IGemmMicroKernel
    {
        (int jc, int nc, int pc, int kc) = Step(step);
        int block = task, first = 0, width = nc;
        if (step == _lastStep)
        {
            block = task / _lastParts;
            first = Math.Min(task % _lastParts * _lastPartWidth, nc);
            width = Math.Min(_lastPartWidth, nc - first);
        }
        if (!WaitFor(ref _piecesDone[step], _pieces) || !WaitFor(ref _blockSteps[block], step))
        {
            return false;
        }
        if (width > 0)
        {
            int ic = block * _mc, mc = Math.Min(_mc, _problem.M - ic);
            long packedKey = ((long)step << 32) | (uint)block;
            if (packedFor != packedKey)
            {
                GemmPacking.PackA<TKernel>(_problem, ic, mc, pc, kc, ref packedA);
                packedFor = packedKey;
            }
            GemmTileStore store = GemmDriver.SliceStore(_problem, pc, kc);
            GemmDriver.MultiplyBlock<TKernel>(_problem, ic, mc, GemmPanelColumns.For<TKernel>(_misalignment, jc, nc), first, width, kc,
                ref packedA, ref Panel(step), ref scratch, store, prefetchNextSliver: false);
        }
        Volatile.Write(ref _blockSteps[block], step + 1); // every part of the last step writes it: nobody waits for that
        Interlocked.Increment(ref _blocksDone[step]);
        return true;
    }

    /// <summary>Takes the first (or last) block of <paramref name="step"/> not yet taken; −1 when all are.</summary>
    private int TakeBlock(int step, bool fromTop)
    {
        while (true)
        {
            long untaken = Volatile.Read(ref _untaken[step]);
            int front = (int)untaken, back = (int)(untaken >> 32);
            if (front >= back)
            {
                return -1;
            }
            long rest = fromTop ? ((long)back << 32) | (uint)(front + 1) : ((long)(back - 1) << 32) | (uint)front;
            if (Interlocked.CompareExchange(ref _untaken[step], rest, untaken) == untaken)
            {
                return fromTop ? front : back - 1;
            }
        }
    }

    /// <summary>Step <paramref name="step"/>'s columns and slice of the sum: NC panels outside, KC slices inside.</summary>
    private (int Jc, int Nc, int Pc, int Kc) Step(int step)
    {
        int jc = step / _kSlices * _ncStep;
        int pc = step % _kSlices * _kcStep;
        return (jc, Math.Min(_ncStep, _problem.N - jc), pc, Math.Min(_kcStep, _problem.K - pc));
    }

    private ref float Panel(int step) =>
        ref Unsafe.Add(ref _panelArray[_panelStart], (nint)(step & 1) * _panelLength);

    /// <summary>Spins until <paramref name="counter"/> reaches <paramref name="target"/>; false if the job was aborted.</summary>
    private bool WaitFor(ref int counter, int target)
    {
        if (Volatile.Read(ref counter) >= target)
        {
            return true;
        }
        SpinWait spin = default;
        while (Volatile.Read(ref counter) < target)
        {
            if (Volatile.Read(ref _aborted) != 0)
            {
                return false;
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }
}
