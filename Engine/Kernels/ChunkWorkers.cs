using System.Diagnostics;
using System.Threading;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The persistent helper threads of <see cref="ChunkedJob"/>: made once, each waiting for a job to help with. One
/// job holds them at a time; a caller that finds them busy runs its job alone (<see cref="TryHandOut"/> gives 0).
/// </summary>
/// <remarks>
/// Dedicated threads rather than the .NET thread pool: <c>Parallel.For</c> allocates a closure and task state per
/// call, a pool thread may be busy with the caller's own work, and every new pool thread would rent its own column
/// buffer and GEMM workspace, so allocation after warm-up would never quite stop. They serve every chunked kernel,
/// the multi-threaded GEMM included (<see cref="GemmJob"/>): one set of threads, so that one kernel's helper never
/// spins on the core another kernel's helper needs. A helper spins briefly after a job before it
/// sleeps, so that the jobs of one training step (a GEMM or convolution every millisecond or so) find it awake and
/// on its own core: Linux tends to queue a woken thread on the core of the thread that woke it, which then computes
/// its own share while the helper waits behind it (measured with the earlier GEMM pool: the 2-thread time equal to
/// the 1-thread time).
/// </remarks>
internal static class ChunkWorkers
{
    private static readonly long s_spinTicks = Stopwatch.Frequency / 2000; // 0.5 ms
    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];

    /// <summary>
    /// Hands <paramref name="job"/> to up to <paramref name="helpers"/> workers and returns how many; they stay
    /// reserved for it until <see cref="Release"/>. Returns 0, reserving nothing, when another job holds them.
    /// </summary>
    public static int TryHandOut(ChunkedJob job, int helpers)
    {
        if (helpers <= 0 || !Monitor.TryEnter(s_gate))
        {
            return 0;
        }
        EnsureWorkers(helpers);
        for (int w = 0; w < helpers; w++)
        {
            Worker worker = s_workers[w];
            Volatile.Write(ref worker.Job, job);
            if (Interlocked.Exchange(ref worker.Sleeping, 0) == 1)
            {
                worker.Wake.Release();
            }
        }
        return helpers;
    }

    /// <summary>Frees the workers for the next job; called once the job has no helper left inside it.</summary>
    public static void Release() => Monitor.Exit(s_gate);

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
            workers[w] = new Worker();
            Thread thread = new(WorkerLoop)
            {
                IsBackground = true,
                Name = "NeuralCore chunk worker " + (w + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            thread.Start(workers[w]);
        }
        s_workers = workers;
    }

    private static void WorkerLoop(object? state)
    {
        Worker worker = (Worker)state!;
        long idleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            ChunkedJob? job = Interlocked.Exchange(ref worker.Job, null);
            if (job is not null)
            {
                job.Help();
                idleSince = Stopwatch.GetTimestamp();
                continue;
            }
            if (Stopwatch.GetTimestamp() - idleSince < s_spinTicks)
            {
                Thread.SpinWait(20);
                continue;
            }
            // Announce the sleep, then look once more (the exchange is a full fence): a job handed out in between is
            // either seen here or its caller finds Sleeping = 1 and releases the semaphore.
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if (Volatile.Read(ref worker.Job) is null)
            {
                worker.Wake.Wait();
            }
            Volatile.Write(ref worker.Sleeping, 0);
            idleSince = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>One helper's mailbox and its way to be woken.</summary>
    private sealed class Worker
    {
        // Fields, not properties: they are passed by reference to Volatile and Interlocked.
#pragma warning disable CA1051
        // The job to help with next, or null.
        public ChunkedJob? Job;

        // 1 while the worker sleeps (or is about to) on Wake.
        public int Sleeping;
#pragma warning restore CA1051

        public SemaphoreSlim Wake { get; } = new(0);
    }
}
