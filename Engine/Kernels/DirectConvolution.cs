using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// A stride-1 convolution of one image as a GEMM whose B operand is read straight from a zero-padded copy of the
/// image: no im2col matrix, and no packing of B at all.
/// </summary>
/// <remarks>
/// <para>
/// The trick is to compute the output on the padded image's grid. Copy the image into a buffer with the padding
/// made real, (C, Hp, Wp) with Hp = H + 2·ph and Wp = W + 2·pw, and number output positions v = oy·Wp + ox with the
/// padded row pitch Wp instead of Wo. Tap (c, ki, kj) of output v then reads <c>padded[v + offset(c, ki, kj)]</c>
/// with <c>offset = c·Hp·Wp + ki·dh·Wp + kj·dw</c>: for every v. So row p of the im2col matrix is the padded image
/// itself shifted by offset(p), and 16 consecutive outputs read 16 consecutive floats, even across output rows. The
/// price is Wp − Wo "outputs" per row that straddle the right edge (2 of 30 on a 28×28 image with padding 1), which
/// are computed and then dropped when the result is copied out of the padded grid.
/// </para>
/// <code>
/// for each KC slice of the C·kh·kw taps                                 (taps split like the GEMM's sums)
///   for each sliver of 16 consecutive v                                 B: K rows of 16 floats, read in place
///     for each tile of 6 output channels                                A: the filters, packed once per call
///       6×16 tile of the output grid += filters[6 rows, slice] · padded[v + offset(p)] for p in the slice
/// copy (or add) grid[o, oy·Wp + ox] to output[o, oy, ox] for ox &lt; Wo
/// </code>
/// <para>
/// Why: with im2col, every element of the 9×-expanded column matrix is written, read back and packed, and each packed
/// element then feeds only O multiply-adds (32 in the benchmark's layer): packing alone cost about a third of the
/// multiply time. Here the only copies are the padded image (C·Hp·Wp floats) and the output grid. The micro-kernel is
/// <see cref="GemmMicroKernel256"/>'s 6×16 tile with one extra load per step (the tap's offset). It needs AVX2 + FMA;
/// other machines use im2col + GEMM.
/// </para>
/// <para>
/// The same routine computes ∂x of a stride-1 convolution: ∂x is the convolution of ∂y, padded by dilation·(k − 1) −
/// padding, with the filters turned 180° and their channel axes swapped (see <see cref="ConvolutionKernel"/>).
/// </para>
/// </remarks>
internal sealed class DirectConvolution
{
    /// <summary>Output channels per tile: the micro-kernel's rows.</summary>
    public const int TileRows = 6;

    /// <summary>Output positions per tile: the micro-kernel's two 8-float vectors.</summary>
    public const int TileColumns = 16;

    // Taps per slice of the sum: the sliver of B for one slice (KC rows of 64 bytes) stays in L1 across the tiles
    // of output channels, as packed B does in the GEMM.
    private const int Kc = 256;

    [ThreadStatic]
    private static DirectConvolution? t_current;

    // The padded images and ∂W's transposed grid keep their zeros (padding, the grid's extra columns) from one image
    // to the next: images of one layer differ only where real values go, so the zeros are written once per layer, and
    // _paddedFor / _gradientGridFor say which geometry they were laid out for. Two padded buffers, because a backward
    // alternates two geometries image by image: x for ∂W, ∂y for ∂x.
    private readonly float[][] _padded = [[], []];
    private readonly Window2d[] _paddedFor = new Window2d[2];
    private int _paddedVictim;
    private float[] _gradientGrid = [];
    private (Window2d Window, int OutChannels) _gradientGridFor;
    private float[] _grid = [];
    private int[] _offsets = [];

    private DirectConvolution()
    {
    }

    /// <summary>True when this machine runs the direct path: AVX2 + FMA, and a 256- or 512-bit GEMM kernel in use.</summary>
    public static bool IsSupported =>
        Fma.IsSupported && Vector256.IsHardwareAccelerated && Gemm.Kernel is GemmKernelKind.Vector256 or GemmKernelKind.Vector512;

    /// <summary>True when <paramref name="window"/> is one the direct path computes: stride 1 on both axes.</summary>
    public static bool Handles(in Window2d window) => IsSupported && window.StrideHeight == 1 && window.StrideWidth == 1;

    /// <summary>Floats <see cref="PackFilters"/> writes for <paramref name="outChannels"/> filters of <paramref name="taps"/> taps.</summary>
    public static int PackedFiltersLength(int outChannels, int taps)
    {
        int height = TileHeight(outChannels);
        return (outChannels + height - 1) / height * height * taps;
    }

    /// <summary>
    /// The rows per tile of output channels: 6, or 4 when that divides O and 6 does not. A 4-row tile has 8
    /// accumulators, just enough to cover the FMA latency (4 cycles × 2 pipes), so it runs as fast per row as a 6-row
    /// one; O = 32 then needs 8 tiles of 4 instead of 6 tiles of 6 with 4 rows of padding (11 % less work).
    /// </summary>
    public static int TileHeight(int outChannels) => outChannels % 6 != 0 && outChannels % 4 == 0 ? 4 : TileRows;

    /// <summary>
    /// Packs the filters (O, C·kh·kw), row-major, into tiles of
    /// <see cref="TileHeight"/> h rows: tile t, tap p holds the filters t·h … t·h + h − 1 at p side by side (zeros past O),
    /// the order the micro-kernel broadcasts them in. Done once per call and shared by every image and thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackFilters(ReadOnlySpan<float> filters, int outChannels, int taps, Span<float> packed)
    {
        int height = TileHeight(outChannels);
        int tiles = (outChannels + height - 1) / height;
        for (int t = 0; t < tiles; t++)
        {
            Span<float> tile = packed.Slice(t * height * taps, height * taps);
            for (int r = 0; r < height; r++)
            {
                int o = (t * height) + r;
                for (int p = 0; p < taps; p++)
                {
                    tile[(p * height) + r] = o < outChannels ? filters[(o * taps) + p] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// <c>output[o] (=|+=) Σ_p filters[o, p] · columns[p]</c> for one image: the convolution of
    /// <paramref name="image"/> (C, H, W) under <paramref name="window"/> (stride 1) with the packed filters.
    /// </summary>
    /// <param name="packedFilters">From <see cref="PackFilters"/>, for <paramref name="outChannels"/> filters of C·kh·kw taps.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="image">The image, (C, H, W), contiguous.</param>
    /// <param name="window">Its geometry; the strides must be 1.</param>
    /// <param name="output">(O, Ho, Wo), contiguous.</param>
    /// <param name="accumulate">Add to <paramref name="output"/> instead of overwriting it.</param>
    public static void Image(ReadOnlySpan<float> packedFilters, int outChannels, ReadOnlySpan<float> image, in Window2d window,
        Span<float> output, bool accumulate) => Image(packedFilters, outChannels, image, window, output, accumulate, []);

    /// <summary>
    /// <see cref="Image(ReadOnlySpan{float}, int, ReadOnlySpan{float}, in Window2d, Span{float}, bool)"/> plus
    /// <c>bias[o]</c> on every output of channel o (empty: none), added while the result is copied out of the grid
    /// rather than in a pass of its own.
    /// </summary>
    public static void Image(ReadOnlySpan<float> packedFilters, int outChannels, ReadOnlySpan<float> image, in Window2d window,
        Span<float> output, bool accumulate, ReadOnlySpan<float> bias)
    {
        DirectConvolution workspace = t_current ??= new DirectConvolution();
        workspace.Run(packedFilters, outChannels, image, window, output, accumulate, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(ReadOnlySpan<float> packedFilters, int outChannels, ReadOnlySpan<float> image, in Window2d window,
        Span<float> output, bool accumulate, ReadOnlySpan<float> bias)
    {
        int channels = window.Channels, height = window.Height, width = window.Width, taps = window.ColumnRows;
        int outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        int tileHeight = TileHeight(outChannels);
        int tiles = (outChannels + tileHeight - 1) / tileHeight;
        if (output.Length < outChannels * outHeight * outWidth || packedFilters.Length < PackedFiltersLength(outChannels, taps))
        {
            throw new ArgumentException(
                $"DirectConvolution: output of {output.Length} and packed filters of {packedFilters.Length} floats for {outChannels} filters " +
                $"over a ({channels}, {height}, {width}) image with {window.Describe()}.");
        }
        if (outHeight == 0 || outWidth == 0 || outChannels == 0)
        {
            return;
        }
        if (taps == 0)
        {
            if (!accumulate)
            {
                output[..(outChannels * outHeight * outWidth)].Clear(); // an empty sum
            }
            return;
        }

        int paddedWidth = Pad(image, window, out float[] padded);
        // The output grid: v = oy·Wp + ox for the Ho rows, in whole slivers of 16.
        int slivers = ((outHeight * paddedWidth) + TileColumns - 1) / TileColumns;
        int gridWidth = slivers * TileColumns;
        Span<float> grid = AtLeast(ref _grid, tiles * tileHeight * gridWidth).AsSpan(0, tiles * tileHeight * gridWidth);

        ref float filters = ref MemoryMarshal.GetReference(packedFilters);
        ref float source = ref MemoryMarshal.GetArrayDataReference(padded);
        ref float target = ref MemoryMarshal.GetReference(grid);
        ref int offset = ref MemoryMarshal.GetArrayDataReference(_offsets);
        // Equal slices of the sum, as in the GEMM (576 taps as 192 × 3, not 256 + 256 + 64).
        int kSlices = (taps + Kc - 1) / Kc;
        int kcStep = (taps + kSlices - 1) / kSlices;
        for (int pc = 0; pc < taps; pc += kcStep)
        {
            int kc = Math.Min(kcStep, taps - pc);
            for (int s = 0; s < slivers; s++)
            {
                ref float sliver = ref Unsafe.Add(ref source, s * TileColumns);
                for (int t = 0; t < tiles; t++)
                {
                    ref float a = ref Unsafe.Add(ref filters, (t * tileHeight * taps) + (pc * tileHeight));
                    ref float tile = ref Unsafe.Add(ref target, (t * tileHeight * gridWidth) + (s * TileColumns));
                    switch (Math.Min(tileHeight, outChannels - (t * tileHeight)))
                    {
                        case 1 or 2:
                            Kernel<TwoRows>(kc, ref a, tileHeight, ref sliver, ref Unsafe.Add(ref offset, pc), ref tile, gridWidth, accumulate: pc > 0);
                            break;
                        case 3 or 4:
                            Kernel<FourRows>(kc, ref a, tileHeight, ref sliver, ref Unsafe.Add(ref offset, pc), ref tile, gridWidth, accumulate: pc > 0);
                            break;
                        default:
                            Kernel<SixRows>(kc, ref a, tileHeight, ref sliver, ref Unsafe.Add(ref offset, pc), ref tile, gridWidth, accumulate: pc > 0);
                            break;
                    }
                }
            }
        }

        // Out of the padded grid: row oy of the output is v = oy·Wp … oy·Wp + Wo − 1.
        for (int o = 0; o < outChannels; o++)
        {
            for (int oy = 0; oy < outHeight; oy++)
            {
                ReadOnlySpan<float> from = grid.Slice((o * gridWidth) + (oy * paddedWidth), outWidth);
                Span<float> to = output.Slice(((o * outHeight) + oy) * outWidth, outWidth);
                if (accumulate)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
                    if (!bias.IsEmpty)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(to, bias[o], to);
                    }
                }
                else if (!bias.IsEmpty)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(from, bias[o], to);
                }
                else
                {
                    from.CopyTo(to);
                }
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="image"/> into the padded buffer with its padding made real, plus zeros past the end for
    /// the reads of the last sliver, and sets each tap's offset (rounded up to whole tiles of taps, the extra ones 0).
    /// Returns the padded row pitch Wp; <paramref name="padded"/> is the buffer holding the padded image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Pad(ReadOnlySpan<float> image, in Window2d window, out float[] padded)
    {
        int channels = window.Channels, height = window.Height, width = window.Width;
        int kh = window.KernelHeight, kw = window.KernelWidth, taps = window.ColumnRows;
        int paddedHeight = height + (2 * window.PaddingHeight), paddedWidth = width + (2 * window.PaddingWidth);
        int planeSize = paddedHeight * paddedWidth;
        // The farthest read: the grid's last sliver (up to 15 past Ho·Wp) plus the largest tap offset.
        int paddedLength = (channels * planeSize) + TileColumns + ((kw - 1) * window.DilationWidth);
        int slot = _paddedFor[0] == window ? 0 : _paddedFor[1] == window ? 1 : -1;
        if (slot < 0 || _padded[slot].Length < paddedLength)
        {
            slot = slot < 0 ? _paddedVictim : slot;
            AtLeast(ref _padded[slot], paddedLength).AsSpan(0, paddedLength).Clear();
            _paddedFor[slot] = window;
        }
        _paddedVictim = 1 - slot; // the other buffer is the one to reuse next for a new geometry
        padded = _padded[slot];
        Span<float> interior = padded.AsSpan(0, paddedLength);
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                image.Slice(((c * height) + y) * width, width)
                    .CopyTo(interior.Slice((c * planeSize) + ((y + window.PaddingHeight) * paddedWidth) + window.PaddingWidth, width));
            }
        }
        int tapsPadded = (taps + TileRows - 1) / TileRows * TileRows;
        Span<int> offsets = AtLeast(ref _offsets, tapsPadded).AsSpan(0, tapsPadded);
        for (int p = taps; p < tapsPadded; p++)
        {
            offsets[p] = 0; // taps past the end, in a ragged last tile: any readable offset, their products are dropped
        }
        for (int c = 0, p = 0; c < channels; c++)
        {
            for (int ki = 0; ki < kh; ki++)
            {
                for (int kj = 0; kj < kw; kj++, p++)
                {
                    offsets[p] = (c * planeSize) + (ki * window.DilationHeight * paddedWidth) + (kj * window.DilationWidth);
                }
            }
        }
        return paddedWidth;
    }

    /// <summary>
    /// True when <paramref name="count"/> rows (or columns) fill tiles of <paramref name="tile"/> well enough to repay the
    /// direct path: at most a quarter of the tile work wasted on padding (O = 32 in 6-row tiles wastes 11 %, O = 1 would
    /// waste 83 %, and then the im2col + GEMM path is faster).
    /// </summary>
    public static bool FillsTiles(int count, int tile) => count > 0 && 4L * ((count + tile - 1) / tile) * tile <= 5L * count;

    /// <summary>
    /// <c>partial[p, o] (=|+=) Σ_v columns[p, v] · ∂y[o, v]</c> for one image: ∂Wᵀ (C·kh·kw, O) of a stride-1
    /// convolution, with the im2col matrix again read in place from the padded image.
    /// </summary>
    /// <remarks>
    /// Here the taps are the tile's rows and the output channels its columns: row p of the tile broadcasts
    /// <c>padded[v + offset(p)]</c>, six streams walking the padded image side by side, and the columns load 16
    /// channels of ∂y at v, from a copy of ∂y transposed to (v, O) on the padded grid (zeros at the grid's extra
    /// columns, so those positions add nothing). That copy costs O·Ho·Wp floats, against C·kh·kw times as many
    /// multiply-adds.
    /// </remarks>
    /// <param name="image">The image x[n], (C, H, W), contiguous.</param>
    /// <param name="window">Its geometry; the strides must be 1.</param>
    /// <param name="gradient">∂y[n], (O, Ho, Wo), contiguous.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="partial">∂Wᵀ, (C·kh·kw, O), contiguous.</param>
    /// <param name="accumulate">Add to <paramref name="partial"/> instead of overwriting it.</param>
    public static void WeightGradient(ReadOnlySpan<float> image, in Window2d window, ReadOnlySpan<float> gradient, int outChannels,
        Span<float> partial, bool accumulate)
    {
        DirectConvolution workspace = t_current ??= new DirectConvolution();
        workspace.RunWeightGradient(image, window, gradient, outChannels, partial, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunWeightGradient(ReadOnlySpan<float> image, in Window2d window, ReadOnlySpan<float> gradient, int outChannels,
        Span<float> partial, bool accumulate)
    {
        int taps = window.ColumnRows, outHeight = window.OutputHeight, outWidth = window.OutputWidth;
        if (partial.Length < taps * outChannels || gradient.Length < outChannels * outHeight * outWidth)
        {
            throw new ArgumentException(
                $"DirectConvolution: partial of {partial.Length} and gradient of {gradient.Length} floats for {outChannels} filters " +
                $"over a ({window.Channels}, {window.Height}, {window.Width}) image with {window.Describe()}.");
        }
        if (taps == 0 || outChannels == 0)
        {
            return;
        }
        if (outHeight == 0 || outWidth == 0)
        {
            if (!accumulate)
            {
                partial[..(taps * outChannels)].Clear(); // an empty sum
            }
            return;
        }
        int paddedWidth = Pad(image, window, out float[] padded);
        int positions = outHeight * paddedWidth;
        int channelsPadded = (outChannels + TileColumns - 1) / TileColumns * TileColumns;

        // ∂y on the padded grid, transposed: gridT[v, o] = ∂y[o, oy, ox] at v = oy·Wp + ox, 0 elsewhere.
        if (_gradientGrid.Length < positions * channelsPadded || _gradientGridFor != (window, outChannels))
        {
            AtLeast(ref _gradientGrid, positions * channelsPadded).AsSpan(0, positions * channelsPadded).Clear();
            _gradientGridFor = (window, outChannels);
        }
        Span<float> gridT = _gradientGrid.AsSpan(0, positions * channelsPadded);
        int planeSize = outHeight * outWidth;
        int o = 0;
        if (Avx.IsSupported)
        {
            // Eight channels × eight positions at a time through registers: one position's channels are 128 bytes
            // apart in ∂y, so the element-by-element copy below touched a new cache line with every write.
            ref float from = ref MemoryMarshal.GetReference(gradient);
            ref float to = ref MemoryMarshal.GetReference(gridT);
            for (; o <= outChannels - 8; o += 8)
            {
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int ox = 0;
                    for (; ox <= outWidth - 8; ox += 8)
                    {
                        GemmPacking.Transpose8x8(ref Unsafe.Add(ref from, (o * planeSize) + (oy * outWidth) + ox), planeSize, 8,
                            ref Unsafe.Add(ref to, (((oy * paddedWidth) + ox) * channelsPadded) + o), channelsPadded);
                    }
                    for (; ox < outWidth; ox++)
                    {
                        for (int q = o; q < o + 8; q++)
                        {
                            gridT[(((oy * paddedWidth) + ox) * channelsPadded) + q] = gradient[(q * planeSize) + (oy * outWidth) + ox];
                        }
                    }
                }
            }
        }
        for (; o < outChannels; o++)
        {
            for (int oy = 0; oy < outHeight; oy++)
            {
                ReadOnlySpan<float> row = gradient.Slice(((o * outHeight) + oy) * outWidth, outWidth);
                int v = oy * paddedWidth;
                for (int ox = 0; ox < outWidth; ox++)
                {
                    gridT[((v + ox) * channelsPadded) + o] = row[ox];
                }
            }
        }

        ref float source = ref MemoryMarshal.GetArrayDataReference(padded);
        ref float columnsT = ref MemoryMarshal.GetReference(gridT);
        ref int offset = ref MemoryMarshal.GetArrayDataReference(_offsets);
        Span<float> scratch = stackalloc float[TileRows * TileColumns];
        int tapTiles = (taps + TileRows - 1) / TileRows, channelTiles = channelsPadded / TileColumns;
        int vSlices = (positions + Kc - 1) / Kc;
        int vcStep = (positions + vSlices - 1) / vSlices;
        for (int vc = 0; vc < positions; vc += vcStep)
        {
            int count = Math.Min(vcStep, positions - vc);
            bool add = accumulate || vc > 0;
            for (int s = 0; s < channelTiles; s++)
            {
                ref float columns = ref Unsafe.Add(ref columnsT, ((nint)vc * channelsPadded) + (s * TileColumns));
                int channels = Math.Min(TileColumns, outChannels - (s * TileColumns));
                for (int t = 0; t < tapTiles; t++)
                {
                    int rows = Math.Min(TileRows, taps - (t * TileRows));
                    ref float tile = ref Unsafe.Add(ref MemoryMarshal.GetReference(partial), (t * TileRows * outChannels) + (s * TileColumns));
                    ref float taps6 = ref Unsafe.Add(ref source, vc);
                    if (rows == TileRows && channels == TileColumns)
                    {
                        GradientKernel(count, ref taps6, ref Unsafe.Add(ref offset, t * TileRows), ref columns, channelsPadded, ref tile, outChannels, add);
                    }
                    else
                    {
                        // A ragged edge: the whole tile into scratch, then only what lies inside ∂Wᵀ.
                        GradientKernel(count, ref taps6, ref Unsafe.Add(ref offset, t * TileRows), ref columns, channelsPadded,
                            ref MemoryMarshal.GetReference(scratch), TileColumns, accumulate: false);
                        for (int r = 0; r < rows; r++)
                        {
                            Span<float> target = partial.Slice(((t * TileRows) + r) * outChannels + (s * TileColumns), channels);
                            ReadOnlySpan<float> values = scratch.Slice(r * TileColumns, channels);
                            if (add)
                            {
                                System.Numerics.Tensors.TensorPrimitives.Add(target, values, target);
                            }
                            else
                            {
                                values.CopyTo(target);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One 6×16 tile of ∂Wᵀ (=|+=) Σ_v padded[offset[r] + v] ⊗ columns[v, 0..16]: six taps (rows) by sixteen output
    /// channels, the taps broadcast from six walks along the padded image, the channels loaded from ∂y transposed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GradientKernel(int count, ref float image, ref int offset, ref float columns, int ldColumns,
        ref float c, int ldc, bool accumulate)
    {
        ref float r0 = ref Unsafe.Add(ref image, offset);
        ref float r1 = ref Unsafe.Add(ref image, Unsafe.Add(ref offset, 1));
        ref float r2 = ref Unsafe.Add(ref image, Unsafe.Add(ref offset, 2));
        ref float r3 = ref Unsafe.Add(ref image, Unsafe.Add(ref offset, 3));
        ref float r4 = ref Unsafe.Add(ref image, Unsafe.Add(ref offset, 4));
        ref float r5 = ref Unsafe.Add(ref image, Unsafe.Add(ref offset, 5));
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int v = 0; v < count; v++)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref columns);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref columns, 8);
            Vector256<float> ai = Vector256.Create(Unsafe.Add(ref r0, v));
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref r1, v));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(Unsafe.Add(ref r2, v));
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(Unsafe.Add(ref r3, v));
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(Unsafe.Add(ref r4, v));
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(Unsafe.Add(ref r5, v));
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            columns = ref Unsafe.Add(ref columns, ldColumns);
        }

        StoreRow(ref c, c00, c01, accumulate);
        StoreRow(ref Unsafe.Add(ref c, ldc), c10, c11, accumulate);
        StoreRow(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, accumulate);
        StoreRow(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, accumulate);
        StoreRow(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, accumulate);
        StoreRow(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, accumulate);
    }

    /// <summary>
    /// One tile of the grid, <typeparamref name="TRows"/> output channels by 16 positions, (=|+=)
    /// Σ_p a[p, 0..rows] ⊗ b[offset[p] .. + 16]: <see cref="GemmMicroKernel256"/>'s register blocking, with B's row p
    /// read in place at its tap's offset instead of from a packed sliver.
    /// </summary>
    /// <remarks>
    /// Tiles are <see cref="TileHeight"/> rows, <paramref name="aStride"/> floats per step of packed filters; a last tile
    /// with fewer rows left runs with 4 or 2 (the JIT compiles one kernel per row count and drops the unused
    /// accumulators), rather than spending a full tile's time on padding.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TRows>(int kc, ref float a, int aStride, ref float b, ref int offset, ref float c, int ldc, bool accumulate)
        where TRows : struct, ITileRows
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            ref float row = ref Unsafe.Add(ref b, Unsafe.Add(ref offset, p));
            Vector256<float> b0 = Vector256.LoadUnsafe(ref row);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref row, 8);
            Vector256<float> ai = Vector256.Create(a);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(Unsafe.Add(ref a, 1));
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            if (TRows.Count > 2)
            {
                ai = Vector256.Create(Unsafe.Add(ref a, 2));
                c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
                ai = Vector256.Create(Unsafe.Add(ref a, 3));
                c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            }
            if (TRows.Count > 4)
            {
                ai = Vector256.Create(Unsafe.Add(ref a, 4));
                c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
                ai = Vector256.Create(Unsafe.Add(ref a, 5));
                c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            }
            a = ref Unsafe.Add(ref a, aStride);
        }

        StoreRow(ref c, c00, c01, accumulate);
        StoreRow(ref Unsafe.Add(ref c, ldc), c10, c11, accumulate);
        if (TRows.Count > 2)
        {
            StoreRow(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, accumulate);
            StoreRow(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, accumulate);
        }
        if (TRows.Count > 4)
        {
            StoreRow(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, accumulate);
            StoreRow(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(ref float c, Vector256<float> low, Vector256<float> high, bool accumulate)
    {
        if (accumulate)
        {
            low += Vector256.LoadUnsafe(ref c);
            high += Vector256.LoadUnsafe(ref c, 8);
        }
        low.StoreUnsafe(ref c);
        high.StoreUnsafe(ref c, 8);
    }

    private static T[] AtLeast<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
        return array;
    }

    /// <summary>A tile height, as a type, so that each <see cref="Kernel{TRows}"/> is compiled for its own.</summary>
    private interface ITileRows
    {
        static abstract int Count { get; }
    }

    private readonly struct TwoRows : ITileRows
    {
        public static int Count => 2;
    }

    private readonly struct FourRows : ITileRows
    {
        public static int Count => 4;
    }

    private readonly struct SixRows : ITileRows
    {
        public static int Count => 6;
    }
}
