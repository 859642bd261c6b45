using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Conv2d's forward and backward over a batch, per image, with the images shared out among threads: on the direct
/// path (<see cref="DirectConvolution"/>) for stride 1 on AVX2 machines, otherwise as im2col + GEMM (see
/// <c>Tensor.Convolution.cs</c> for the algebra).
/// </summary>
/// <remarks>
/// <para>
/// Which path a product takes depends on the shapes and the CPU alone, never on the thread count. Stride 1 sends the
/// forward, ∂W and ∂x (as the convolution of ∂y with the flipped filters) to the direct path, unless the channels it
/// produces fill its tiles badly (a layer with 1 input channel computes ∂x through ∂columns + col2im, which wastes
/// nothing). Measured on one thread, CPU time, the CNN's 32 → 32 layer at 28×28, batch 100: forward 30.1 → 22.0 ms,
/// ∂x 26.1 → 21.6 ms, ∂W 29.1 → 22.4 ms; its 64 → 64 layer at 14×14: 27.7 → 19.8, 26.2 → 20.9, 26.3 → 20.7 ms.
/// </para>
/// <para>
/// Images are independent in the forward and in ∂x, so each thread takes whole images, with its own buffers and a
/// single-threaded GEMM. A per-image GEMM is small (32 × 784 × 288 in the benchmark's layer): splitting it
/// across threads, as <see cref="Gemm.Multiply"/> would, costs a hand-off per image and leaves im2col and col2im on
/// one thread; splitting the batch keeps both cores busy on all of it with one hand-off per call.
/// </para>
/// <para>
/// ∂W = Σₙ ∂y[n]·cols[n]ᵀ and ∂b = Σₙ Σₚ ∂y[n] are sums over the batch, and floating-point addition is not
/// associative. So the batch is cut into fixed chunks of <see cref="GradientChunk"/> images whatever the thread count,
/// each chunk sums its own images in order into its own partial, and the caller sums the partials in chunk order and
/// adds the total to the sink: every rounding is fixed by the batch size alone, and the result is bitwise the same for 1, 2 or 64
/// threads. When one thread runs everything (small work, a single chunk) the same chunks are computed the same way,
/// with a GEMM that may use the threads itself (it too is bitwise the same for any thread count).
/// </para>
/// </remarks>
internal static class ConvolutionKernel
{
    /// <summary>Images per partial ∂W and ∂b: fixed, so that the order of the batch sum never depends on the threads.</summary>
    public const int GradientChunk = 4;

    /// <summary>
    /// Below this many multiply-adds per thread (about 40 µs at 50 GFLOP/s), queuing a helper and renting its column
    /// buffer cost more than the second core returns. Tests set 0 to send even tiny convolutions through the threads.
    /// </summary>
    internal static double MinMultiplyAddsPerThread { get; set; } = 1 << 21;

    [ThreadStatic]
    private static ForwardJob? s_forward;

    [ThreadStatic]
    private static BackwardJob? s_backward;

    /// <summary>
    /// y[n] (O, Ho·Wo) = W (O, C·kh·kw) · im2col(x[n]) (+ bias[o] on row o) for every image; overwrites y.
    /// </summary>
    /// <param name="geometry">The batch, O and the window of one image (C, H, W).</param>
    /// <param name="x">(N, C, H, W) from <paramref name="xOffset"/>.</param>
    /// <param name="xOffset">Index of x's first element.</param>
    /// <param name="w">(O, C, kh, kw) from <paramref name="wOffset"/>.</param>
    /// <param name="wOffset">Index of W's first element.</param>
    /// <param name="bias">(O) from <paramref name="biasOffset"/>, or null for none.</param>
    /// <param name="biasOffset">Index of the bias's first element.</param>
    /// <param name="y">(N, O, Ho, Wo) from <paramref name="yOffset"/>.</param>
    /// <param name="yOffset">Index of y's first element.</param>
    public static void Forward(in ConvolutionGeometry geometry, float[] x, int xOffset, float[] w, int wOffset,
        float[]? bias, int biasOffset, float[] y, int yOffset)
    {
        int threads = Threads(geometry, geometry.Batch);
        ForwardJob job = s_forward ??= new ForwardJob();
        job.Run(geometry, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, threads);
    }

    /// <summary>
    /// ∂x[n] += col2im(Wᵀ·∂y[n]), ∂W += Σₙ ∂y[n]·cols[n]ᵀ and ∂b[o] += Σ_{n,p} ∂y[n, o, p]; each sink may be null.
    /// </summary>
    /// <param name="geometry">The batch, O and the window of one image.</param>
    /// <param name="x">(N, C, H, W) from <paramref name="xOffset"/>.</param>
    /// <param name="xOffset">Index of x's first element.</param>
    /// <param name="w">(O, C, kh, kw) from <paramref name="wOffset"/>.</param>
    /// <param name="wOffset">Index of W's first element.</param>
    /// <param name="dy">(N, O, Ho, Wo) from <paramref name="dyOffset"/>.</param>
    /// <param name="dyOffset">Index of ∂y's first element.</param>
    /// <param name="sinks">Where ∂x, ∂W and ∂b go (added to), each optional.</param>
    public static void Backward(in ConvolutionGeometry geometry, float[] x, int xOffset, float[] w, int wOffset,
        float[] dy, int dyOffset, in ConvolutionSinks sinks)
    {
        if (sinks.Input is null && sinks.Weight is null && sinks.Bias is null)
        {
            return;
        }
        // Only the batch sums need fixed chunks; ∂x alone can be shared out image by image.
        bool sums = sinks.Weight is not null || sinks.Bias is not null;
        int chunkImages = sums ? GradientChunk : 1;
        int chunks = (geometry.Batch + chunkImages - 1) / chunkImages;
        int threads = Threads(geometry, chunks);
        BackwardJob job = s_backward ??= new BackwardJob();
        job.Run(geometry, x, xOffset, w, wOffset, dy, dyOffset, sinks, chunkImages, chunks, threads);
    }

    private static int Threads(in ConvolutionGeometry geometry, int chunks)
    {
        double multiplyAdds = (double)geometry.Batch * geometry.OutChannels * geometry.Window.ColumnRows * geometry.Window.ColumnCount;
        return (int)Math.Clamp(Math.Min(multiplyAdds / MinMultiplyAddsPerThread, chunks), 1, Gemm.MaxThreads);
    }

    /// <summary>
    /// The GEMM of one image: single-threaded when the images themselves are shared among threads, otherwise the
    /// packed GEMM with its own threads. Both give the same bits.
    /// </summary>
    private static void Multiply(bool serial, bool transA, bool transB, int m, int n, int k,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc)
    {
        if (serial)
        {
            SerialGemm.Multiply(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
        else
        {
            Gemm.Multiply(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    /// <summary>
    /// For stride 1 (any padding up to dilation·(k − 1)), ∂x is itself a convolution: of ∂y, padded by
    /// dilation·(k − 1) − padding, with the filters turned 180° and their in/out channels swapped. That lets ∂x run on
    /// <see cref="DirectConvolution"/> straight into the sink, with no ∂columns matrix and no col2im.
    /// <paramref name="flipped"/> is the window over one ∂y image (O, Ho, Wo) whose output is (H, W).
    /// </summary>
    private static bool TryGradientWindow(in ConvolutionGeometry geometry, out Window2d flipped)
    {
        Window2d w = geometry.Window;
        int padHeight = w.DilationHeight * (w.KernelHeight - 1) - w.PaddingHeight;
        int padWidth = w.DilationWidth * (w.KernelWidth - 1) - w.PaddingWidth;
        flipped = new Window2d(geometry.OutChannels, w.OutputHeight, w.OutputWidth, w.KernelHeight, w.KernelWidth, 1, 1,
            padHeight, padWidth, w.DilationHeight, w.DilationWidth);
        return w.StrideHeight == 1 && w.StrideWidth == 1 && padHeight >= 0 && padWidth >= 0
            && flipped.OutputHeight == w.Height && flipped.OutputWidth == w.Width;
    }

    /// <summary>W′ (C, O, kh, kw) from W (O, C, kh, kw): <c>W′[c, o, a, b] = W[o, c, kh − 1 − a, kw − 1 − b]</c>.</summary>
    private static void FlipFilters(ReadOnlySpan<float> w, Span<float> flipped, int outChannels, in Window2d window)
    {
        int channels = window.Channels, kh = window.KernelHeight, kw = window.KernelWidth, area = kh * kw;
        for (int o = 0; o < outChannels; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> filter = w.Slice(((o * channels) + c) * area, area);
                Span<float> target = flipped.Slice(((c * outChannels) + o) * area, area);
                for (int t = 0; t < area; t++)
                {
                    target[area - 1 - t] = filter[t]; // (a, b) ↦ (kh − 1 − a, kw − 1 − b) reverses the flattened taps
                }
            }
        }
    }

    /// <summary>sink (cols, rows) += partialᵀ, with partial stored (rows, cols).</summary>
    private static void AddTransposed(ReadOnlySpan<float> partial, Span<float> sink, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                sink[(c * rows) + r] += partial[(r * cols) + c];
            }
        }
    }

    /// <summary>
    /// True when a product goes to <see cref="DirectConvolution"/>: a stride-1 window, not pointwise, on an AVX2 machine,
    /// with <paramref name="tileRows"/> (the channels it produces) filling 6-row tiles well. Decided by the shapes alone,
    /// never by the thread count, which must not change a single bit of the result. (So a batch of one image runs on one
    /// core: the direct path splits the batch, not the image.)
    /// </summary>
    private static bool UseDirect(in Window2d window, int tileRows) =>
        !window.IsPointwise && DirectConvolution.Handles(window) && DirectConvolution.FillsTiles(tileRows, DirectConvolution.TileHeight(tileRows));

    /// <summary>∂W on the direct path: its tiles are 6 taps by 16 output channels.</summary>
    private static bool UseDirectWeightGradient(in ConvolutionGeometry geometry) =>
        !geometry.Window.IsPointwise && DirectConvolution.Handles(geometry.Window)
        && DirectConvolution.FillsTiles(geometry.OutChannels, DirectConvolution.TileColumns)
        && DirectConvolution.FillsTiles(geometry.Window.ColumnRows, DirectConvolution.TileRows);

    /// <summary>
    /// Makes sure the job has a column buffer (C·kh·kw, Ho·Wo) for each of <paramref name="slots"/> participants, grown
    /// when too small and otherwise reused, so after the first call of the largest layer no call allocates. Done by the
    /// caller for every slot at once: which participant draws which slot varies from call to call.
    /// </summary>
    private static void EnsureColumns(ref float[][] buffers, int slots, in Window2d window)
    {
        if (buffers.Length < slots)
        {
            float[][] grown = new float[slots][];
            Array.Copy(buffers, grown, buffers.Length);
            for (int i = buffers.Length; i < slots; i++)
            {
                grown[i] = [];
            }
            buffers = grown;
        }
        int length = window.ColumnRows * window.ColumnCount;
        for (int i = 0; i < slots; i++)
        {
            AtLeast(ref buffers[i], length); // every element is written before it is read
        }
    }

    /// <summary>An array of at least <paramref name="length"/> floats: <paramref name="array"/> itself, or a larger one.</summary>
    private static float[] AtLeast(ref float[] array, int length)
    {
        if (array.Length < length)
        {
            array = GC.AllocateUninitializedArray<float>(length);
        }
        return array;
    }

    /// <summary>The forward, one image per chunk. Its fields are the arguments of the call in flight.</summary>
    private sealed class ForwardJob : ChunkedJob
    {
        private ConvolutionGeometry _geometry;
        private float[] _x = [], _w = [], _y = [];
        private float[]? _bias;
        private int _xOffset, _wOffset, _biasOffset, _yOffset;
        private bool _serial, _direct;
        private float[][] _columns = [];
        private float[] _packedFilters = [];

        public void Run(in ConvolutionGeometry geometry, float[] x, int xOffset, float[] w, int wOffset,
            float[]? bias, int biasOffset, float[] y, int yOffset, int threads)
        {
            (_geometry, _x, _xOffset, _w, _wOffset, _bias, _biasOffset, _y, _yOffset) = (geometry, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset);
            Window2d window = geometry.Window;
            _serial = threads > 1;
            _direct = UseDirect(window, geometry.OutChannels);
            if (_direct)
            {
                int length = DirectConvolution.PackedFiltersLength(geometry.OutChannels, window.ColumnRows);
                DirectConvolution.PackFilters(w.AsSpan(wOffset, geometry.OutChannels * window.ColumnRows), geometry.OutChannels, window.ColumnRows,
                    AtLeast(ref _packedFilters, length).AsSpan(0, length));
            }
            EnsureColumns(ref _columns, _direct || window.IsPointwise ? 0 : Participants(geometry.Batch, threads), window);
            try
            {
                Run(geometry.Batch, threads);
            }
            finally
            {
                (_x, _w, _y, _bias) = ([], [], [], null); // do not keep the caller's arrays alive
            }
        }

        protected override void Participate(int slot)
        {
            Window2d window = _geometry.Window;
            int outChannels = _geometry.OutChannels, rows = window.ColumnRows, positions = window.ColumnCount;
            while (TryTakeChunk(slot, out int n))
            {
                int xOffset = _xOffset + (n * window.InputSize);
                int yOffset = _yOffset + (n * outChannels * positions);
                if (_direct)
                {
                    DirectConvolution.Image(_packedFilters, outChannels, _x.AsSpan(xOffset, window.InputSize), window,
                        _y.AsSpan(yOffset, outChannels * positions), accumulate: false,
                        _bias is null ? [] : _bias.AsSpan(_biasOffset, outChannels));
                    continue; // the bias went in with the copy out of the grid
                }

                // y[n] (O, Ho·Wo) = W (O, C·kh·kw) · cols (C·kh·kw, Ho·Wo); when pointwise, cols is the image itself.
                float[] b = _x;
                int bOffset = xOffset;
                if (!window.IsPointwise)
                {
                    Im2Col.ToColumns(_x.AsSpan(xOffset, window.InputSize), _columns[slot].AsSpan(0, rows * positions), window);
                    (b, bOffset) = (_columns[slot], 0);
                }
                Multiply(_serial, false, false, outChannels, positions, rows, _w, _wOffset, rows, b, bOffset, positions, 0f, _y, yOffset, positions);
                if (_bias is not null)
                {
                    for (int o = 0; o < outChannels; o++)
                    {
                        Span<float> row = _y.AsSpan(yOffset + (o * positions), positions);
                        TensorPrimitives.Add(row, _bias[_biasOffset + o], row);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The backward, <c>chunkImages</c> images per chunk: ∂x per image, ∂W and ∂b into the chunk's partials, which
    /// the caller adds to the sinks in chunk order.
    /// </summary>
    private sealed class BackwardJob : ChunkedJob
    {
        private ConvolutionGeometry _geometry;
        private float[] _x = [], _w = [], _dy = [];
        private int _xOffset, _wOffset, _dyOffset;
        private ConvolutionSinks _sinks;
        private int _chunkImages;
        private bool _serial;
        private float[] _weightPartials = [], _biasPartials = []; // (chunks, O·C·kh·kw) and (chunks, O), grown as needed
        private bool _weights, _biases;
        private float[][] _columns = [];        // columns (or ∂columns) per participant
        private float[] _flippedFilters = [];   // W′ (C, O, kh, kw), then packed for DirectConvolution
        private float[] _packedFilters = [];
        private Window2d _gradientWindow;       // the window over one ∂y image whose convolution with W′ is ∂x
        private bool _flippedInput, _directWeights;

        public void Run(in ConvolutionGeometry geometry, float[] x, int xOffset, float[] w, int wOffset, float[] dy, int dyOffset,
            in ConvolutionSinks sinks, int chunkImages, int chunks, int threads)
        {
            (_geometry, _x, _xOffset, _w, _wOffset, _dy, _dyOffset, _sinks) = (geometry, x, xOffset, w, wOffset, dy, dyOffset, sinks);
            (_chunkImages, _serial, _weights, _biases) = (chunkImages, threads > 1, sinks.Weight is not null, sinks.Bias is not null);
            int weightSize = geometry.OutChannels * geometry.Window.ColumnRows, outChannels = geometry.OutChannels;
            AtLeast(ref _weightPartials, _weights ? chunks * weightSize : 0);
            AtLeast(ref _biasPartials, _biases ? chunks * outChannels : 0);
            Window2d window = geometry.Window;
            _flippedInput = sinks.Input is not null && TryGradientWindow(geometry, out _gradientWindow)
                && UseDirect(_gradientWindow, window.Channels);
            if (_flippedInput)
            {
                Span<float> flipped = AtLeast(ref _flippedFilters, weightSize).AsSpan(0, weightSize);
                FlipFilters(w.AsSpan(wOffset, weightSize), flipped, outChannels, window);
                int length = DirectConvolution.PackedFiltersLength(window.Channels, _gradientWindow.ColumnRows);
                DirectConvolution.PackFilters(flipped, window.Channels, _gradientWindow.ColumnRows, AtLeast(ref _packedFilters, length).AsSpan(0, length));
            }
            _directWeights = _weights && UseDirectWeightGradient(geometry);
            // Column buffers for ∂W's im2col and for ∂x when it goes through ∂columns and col2im.
            bool columns = !window.IsPointwise && ((_weights && !_directWeights) || (sinks.Input is not null && !_flippedInput));
            EnsureColumns(ref _columns, columns ? Participants(chunks, threads) : 0, window);
            try
            {
                Run(chunks, threads);
                // The batch sums, chunk by chunk in order: the only place where chunks meet. ∂W's partials are ∂Wᵀ
                // (see Image), so they are summed first, contiguously, and transposed into the sink once.
                if (_weights)
                {
                    Span<float> total = _weightPartials.AsSpan(0, weightSize);
                    for (int c = 1; c < chunks; c++)
                    {
                        TensorPrimitives.Add(total, _weightPartials.AsSpan(c * weightSize, weightSize), total);
                    }
                    AddTransposed(total, sinks.Weight.AsSpan(sinks.WeightOffset, weightSize), geometry.Window.ColumnRows, outChannels);
                }
                for (int c = 0; c < chunks; c++)
                {
                    if (_biases)
                    {
                        Span<float> sink = sinks.Bias.AsSpan(sinks.BiasOffset, outChannels);
                        TensorPrimitives.Add(sink, _biasPartials.AsSpan(c * outChannels, outChannels), sink);
                    }
                }
            }
            finally
            {
                (_x, _w, _dy, _sinks) = ([], [], [], default); // do not keep the caller's arrays alive
            }
        }

        protected override void Participate(int slot)
        {
            while (TryTakeChunk(slot, out int chunk))
            {
                int first = chunk * _chunkImages, end = Math.Min(first + _chunkImages, _geometry.Batch);
                for (int n = first; n < end; n++)
                {
                    Image(chunk, n, first: n == first, slot);
                }
            }
        }

        private void Image(int chunk, int n, bool first, int slot)
        {
            Window2d window = _geometry.Window;
            int outChannels = _geometry.OutChannels, rows = window.ColumnRows, positions = window.ColumnCount;
            int imageSize = window.InputSize, dyOffset = _dyOffset + (n * outChannels * positions);
            float beta = first ? 0f : 1f; // a chunk's first image starts its partials, the others add to them

            if (_biases)
            {
                Span<float> partial = _biasPartials.AsSpan(chunk * outChannels, outChannels);
                for (int o = 0; o < outChannels; o++)
                {
                    float sum = TensorPrimitives.Sum(_dy.AsSpan(dyOffset + (o * positions), positions));
                    partial[o] = first ? sum : partial[o] + sum;
                }
            }
            if (_directWeights)
            {
                DirectConvolution.WeightGradient(_x.AsSpan(_xOffset + (n * imageSize), imageSize), window, _dy.AsSpan(dyOffset, outChannels * positions),
                    outChannels, _weightPartials.AsSpan(chunk * outChannels * rows, outChannels * rows), accumulate: !first);
            }
            else if (_weights)
            {
                // Recomputing im2col costs one copy; keeping it from the forward would cost N·C·kh·kw·Ho·Wo floats per layer.
                float[] b = _x;
                int bOffset = _xOffset + (n * imageSize);
                if (!window.IsPointwise)
                {
                    Im2Col.ToColumns(_x.AsSpan(bOffset, imageSize), _columns[slot].AsSpan(0, rows * positions), window);
                    (b, bOffset) = (_columns[slot], 0);
                }
                // partial ∂Wᵀ (C·kh·kw, O) (+)= cols (C·kh·kw, Ho·Wo) · ∂y[n]ᵀ (Ho·Wo, O). Transposed because the GEMM
                // runs this form 14% faster than ∂y[n]·colsᵀ (measured on one thread, 32×288×784: 190 µs against 219):
                // the large operand, cols, is then packed as A, from contiguous rows, instead of transposed as B.
                Multiply(_serial, false, true, rows, outChannels, positions, b, bOffset, positions, _dy, dyOffset, positions,
                    beta, _weightPartials, chunk * outChannels * rows, outChannels);
            }
            if (_sinks.Input is not null)
            {
                int dxOffset = _sinks.InputOffset + (n * imageSize);
                if (window.IsPointwise)
                {
                    // Pointwise: ∂cols is ∂x[n] itself, so the GEMM accumulates into it directly.
                    Multiply(_serial, true, false, rows, positions, outChannels, _w, _wOffset, rows, _dy, dyOffset, positions,
                        1f, _sinks.Input, dxOffset, positions);
                    return;
                }
                if (_flippedInput)
                {
                    // ∂x[n] (C, H, W) += the convolution of ∂y[n] with the flipped filters: see TryGradientWindow.
                    DirectConvolution.Image(_packedFilters, window.Channels, _dy.AsSpan(dyOffset, outChannels * positions), _gradientWindow,
                        _sinks.Input.AsSpan(dxOffset, imageSize), accumulate: true);
                    return;
                }
                // Strided: ∂cols (C·kh·kw, Ho·Wo) = Wᵀ (C·kh·kw, O) · ∂y[n] (O, Ho·Wo), then each entry goes back to its pixel.
                float[] columns = _columns[slot];
                Multiply(_serial, true, false, rows, positions, outChannels, _w, _wOffset, rows, _dy, dyOffset, positions, 0f, columns, 0, positions);
                Im2Col.AccumulateToImage(columns.AsSpan(0, rows * positions), _sinks.Input.AsSpan(dxOffset, imageSize), window);
            }
        }
    }
}
