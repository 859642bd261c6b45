using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// <c>sink[i, :] += factor[i]·source[i, :]</c> over the rows of two (rows, rowLength) matrices, split by rows across
/// the <see cref="ChunkWorkers"/> when the matrices are large. A pass like this is bound by memory, and one core does
/// not saturate it: the weight-normalized Linear layer's correction <c>∂V −= diag(c)·V</c> over a 1000×1000 weight
/// moves 12 MB per step, beside GEMMs that run on every core. Each row is computed by one thread in one call of
/// <see cref="TensorPrimitives.MultiplyAdd(ReadOnlySpan{float}, float, ReadOnlySpan{float}, Span{float})"/>, so the
/// result is the same bits for any thread count.
/// </summary>
internal sealed class RowPass : ChunkedJob
{
    private const int RowsPerChunk = 32;

    [ThreadStatic]
    private static RowPass? t_job;

    private float[] _source = [];
    private int _sourceOffset;
    private float[] _factor = [];
    private float[] _sink = [];
    private int _sinkOffset;
    private int _rows;
    private int _rowLength;

    /// <summary>
    /// <c>sink[i, :] += factor[i]·source[i, :]</c> for i in 0 … <paramref name="rows"/> − 1; both matrices contiguous
    /// rows of <paramref name="rowLength"/> from their offsets; <paramref name="factor"/> holds one value per row from 0.
    /// </summary>
    public static void MultiplyAddRows(float[] source, int sourceOffset, float[] factor, float[] sink, int sinkOffset, int rows, int rowLength)
    {
        long elements = (long)rows * rowLength;
        int threads = ThreadsForMemoryBound(elements);
        RowPass job = t_job ??= new RowPass();
        job._source = source;
        job._sourceOffset = sourceOffset;
        job._factor = factor;
        job._sink = sink;
        job._sinkOffset = sinkOffset;
        job._rows = rows;
        job._rowLength = rowLength;
        try
        {
            job.Run((rows + RowsPerChunk - 1) / RowsPerChunk, threads);
        }
        finally
        {
            // No reference to the caller's arrays outlives the call.
            job._source = job._factor = job._sink = [];
        }
    }

    /// <inheritdoc/>
    protected override void Participate(int slot)
    {
        while (TryTakeChunk(slot, out int chunk))
        {
            int end = Math.Min(_rows, (chunk + 1) * RowsPerChunk);
            for (int i = chunk * RowsPerChunk; i < end; i++)
            {
                Span<float> sinkRow = _sink.AsSpan(_sinkOffset + (i * _rowLength), _rowLength);
                TensorPrimitives.MultiplyAdd(_source.AsSpan(_sourceOffset + (i * _rowLength), _rowLength), _factor[i], sinkRow, sinkRow);
            }
        }
    }
}
