using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// A few persistent worker threads that run the parts of one GEMM at a time. The calling thread runs part 0 itself
/// and worker w runs part w + 1. Nothing is allocated per call: the job sits in static fields, and the threads and
/// their semaphores are made once. (<see cref="SemaphoreSlim"/> rather than <c>ManualResetEventSlim</c>, which
/// allocates its lock object lazily, the first time a wait actually blocks: some call long after warm-up.)
/// </summary>
/// <remarks>
/// <para>
/// <c>Parallel.For</c> would allocate a closure and task state per call, and the .NET thread pool may be busy with
/// the caller's own work; a GEMM of 1 ms cannot afford either. One GEMM uses the workers at a time: a second caller
/// that finds them busy runs its product on its own thread instead of waiting (<see cref="TryRun"/> returns false).
/// </para>
/// <para>
/// Between jobs a worker spins for a short while before it sleeps. Besides saving the wake-up, this keeps it on its
/// own core: Linux tends to queue a woken thread on the core of the thread that woke it, here the caller, which then
/// computes its own part for a millisecond while the worker waits behind it, and the job runs serially (measured:
/// both parts on one core, the 2-thread time equal to the 1-thread time). A spinning worker sees the new job
/// through a memory write, with no wake-up and so no choice of core.
/// </para>
/// </remarks>
internal static class GemmThreadPool
{
    // How long a worker (and the caller, for the workers to finish) spins before sleeping: about the length of
    // a small GEMM, so that a run of GEMMs, as in a training step, keeps the workers awake and in place.
    private static readonly long s_spinTicks = Stopwatch.Frequency / 2000;

    private static readonly object s_gate = new();
    private static readonly SemaphoreSlim s_done = new(0);
    private static Worker[] s_workers = [];

    // The job in flight; written by the caller before it hands out the job, cleared after the workers finish.
    private static GemmProblem s_problem;
    private static GemmKernelKind s_kind;
    private static int s_rowParts;
    private static int s_colParts;
    private static int s_generation;
    private static int s_pending;
    private static ExceptionDispatchInfo? s_failure;

    /// <summary>
    /// Runs <paramref name="problem"/> split <paramref name="rowParts"/>×<paramref name="colParts"/> ways; false,
    /// having done nothing, if another thread's GEMM holds the workers.
    /// </summary>
    public static bool TryRun(GemmKernelKind kind, in GemmProblem problem, int rowParts, int colParts)
    {
        if (!Monitor.TryEnter(s_gate))
        {
            return false;
        }
        try
        {
            int workers = (rowParts * colParts) - 1;
            EnsureWorkers(workers);
            s_problem = problem;
            s_kind = kind;
            s_rowParts = rowParts;
            s_colParts = colParts;
            s_failure = null;
            Volatile.Write(ref s_pending, workers);

            // Hand the job to the workers it needs (Interlocked is a full fence: the fields above are visible
            // first), and wake those that went to sleep; the spinning ones see their new job number by themselves.
            int job = ++s_generation;
            for (int w = 0; w < workers; w++)
            {
                Worker worker = s_workers[w];
                Interlocked.Exchange(ref worker.Job, job);
                if (Interlocked.Exchange(ref worker.Sleeping, 0) == 1)
                {
                    worker.Wake.Release();
                }
            }
            try
            {
                GemmDriver.RunPart(kind, problem, rowParts, colParts, 0);
            }
            finally
            {
                // Never return while a worker may still write into the caller's C.
                long start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref s_pending) != 0 && Stopwatch.GetTimestamp() - start < s_spinTicks)
                {
                    Thread.SpinWait(20);
                }
                s_done.Wait();
                s_problem = default;
            }
            s_failure?.Throw();
            return true;
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count)
        {
            return;
        }
        Worker[] workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int w = s_workers.Length; w < count; w++)
        {
            workers[w] = new Worker(part: w + 1, s_generation);
            Thread thread = new(WorkerLoop)
            {
                IsBackground = true,
                Name = "NeuralCore GEMM worker " + (w + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            thread.Start(workers[w]);
        }
        s_workers = workers;
    }

    private static void WorkerLoop(object? state)
    {
        Worker worker = (Worker)state!;

        // Not the current Job field: the first job may have been handed out before this thread got to run.
        int seen = worker.CreatedAtJob;
        while (true)
        {
            seen = WaitForJob(worker, seen);
            try
            {
                GemmDriver.RunPart(s_kind, s_problem, s_rowParts, s_colParts, worker.Part);
            }
#pragma warning disable CA1031 // A worker must not die: the failure is rethrown on the calling thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                s_failure = ExceptionDispatchInfo.Capture(e);
            }
            if (Interlocked.Decrement(ref s_pending) == 0)
            {
                s_done.Release();
            }
        }
    }

    /// <summary>Returns the worker's new job number once it differs from <paramref name="seen"/>: spins, then sleeps.</summary>
    private static int WaitForJob(Worker worker, int seen)
    {
        long start = Stopwatch.GetTimestamp();
        int job;
        while ((job = Volatile.Read(ref worker.Job)) == seen)
        {
            if (Stopwatch.GetTimestamp() - start < s_spinTicks)
            {
                Thread.SpinWait(20);
                continue;
            }

            // Announce the sleep, then look once more (the exchange is a full fence, so the look cannot move
            // before the announcement): a job handed out in between is either seen here, or its caller finds
            // Sleeping = 1 and releases the semaphore. A release that finds us awake after all leaves a stale
            // count, which costs one spurious wake-up and a loop back here, nothing more.
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if (Volatile.Read(ref worker.Job) == seen)
            {
                worker.Wake.Wait();
            }
            Volatile.Write(ref worker.Sleeping, 0);
            start = Stopwatch.GetTimestamp();
        }
        return job;
    }

    /// <summary>One worker's identity and its way to be woken.</summary>
    private sealed class Worker(int part, int job)
    {
        public int CreatedAtJob { get; } = job;

        // Fields, not properties: they are passed by reference to Volatile and Interlocked.
#pragma warning disable CA1051
        // The number of the last job handed to this worker.
        public int Job = job;

        // 1 while the worker sleeps (or is about to) on Wake.
        public int Sleeping;
#pragma warning restore CA1051

        public int Part { get; } = part;
        public SemaphoreSlim Wake { get; } = new(0);
    }
}
