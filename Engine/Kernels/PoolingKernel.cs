using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Max and average pooling over a stack of planes, forward and backward. Each plane is pooled on its own, so
/// the input is seen as (planes, H, W) with planes = N·C (<see cref="Window2d.Channels"/>).
/// </summary>
/// <remarks>
/// A window never lies entirely in the padding when padding ≤ kernel/2 (the ops check this, as PyTorch does), so
/// every max has a real element to pick. Padding counts as −∞ for max pooling (never chosen) and as 0 for
/// average pooling, whose divisor is always kh·kw (PyTorch's <c>count_include_pad=True</c>).
/// </remarks>
internal static class PoolingKernel
{
    /// <summary>
    /// <c>output[p, oy, ox] = max</c> over the window, and (unless <paramref name="argmax"/> is empty) the index
    /// <c>iy·W + ix</c> within the plane of the element chosen. Ties go to the first element in row-major window
    /// order; a NaN in the window wins (and propagates), as in PyTorch.
    /// </summary>
    /// <param name="input">(planes, H, W).</param>
    /// <param name="output">(planes, Ho, Wo), every element written.</param>
    /// <param name="argmax">(planes, Ho, Wo), or empty when no backward will need the indices.</param>
    /// <param name="window">The geometry.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxForward(ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, in Window2d window)
    {
        if (window is { KernelHeight: 2, KernelWidth: 2, StrideHeight: 2, StrideWidth: 2, PaddingHeight: 0, PaddingWidth: 0 })
        {
            MaxForward2x2(input, output, argmax, window); // the CNNs' usual pool: no padding, no bounds tests
            return;
        }
        int height = window.Height, width = window.Width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int planeSize = height * width, outPlaneSize = outHeight * outWidth;
        bool keepIndices = !argmax.IsEmpty;
        for (int p = 0; p < window.Channels; p++)
        {
            ReadOnlySpan<float> plane = input.Slice(p * planeSize, planeSize); // (H, W)
            int outBase = p * outPlaneSize;
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float best = float.NegativeInfinity;
                    int bestIndex = -1;
                    for (int ki = 0; ki < window.KernelHeight; ki++)
                    {
                        int iy = oy * window.StrideHeight - window.PaddingHeight + ki * window.DilationHeight;
                        if ((uint)iy >= (uint)height)
                        {
                            continue;
                        }
                        for (int kj = 0; kj < window.KernelWidth; kj++)
                        {
                            int ix = ox * window.StrideWidth - window.PaddingWidth + kj * window.DilationWidth;
                            if ((uint)ix >= (uint)width)
                            {
                                continue;
                            }
                            float value = plane[iy * width + ix];
                            // Strictly greater keeps the first of equal values; bestIndex < 0 takes the first real
                            // element even when it is −∞; once best is NaN no comparison replaces it.
                            if (bestIndex < 0 || value > best || (float.IsNaN(value) && !float.IsNaN(best)))
                            {
                                best = value;
                                bestIndex = iy * width + ix;
                            }
                        }
                    }
                    output[outBase + oy * outWidth + ox] = best;
                    if (keepIndices)
                    {
                        argmax[outBase + oy * outWidth + ox] = bestIndex;
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="MaxForward(ReadOnlySpan{float}, Span{float}, Span{int}, in Window2d)"/> over arrays, with the planes shared out among the <see cref="ChunkWorkers"/> when there
    /// are many: each plane is pooled on its own by one thread, so the result is the same bits for any thread count.
    /// <paramref name="argmax"/> holds the indices' bits in a float array (the tape's buffers are floats), or is null.
    /// </summary>
    public static void MaxForward(float[] input, int inputOffset, float[] output, int outputOffset, float[]? argmax, int argmaxOffset,
        in Window2d window)
    {
        int planeSize = window.Height * window.Width, outPlaneSize = window.OutputHeight * window.OutputWidth;
        long elements = (long)window.Channels * planeSize;
        if (ChunkedJob.ThreadsForMemoryBound(elements) == 1)
        {
            Span<int> indices = argmax is null ? [] : MemoryMarshal.Cast<float, int>(argmax.AsSpan(argmaxOffset, window.Channels * outPlaneSize));
            MaxForward(input.AsSpan(inputOffset, window.Channels * planeSize), output.AsSpan(outputOffset, window.Channels * outPlaneSize), indices, window);
            return;
        }
        MaxPoolJob job = MaxPoolJob.Current;
        job.Run(input, inputOffset, output, outputOffset, argmax, argmaxOffset, window);
    }

    /// <summary>
    /// <see cref="MaxForward(ReadOnlySpan{float}, Span{float}, Span{int}, in Window2d)"/> for a 2×2 window with stride 2 and no padding (any dilation): every tap is inside the
    /// plane, so there is no bounds test, and the choice rule is the same: the four candidates in row-major order, the
    /// first one taken, then a later one only if strictly greater, or a NaN replacing a number.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxForward2x2(ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, in Window2d window)
    {
        int width = window.Width, planeSize = window.Height * width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth, outPlaneSize = outHeight * outWidth;
        int dh = window.DilationHeight, dw = window.DilationWidth; // rows 2·oy and 2·oy + dh, columns 2·ox and 2·ox + dw
        bool keepIndices = !argmax.IsEmpty;
        for (int p = 0; p < window.Channels; p++)
        {
            ReadOnlySpan<float> plane = input.Slice(p * planeSize, planeSize); // (H, W)
            Span<float> outPlane = output.Slice(p * outPlaneSize, outPlaneSize); // (Ho, Wo)
            Span<int> outIndices = keepIndices ? argmax.Slice(p * outPlaneSize, outPlaneSize) : default;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int top = 2 * oy * width, bottom = top + (dh * width);
                ReadOnlySpan<float> upper = plane.Slice(top, width), lower = plane.Slice(bottom, width);
                int ox = 0;
                if (Vector128.IsHardwareAccelerated && dw == 1 && outWidth >= 4)
                {
                    // Blocks of 8 (or 4) windows, branch-free: with random data each comparison below is a coin toss
                    // for the branch predictor, and the mispredictions made this loop 5 % of a CNN training step.
                    // A ragged end is covered by one more block that overlaps the previous one: it recomputes a few
                    // windows to the same values, which is cheaper than a scalar tail.
                    Span<float> outRow = outPlane.Slice(oy * outWidth, outWidth);
                    Span<int> indexRow = keepIndices ? outIndices.Slice(oy * outWidth, outWidth) : default;
                    int block = Vector256.IsHardwareAccelerated && outWidth >= 8 ? 8 : 4;
                    for (int start = 0; start < outWidth; start += block)
                    {
                        int at = Math.Min(start, outWidth - block);
                        if (block == 8)
                        {
                            Block8(upper, lower, top, bottom - top, at, outRow, indexRow, keepIndices);
                        }
                        else
                        {
                            Block4(upper, lower, top, bottom - top, at, outRow, indexRow, keepIndices);
                        }
                    }
                    ox = outWidth;
                }
                for (; ox < outWidth; ox++)
                {
                    int left = 2 * ox, right = left + dw;
                    float best = upper[left];
                    int bestIndex = top + left;
                    Consider(upper[right], top + right, ref best, ref bestIndex);
                    Consider(lower[left], bottom + left, ref best, ref bestIndex);
                    Consider(lower[right], bottom + right, ref best, ref bestIndex);
                    outPlane[(oy * outWidth) + ox] = best;
                    if (keepIndices)
                    {
                        outIndices[(oy * outWidth) + ox] = bestIndex;
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Consider(float value, int index, ref float best, ref int bestIndex)
        {
            if (value > best || (float.IsNaN(value) && !float.IsNaN(best)))
            {
                best = value;
                bestIndex = index;
            }
        }

        // Windows at..at+7 of one output row: upper/lower are the window's two input rows, top the upper row's index.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Block8(ReadOnlySpan<float> upper, ReadOnlySpan<float> lower, int top, int rowStep, int at,
            Span<float> outRow, Span<int> indexRow, bool keepIndices)
        {
            int left = 2 * at;
            (Vector256<float> upperLeft, Vector256<float> upperRight) = Deinterleave8(upper.Slice(left, 16));
            (Vector256<float> lowerLeft, Vector256<float> lowerRight) = Deinterleave8(lower.Slice(left, 16));
            Vector256<int> index = Vector256.Create(top + left) + Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            Vector256<float> best = upperLeft;
            Vector256<int> bestIndex = index;
            (best, bestIndex) = Consider8(upperRight, index + Vector256<int>.One, best, bestIndex);
            (best, bestIndex) = Consider8(lowerLeft, index + Vector256.Create(rowStep), best, bestIndex);
            (best, bestIndex) = Consider8(lowerRight, index + Vector256.Create(rowStep + 1), best, bestIndex);
            best.CopyTo(outRow[at..]);
            if (keepIndices)
            {
                bestIndex.CopyTo(indexRow[at..]);
            }
        }

        // Block8 for 4 windows, for rows of 4 to 7 windows (a 14×14 plane pools to 7 per row).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Block4(ReadOnlySpan<float> upper, ReadOnlySpan<float> lower, int top, int rowStep, int at,
            Span<float> outRow, Span<int> indexRow, bool keepIndices)
        {
            int left = 2 * at;
            (Vector128<float> upperLeft, Vector128<float> upperRight) = Deinterleave4(upper.Slice(left, 8));
            (Vector128<float> lowerLeft, Vector128<float> lowerRight) = Deinterleave4(lower.Slice(left, 8));
            Vector128<int> index = Vector128.Create(top + left) + Vector128.Create(0, 2, 4, 6);
            Vector128<float> best = upperLeft;
            Vector128<int> bestIndex = index;
            (best, bestIndex) = Consider4(upperRight, index + Vector128<int>.One, best, bestIndex);
            (best, bestIndex) = Consider4(lowerLeft, index + Vector128.Create(rowStep), best, bestIndex);
            (best, bestIndex) = Consider4(lowerRight, index + Vector128.Create(rowStep + 1), best, bestIndex);
            best.CopyTo(outRow[at..]);
            if (keepIndices)
            {
                bestIndex.CopyTo(indexRow[at..]);
            }
        }

        // The same rule, lane by lane: strictly greater, or a NaN replacing a number (x ≠ x only for NaN).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector256<float>, Vector256<int>) Consider8(Vector256<float> value, Vector256<int> index, Vector256<float> best, Vector256<int> bestIndex)
        {
            Vector256<float> take = Vector256.GreaterThan(value, best)
                | Vector256.AndNot(Vector256.Equals(best, best), Vector256.Equals(value, value));
            return (Vector256.ConditionalSelect(take, value, best), Vector256.ConditionalSelect(take.AsInt32(), index, bestIndex));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector128<float>, Vector128<int>) Consider4(Vector128<float> value, Vector128<int> index, Vector128<float> best, Vector128<int> bestIndex)
        {
            Vector128<float> take = Vector128.GreaterThan(value, best)
                | Vector128.AndNot(Vector128.Equals(best, best), Vector128.Equals(value, value));
            return (Vector128.ConditionalSelect(take, value, best), Vector128.ConditionalSelect(take.AsInt32(), index, bestIndex));
        }

        // Consecutive floats as (those at even positions, those at odd positions): the windows' left and right columns.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector256<float> Even, Vector256<float> Odd) Deinterleave8(ReadOnlySpan<float> sixteen)
        {
            Vector256<float> first = Vector256.Shuffle(Vector256.Create(sixteen), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
            Vector256<float> second = Vector256.Shuffle(Vector256.Create(sixteen[8..]), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
            return (Vector256.Create(first.GetLower(), second.GetLower()), Vector256.Create(first.GetUpper(), second.GetUpper()));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static (Vector128<float> Even, Vector128<float> Odd) Deinterleave4(ReadOnlySpan<float> eight)
        {
            Vector128<float> first = Vector128.Shuffle(Vector128.Create(eight), Vector128.Create(0, 2, 1, 3));
            Vector128<float> second = Vector128.Shuffle(Vector128.Create(eight[4..]), Vector128.Create(0, 2, 1, 3));
            return (Vector128.Create(first.GetLower(), second.GetLower()), Vector128.Create(first.GetUpper(), second.GetUpper()));
        }
    }

    /// <summary>
    /// The max-pool backward: <c>inputGrad[p, argmax[p, oy, ox]] += outputGrad[p, oy, ox]</c>. Only the element
    /// that won each window receives a gradient (an element that won several windows receives their sum).
    /// </summary>
    /// <param name="outputGrad">(planes, Ho, Wo).</param>
    /// <param name="argmax">(planes, Ho, Wo), from <see cref="MaxForward(ReadOnlySpan{float}, Span{float}, Span{int}, in Window2d)"/>.</param>
    /// <param name="inputGrad">(planes, H, W), added to.</param>
    /// <param name="window">The geometry.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward(ReadOnlySpan<float> outputGrad, ReadOnlySpan<int> argmax, Span<float> inputGrad, in Window2d window)
    {
        int planeSize = window.Height * window.Width, outPlaneSize = window.OutputHeight * window.OutputWidth;
        for (int p = 0; p < window.Channels; p++)
        {
            Span<float> plane = inputGrad.Slice(p * planeSize, planeSize);
            for (int o = p * outPlaneSize, last = o + outPlaneSize; o < last; o++)
            {
                if (argmax[o] >= 0)
                {
                    plane[argmax[o]] += outputGrad[o];
                }
            }
        }
    }

    /// <summary>
    /// <c>output[p, oy, ox] = (Σ window) / (kh·kw)</c>, padding counted as zeros in the sum and in the divisor.
    /// </summary>
    /// <param name="input">(planes, H, W).</param>
    /// <param name="output">(planes, Ho, Wo), every element written.</param>
    /// <param name="window">The geometry.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageForward(ReadOnlySpan<float> input, Span<float> output, in Window2d window)
    {
        int height = window.Height, width = window.Width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int planeSize = height * width, outPlaneSize = outHeight * outWidth;
        float scale = 1f / (window.KernelHeight * window.KernelWidth);
        for (int p = 0; p < window.Channels; p++)
        {
            ReadOnlySpan<float> plane = input.Slice(p * planeSize, planeSize); // (H, W)
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float sum = 0f;
                    for (int ki = 0; ki < window.KernelHeight; ki++)
                    {
                        int iy = oy * window.StrideHeight - window.PaddingHeight + ki * window.DilationHeight;
                        if ((uint)iy >= (uint)height)
                        {
                            continue;
                        }
                        for (int kj = 0; kj < window.KernelWidth; kj++)
                        {
                            int ix = ox * window.StrideWidth - window.PaddingWidth + kj * window.DilationWidth;
                            if ((uint)ix < (uint)width)
                            {
                                sum += plane[iy * width + ix];
                            }
                        }
                    }
                    output[p * outPlaneSize + oy * outWidth + ox] = sum * scale;
                }
            }
        }
    }

    /// <summary>
    /// The average-pool backward: every in-bounds element of a window receives <c>outputGrad / (kh·kw)</c> (added).
    /// </summary>
    /// <param name="outputGrad">(planes, Ho, Wo).</param>
    /// <param name="inputGrad">(planes, H, W), added to.</param>
    /// <param name="window">The geometry.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad, in Window2d window)
    {
        int height = window.Height, width = window.Width;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int planeSize = height * width, outPlaneSize = outHeight * outWidth;
        float scale = 1f / (window.KernelHeight * window.KernelWidth);
        for (int p = 0; p < window.Channels; p++)
        {
            Span<float> plane = inputGrad.Slice(p * planeSize, planeSize); // (H, W)
            for (int oy = 0; oy < outHeight; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float share = outputGrad[p * outPlaneSize + oy * outWidth + ox] * scale;
                    for (int ki = 0; ki < window.KernelHeight; ki++)
                    {
                        int iy = oy * window.StrideHeight - window.PaddingHeight + ki * window.DilationHeight;
                        if ((uint)iy >= (uint)height)
                        {
                            continue;
                        }
                        for (int kj = 0; kj < window.KernelWidth; kj++)
                        {
                            int ix = ox * window.StrideWidth - window.PaddingWidth + kj * window.DilationWidth;
                            if ((uint)ix < (uint)width)
                            {
                                plane[iy * width + ix] += share;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary><c>output[p] = mean of plane p</c>: global average pooling.</summary>
    /// <param name="input">(planes, planeSize).</param>
    /// <param name="output">(planes).</param>
    /// <param name="planeSize">H·W, at least 1.</param>
    public static void GlobalAverageForward(ReadOnlySpan<float> input, Span<float> output, int planeSize)
    {
        for (int p = 0; p < output.Length; p++)
        {
            output[p] = TensorPrimitives.Sum(input.Slice(p * planeSize, planeSize)) / planeSize;
        }
    }

    /// <summary>The global-average backward: every element of plane p receives <c>outputGrad[p] / planeSize</c> (added).</summary>
    /// <param name="outputGrad">(planes).</param>
    /// <param name="inputGrad">(planes, planeSize), added to.</param>
    /// <param name="planeSize">H·W, at least 1.</param>
    public static void GlobalAverageBackward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad, int planeSize)
    {
        for (int p = 0; p < outputGrad.Length; p++)
        {
            Span<float> plane = inputGrad.Slice(p * planeSize, planeSize);
            TensorPrimitives.Add(plane, outputGrad[p] / planeSize, plane);
        }
    }

    /// <summary>The max pool's forward, a block of planes per chunk.</summary>
    private sealed class MaxPoolJob : ChunkedJob
    {
        private const int ElementsPerChunk = 1 << 16;

        [ThreadStatic]
        private static MaxPoolJob? t_current;

        private float[] _input = [], _output = [];
        private float[]? _argmax;
        private int _inputOffset, _outputOffset, _argmaxOffset, _planesPerChunk;
        private Window2d _window;

        public static MaxPoolJob Current => t_current ??= new MaxPoolJob();

        public void Run(float[] input, int inputOffset, float[] output, int outputOffset, float[]? argmax, int argmaxOffset, in Window2d window)
        {
            int planeSize = window.Height * window.Width;
            _planesPerChunk = Math.Max(1, ElementsPerChunk / Math.Max(1, planeSize));
            (_input, _inputOffset, _output, _outputOffset, _argmax, _argmaxOffset, _window) = (input, inputOffset, output, outputOffset, argmax, argmaxOffset, window);
            try
            {
                Run((window.Channels + _planesPerChunk - 1) / _planesPerChunk, ThreadsForMemoryBound((long)window.Channels * planeSize));
            }
            finally
            {
                (_input, _output, _argmax) = ([], [], null); // do not keep the caller's arrays alive
            }
        }

        protected override void Participate(int slot)
        {
            int planeSize = _window.Height * _window.Width, outPlaneSize = _window.OutputHeight * _window.OutputWidth;
            while (TryTakeChunk(slot, out int chunk))
            {
                int first = chunk * _planesPerChunk, planes = Math.Min(_planesPerChunk, _window.Channels - first);
                Window2d block = _window with { Channels = planes };
                Span<int> indices = _argmax is null ? []
                    : MemoryMarshal.Cast<float, int>(_argmax.AsSpan(_argmaxOffset + (first * outPlaneSize), planes * outPlaneSize));
                MaxForward(_input.AsSpan(_inputOffset + (first * planeSize), planes * planeSize),
                    _output.AsSpan(_outputOffset + (first * outPlaneSize), planes * outPlaneSize), indices, block);
            }
        }
    }
}
