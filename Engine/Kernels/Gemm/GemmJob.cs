namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The parts of one multi-threaded GEMM as a <see cref="ChunkedJob"/>: chunk p is part p of the row × column split
/// of C (<see cref="GemmPartition"/>), run on whichever of the caller and the <see cref="ChunkWorkers"/> takes it.
/// Each part is computed whole by one thread, so the result is the same bits whoever runs it.
/// </summary>
/// <remarks>
/// The GEMM shares its helper threads with the convolution and the other chunked kernels. Two pools, each spinning
/// for a moment after its job, took the core from each other on this 2-core machine: a weight-normed Linear step ran
/// 1.23× plain while the correction pass's helper spun on the core the next GEMM's worker needed.
/// </remarks>
internal sealed class GemmJob : ChunkedJob
{
    [ThreadStatic]
    private static GemmJob? t_job;

    private GemmKernelKind _kind;
    private GemmProblem _problem;
    private int _rowParts;
    private int _colParts;

    /// <summary>Runs <paramref name="problem"/> split <paramref name="rowParts"/>×<paramref name="colParts"/> ways.</summary>
    public static void Run(GemmKernelKind kind, in GemmProblem problem, int rowParts, int colParts)
    {
        GemmJob job = t_job ??= new GemmJob();
        job._kind = kind;
        job._problem = problem;
        job._rowParts = rowParts;
        job._colParts = colParts;
        try
        {
            int parts = rowParts * colParts;
            job.Run(parts, parts);
        }
        finally
        {
            job._problem = default; // keeps no reference to the caller's matrices
        }
    }

    /// <inheritdoc/>
    protected override void Participate(int slot)
    {
        while (TryTakeChunk(slot, out int part))
        {
            GemmDriver.RunPart(_kind, _problem, _rowParts, _colParts, part);
        }
    }
}
