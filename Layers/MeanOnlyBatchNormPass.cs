using System.Buffers;
using NeuralCore.Engine.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Layers;

/// <summary>
/// Mean-only batch norm's kernel, forward and backward alike: per channel of a (N, C, S) tensor,
/// <c>sum = Σ src</c> over the batch axes (M = N·S values), then <c>shift = b − sum/M</c> and
/// <c>dst = src + shift</c> (forward: y = x − μ + b) or <c>dst += src + shift</c> with b = 0 (backward:
/// ∂x += ∂y − mean(∂y); or = when ∂x is a fresh buffer, which saves zeroing it and reading the zeros back). The
/// sums are handed back (the forward's μ·M, the backward's ∂b).
/// </summary>
/// <remarks>
/// <para>
/// Tensors of 1 MB and more are split by channels across the <see cref="ChunkWorkers"/>: the passes are bound by
/// memory, which one core does not saturate (below 1 MB, measured on (100, 1000), a helper's wake-up costs more than
/// it gives back). A chunk is a block of whole channels: for (N, C) a block of columns, a slice of every row per
/// vectorized call; for (N, C, S) the block's runs, which for one example lie side by side in memory, walked example
/// by example so that each pass streams. A chunk sums its channels, then shifts them. A channel's sum is always
/// computed by one thread, in the same order, so the result is the same bits for any thread count.
/// </para>
/// <para>
/// Tried and dropped: walking one channel at a time (its N runs, 313 KB for 100×28×28, still in L2 for the second
/// pass) was no faster than two whole passes on one core, whose second read the 32 MB L3 already caught, and slower
/// for short runs (14×14), whose scattered 784-byte pieces the prefetcher follows poorly.
/// </para>
/// </remarks>
internal sealed class MeanOnlyBatchNormPass : ChunkedJob
{
    // Blocks of channels per thread when the work is split.
    private const int ChunksPerThread = 4;

    [ThreadStatic]
    private static MeanOnlyBatchNormPass? t_job;

    private float[] _src = [];
    private int _srcOffset;
    private float[] _dst = [];
    private int _dstOffset;
    private float[]? _bias;
    private int _biasOffset;
    private float[] _work = []; // sums (C), then shifts (C)
    private bool _accumulate;
    private bool _hasDestination;
    private int _n;
    private int _c;
    private int _s;
    private int _channelsPerChunk;
    private float _inverseM;

    /// <summary>
    /// Forward: <c>y = x + (b − Σx/M)</c> per channel, and <c>sums[c] = Σ x[:, c, :]</c>.
    /// <paramref name="bias"/> (C) may be null (b = 0). <paramref name="sums"/> needs C elements from 0.
    /// </summary>
    public static void Forward(float[] x, int xOffset, float[]? bias, int biasOffset, float[] y, int yOffset,
        int n, int c, int s, Span<float> sums) =>
        Run(x, xOffset, bias, biasOffset, y, yOffset, accumulate: false, n, c, s, sums);

    /// <summary>
    /// Backward: <c>dx += dy − Σdy/M</c> per channel (<c>dx = …</c> when <paramref name="overwrite"/>: dx may hold
    /// garbage then), and <c>sums[c] = Σ dy[:, c, :]</c> (∂b). <paramref name="dx"/> null computes the sums alone.
    /// </summary>
    public static void Backward(float[] dy, int dyOffset, float[]? dx, int dxOffset, bool overwrite, int n, int c, int s, Span<float> sums) =>
        Run(dy, dyOffset, null, 0, dx, dxOffset, accumulate: !overwrite, n, c, s, sums);

    private static void Run(float[] src, int srcOffset, float[]? bias, int biasOffset, float[]? dst, int dstOffset, bool accumulate,
        int n, int c, int s, Span<float> sums)
    {
        long elements = (long)n * s * c;
        MeanOnlyBatchNormPass job = t_job ??= new MeanOnlyBatchNormPass();
        float[] work = ArrayPool<float>.Shared.Rent(2 * c);
        job._src = src;
        job._srcOffset = srcOffset;
        job._dst = dst ?? [];
        job._hasDestination = dst is not null;
        job._dstOffset = dstOffset;
        job._bias = bias;
        job._biasOffset = biasOffset;
        job._work = work;
        job._accumulate = accumulate;
        job._n = n;
        job._c = c;
        job._s = s;
        job._inverseM = 1f / ((long)n * s);
        int threads = ThreadsForMemoryBound(elements);
        // A few blocks per thread, so that the others make up for a thread slowed by another process; (N, C) blocks
        // are whole vectors of columns wide.
        int perChunk = threads == 1 ? c : (c + (ChunksPerThread * threads) - 1) / (ChunksPerThread * threads);
        job._channelsPerChunk = s == 1 && perChunk < c ? Math.Min(c, (perChunk + 15) / 16 * 16) : perChunk;
        try
        {
            int chunks = (c + job._channelsPerChunk - 1) / job._channelsPerChunk;
            job.Run(chunks, threads);
            work.AsSpan(0, c).CopyTo(sums);
        }
        finally
        {
            // No reference to the caller's arrays outlives the call.
            job._src = job._dst = job._work = [];
            job._bias = null;
            ArrayPool<float>.Shared.Return(work);
        }
    }

    /// <inheritdoc/>
    protected override void Participate(int slot)
    {
        while (TryTakeChunk(slot, out int chunk))
        {
            int first = chunk * _channelsPerChunk;
            int count = Math.Min(_channelsPerChunk, _c - first);
            Span<float> sums = _work.AsSpan(first, count), shift = _work.AsSpan(_c + first, count);
            if (_s == 1)
            {
                Columns(first, count, sums, shift);
            }
            else
            {
                Runs(first, count, sums, shift);
            }
        }
    }

    // shift = b − μ for channels first … first + count − 1, from their sums (b = 0 without a bias).
    private void Shift(ReadOnlySpan<float> sums, int first, int count, Span<float> shift)
    {
        TensorPrimitives.Multiply(sums, -_inverseM, shift);
        if (_bias is not null)
        {
            TensorPrimitives.Add(shift, _bias.AsSpan(_biasOffset + first, count), shift);
        }
    }

    // (N, C): the columns first … first + count − 1 of every row; sums and shifts vectorized across them.
    private void Columns(int first, int count, Span<float> sums, Span<float> shift)
    {
        sums.Clear();
        for (int i = 0; i < _n; i++)
        {
            TensorPrimitives.Add(sums, _src.AsSpan(_srcOffset + (i * _c) + first, count), sums);
        }
        Shift(sums, first, count, shift);
        if (!_hasDestination)
        {
            return;
        }
        for (int i = 0; i < _n; i++)
        {
            ReadOnlySpan<float> row = _src.AsSpan(_srcOffset + (i * _c) + first, count);           // (count), in L2
            Span<float> target = _dst.AsSpan(_dstOffset + (i * _c) + first, count);
            if (_accumulate)
            {
                TensorPrimitives.Add(target, row, target);
                TensorPrimitives.Add(target, shift, target);                                       // in L1
            }
            else
            {
                TensorPrimitives.Add(row, shift, target);
            }
        }
    }

    // S > 1: channels first … first + count − 1, whose runs of S values for one example are contiguous: walked
    // example by example, so each pass streams through memory in pieces of count·S values.
    private void Runs(int first, int count, Span<float> sums, Span<float> shift)
    {
        sums.Clear();
        for (int i = 0; i < _n; i++)
        {
            for (int k = 0; k < count; k++)
            {
                sums[k] += AxisReduction.Sum(_src.AsSpan(_srcOffset + (((i * _c) + first + k) * _s), _s));
            }
        }
        Shift(sums, first, count, shift);
        if (!_hasDestination)
        {
            return;
        }
        for (int i = 0; i < _n; i++)
        {
            for (int k = 0; k < count; k++)
            {
                int start = ((i * _c) + first + k) * _s;
                ReadOnlySpan<float> run = _src.AsSpan(_srcOffset + start, _s);                    // (S)
                Span<float> target = _dst.AsSpan(_dstOffset + start, _s);
                if (_accumulate)
                {
                    TensorPrimitives.Add(target, run, target);
                    TensorPrimitives.Add(target, shift[k], target);                                // in L1
                }
                else
                {
                    TensorPrimitives.Add(run, shift[k], target);
                }
            }
        }
    }
}
