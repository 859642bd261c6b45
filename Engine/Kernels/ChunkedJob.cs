using System.Runtime.ExceptionServices;
using System.Threading;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Work split into numbered chunks, shared between the calling thread and the helper threads of
/// <see cref="ChunkWorkers"/>. Each chunk runs exactly once, on whichever participant takes it next, so a late or
/// busy helper costs nothing but its share: the caller simply takes more chunks. A job object is made once and
/// reused; a call allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Which thread runs a chunk is left to chance, so a subclass must make every chunk's result independent of that:
/// chunks write disjoint outputs, or partial results that the caller combines in chunk order afterwards. Then the
/// result is bitwise the same for any number of threads.
/// </para>
/// <para>
/// A helper may start late, even after the call it was handed has returned. Each announces itself (<c>_active</c>)
/// before it looks at the job and leaves at once if the job is closed; the caller closes the job and waits for the
/// announced helpers before it returns. Both steps are full fences, so either the caller sees the helper and waits
/// for it, or the helper sees the job closed. A helper that arrives during a later call of the same object simply
/// helps with that one. The caller is slot 0; helpers draw numbered slots from 1 (for their scratch buffers), and
/// one beyond the call's count leaves without work.
/// </para>
/// </remarks>
internal abstract class ChunkedJob
{
    private int _chunkCount;
    private int _nextChunk;
    private int _slotCount;
    private int _nextSlot;
    private int _active;
    private int _closed = 1;
    private bool _callerFirstPending;
    private ExceptionDispatchInfo? _failure;

    /// <summary>
    /// The threads for a pass bound by memory over <paramref name="elements"/> floats: all of them (<see cref="Gemm.MaxThreads"/>)
    /// from 2¹⁸ floats (1 MB) up, below that the calling thread alone, since a helper's wake-up then costs more than the
    /// second core's bandwidth gives back. Shared by the row pass, ReLU, max pooling and mean-only batch norm.
    /// </summary>
    internal static int ThreadsForMemoryBound(long elements) => elements < (1 << 18) ? 1 : Gemm.MaxThreads;

    /// <summary>How many participants (slots) a call of <paramref name="chunkCount"/> chunks on <paramref name="threads"/> threads has.</summary>
    protected static int Participants(int chunkCount, int threads) => Math.Max(1, Math.Min(threads, chunkCount));

    /// <summary>
    /// Runs chunks 0 … <paramref name="chunkCount"/> − 1 on this thread and up to <paramref name="threads"/> − 1
    /// helpers (<see cref="Participants"/> in all); returns when all have run. Rethrows a helper's exception.
    /// </summary>
    protected void Run(int chunkCount, int threads)
    {
        // The caller is slot 0 and always runs chunk 0 itself, so its per-thread scratch (the GEMM's packing buffers)
        // is warmed by the first call instead of by whichever later call the helpers happen to leave it a chunk.
        _chunkCount = chunkCount;
        _nextChunk = 1;
        _callerFirstPending = true;
        _slotCount = Participants(chunkCount, threads);
        _nextSlot = 1;
        _failure = null;
        Volatile.Write(ref _closed, 0); // publishes the fields above and the subclass's arguments

        int helpers = ChunkWorkers.TryHandOut(this, _slotCount - 1);
        try
        {
            Participate(0);
        }
        finally
        {
            // Never return while a helper may still write into the caller's buffers.
            Interlocked.Exchange(ref _closed, 1);
            SpinWait spin = default;
            while (Volatile.Read(ref _active) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            if (helpers > 0)
            {
                ChunkWorkers.Release();
            }
        }
        _failure?.Throw();
    }

    /// <summary>Takes the next chunk not yet taken by anyone (chunk 0 goes to slot 0, the caller); false when all are taken.</summary>
    protected bool TryTakeChunk(int slot, out int chunk)
    {
        if (slot == 0 && _callerFirstPending)
        {
            _callerFirstPending = false;
            chunk = 0;
            return chunk < _chunkCount;
        }
        chunk = Interlocked.Increment(ref _nextChunk) - 1;
        return chunk < _chunkCount;
    }

    /// <summary>
    /// One participant's share: takes chunks with <see cref="TryTakeChunk"/> until there are none left. Runs on the
    /// caller (slot 0) and on each helper, concurrently; <paramref name="slot"/> (0 … <see cref="Participants"/> − 1,
    /// distinct among the participants of one call) picks the participant's scratch buffers.
    /// </summary>
    protected abstract void Participate(int slot);

    /// <summary>Called by a helper thread: joins the call in flight, if any, and returns when it has no chunk left.</summary>
    internal void Help()
    {
        Interlocked.Increment(ref _active);
        try
        {
            if (Volatile.Read(ref _closed) == 0)
            {
                Enter();
            }
        }
#pragma warning disable CA1031 // A helper must not crash the process: the failure is rethrown on the calling thread.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            Interlocked.Exchange(ref _nextChunk, int.MaxValue / 2); // the others stop taking chunks
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private void Enter()
    {
        int slot = Interlocked.Increment(ref _nextSlot) - 1;
        if (slot < _slotCount)
        {
            Participate(slot);
        }
    }
}
