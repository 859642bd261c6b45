using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Layers;

/// <summary>
/// The span kernels behind <see cref="Normalization"/>'s fused batch-norm ops: no tape, no allocation beyond pooled
/// scratch. The input is viewed as (N, C, S): N examples, C channels, S positions per channel (S = 1 for (N, C),
/// L for (N, C, L), H·W for (N, C, H, W)); statistics are per channel, over the M = N·S values of the batch axes.
/// </summary>
/// <remarks>
/// Two layouts, because the fast direction differs: with S = 1 a channel's values are strided (one per row), so
/// the loops go row by row and vectorize across channels (C-length TensorPrimitives calls); with S &gt; 1 each
/// (n, c) pair owns a contiguous run of S values, so the loops vectorize along the run with a per-channel scalar.
/// Each kernel reads its big inputs once; a run or row may be looked at twice while it is still in L1.
/// </remarks>
internal static class BatchNormKernels
{
    /// <summary>
    /// Per-channel mean and biased variance (divided by M) in one pass over <paramref name="x"/>.
    /// Rows (S = 1): Welford's update, vectorized across channels. Runs (S &gt; 1): each run's own mean and
    /// centred sum of squares, merged into the channel's running totals with Chan et al.'s pairwise formula
    /// (<c>M2 = M2_a + M2_b + δ²·n_a·n_b/(n_a + n_b)</c>). Both avoid the cancellation of <c>E[x²] − E[x]²</c>.
    /// </summary>
    public static void MeanAndVariance(ReadOnlySpan<float> x, int n, int c, int s, Span<float> mean, Span<float> variance)
    {
        mean.Clear();
        variance.Clear();                                      // holds M2 = Σ (x − mean)² until the end
        if (s == 1)
        {
            using Scratch delta = Scratch.Rent(c);            // (C)
            using Scratch after = Scratch.Rent(c);            // (C)
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = x.Slice(i * c, c);  // (C)
                // Welford: δ = x − mean; mean += δ/(i + 1); M2 += δ·(x − mean_new)
                TensorPrimitives.Subtract(row, mean, delta.Span);
                TensorPrimitives.MultiplyAdd(delta.Span, 1f / (i + 1), mean, mean);
                TensorPrimitives.Subtract(row, mean, after.Span);
                TensorPrimitives.MultiplyAdd(delta.Span, after.Span, variance, variance);
            }
        }
        else
        {
            using Scratch centred = Scratch.Rent(s);          // (S)
            for (int i = 0; i < n; i++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    ReadOnlySpan<float> run = x.Slice(((i * c) + ch) * s, s);     // (S)
                    float runMean = AxisReduction.Sum(run) / s;
                    TensorPrimitives.Subtract(run, runMean, centred.Span);
                    float runM2 = AxisReduction.SumOfSquares(centred.Span);
                    // Chan: merge (i·S values, mean, M2) with (S values, runMean, runM2).
                    float delta = runMean - mean[ch];
                    mean[ch] += delta / (i + 1);
                    variance[ch] += runM2 + (delta * delta * s * i / (i + 1));
                }
            }
        }
        TensorPrimitives.Multiply(variance, 1f / ((long)n * s), variance);
    }

    /// <summary><c>y[n, c, s] = x[n, c, s]·scale[c] + shift[c]</c>; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void ChannelAffine(ReadOnlySpan<float> x, int n, int c, int s, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        for (int i = 0; i < n; i++)
        {
            if (s == 1)
            {
                TensorPrimitives.MultiplyAdd(x.Slice(i * c, c), scale, shift, y.Slice(i * c, c));
                continue;
            }
            for (int ch = 0; ch < c; ch++)
            {
                int start = ((i * c) + ch) * s;
                Elementwise.Map(x.Slice(start, s), y.Slice(start, s), new AffineOperator(scale[ch], shift[ch]));
            }
        }
    }

    /// <summary>
    /// Batch norm's backward pass 1: per channel, <c>Σ ∂y</c> and <c>Σ ∂y·(x − μ)</c> (x is centred first, so a
    /// large mean does not cancel digits away).
    /// </summary>
    public static void GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, int s, ReadOnlySpan<float> mean,
        Span<float> sumDy, Span<float> sumDyCentred)
    {
        sumDy.Clear();
        sumDyCentred.Clear();
        using Scratch centred = Scratch.Rent(s == 1 ? c : s);
        for (int i = 0; i < n; i++)
        {
            if (s == 1)
            {
                ReadOnlySpan<float> dyRow = dy.Slice(i * c, c);       // (C)
                TensorPrimitives.Add(sumDy, dyRow, sumDy);
                TensorPrimitives.Subtract(x.Slice(i * c, c), mean, centred.Span);
                TensorPrimitives.MultiplyAdd(dyRow, centred.Span, sumDyCentred, sumDyCentred);
                continue;
            }
            for (int ch = 0; ch < c; ch++)
            {
                int start = ((i * c) + ch) * s;
                ReadOnlySpan<float> dyRun = dy.Slice(start, s);       // (S)
                sumDy[ch] += AxisReduction.Sum(dyRun);
                TensorPrimitives.Subtract(x.Slice(start, s), mean[ch], centred.Span);
                sumDyCentred[ch] += TensorPrimitives.Dot(dyRun, centred.Span);
            }
        }
    }

    /// <summary>
    /// Batch norm's backward pass 2: <c>dx[n, c, s] += k[c]·∂y + p[c]·(x − μ[c]) + q[c]</c> (see
    /// <see cref="BatchNormInputGradOperator"/> for k, p, q).
    /// </summary>
    public static void AccumulateInputGrad(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, int s, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> k, ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> dx)
    {
        using Scratch local = Scratch.Rent(c);
        for (int i = 0; i < n; i++)
        {
            if (s == 1)
            {
                Span<float> t = local.Span;                            // (C)
                TensorPrimitives.Subtract(x.Slice(i * c, c), mean, t);   // x − μ
                TensorPrimitives.MultiplyAdd(t, p, q, t);                 // p·(x − μ) + q
                TensorPrimitives.MultiplyAdd(dy.Slice(i * c, c), k, t, t); // + k·∂y
                TensorPrimitives.Add(dx.Slice(i * c, c), t, dx.Slice(i * c, c));
                continue;
            }
            for (int ch = 0; ch < c; ch++)
            {
                int start = ((i * c) + ch) * s;
                Elementwise.ZipAccumulate(x.Slice(start, s), dy.Slice(start, s), dx.Slice(start, s),
                    new BatchNormInputGradOperator(k[ch], p[ch], mean[ch], q[ch]));
            }
        }
    }
}
