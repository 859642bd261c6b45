namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The geometry of a kh×kw window sliding over a stack of H×W planes: what Conv2d, MaxPool2d and AvgPool2d share.
/// </summary>
/// <remarks>
/// <para>
/// Output position (oy, ox) looks at input rows <c>oy·strideH − padH + ki·dilationH</c> for ki = 0 … kh−1, and
/// columns likewise; positions outside 0 … H−1 (0 … W−1) are padding. The output size along one axis is
/// PyTorch's <c>⌊(H + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1</c>: the number of window placements whose
/// last tap still lies inside the padded input.
/// </para>
/// <para>
/// <see cref="Channels"/> is the number of planes the window is applied to: C for one image of a convolution
/// (whose window spans all channels at once), N·C for pooling (which treats every plane on its own).
/// </para>
/// </remarks>
internal readonly record struct Window2d(
    int Channels, int Height, int Width,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PaddingHeight, int PaddingWidth,
    int DilationHeight, int DilationWidth)
{
    /// <summary>The number of ints <see cref="ToInts"/> and <see cref="WriteInts"/> write.</summary>
    public const int IntCount = 11;

    /// <summary>Ho: how many window placements fit down the padded input (0 or less when none does).</summary>
    public int OutputHeight => OutputSize(Height, KernelHeight, StrideHeight, PaddingHeight, DilationHeight);

    /// <summary>Wo: how many window placements fit across the padded input.</summary>
    public int OutputWidth => OutputSize(Width, KernelWidth, StrideWidth, PaddingWidth, DilationWidth);

    /// <summary>C·kh·kw: the rows of the im2col matrix, one per (channel, tap).</summary>
    public int ColumnRows => Channels * KernelHeight * KernelWidth;

    /// <summary>Ho·Wo: the columns of the im2col matrix, one per output position.</summary>
    public int ColumnCount => OutputHeight * OutputWidth;

    /// <summary>The elements of one (C, H, W) input.</summary>
    public int InputSize => Channels * Height * Width;

    /// <summary>
    /// True for a 1×1 window with stride 1 and no padding: then the im2col matrix (C, H·W) is the image itself, so
    /// convolution can skip the copy and run the GEMM straight on the input.
    /// </summary>
    public bool IsPointwise =>
        KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1 && PaddingHeight == 0 && PaddingWidth == 0;

    /// <summary>PyTorch's output size; 0 when even the first placement does not fit (never negative).</summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation)
    {
        // long: size + 2·padding and dilation·(kernel − 1) can each overflow int for absurd arguments.
        long reach = (long)size + 2L * padding - (long)dilation * (kernel - 1) - 1;
        if (reach < 0)
        {
            return 0;
        }
        return (int)Math.Min(reach / stride + 1, int.MaxValue);
    }

    /// <summary>Packs the geometry into an array, to save on a tape entry (<see cref="FromInts"/> reads it back).</summary>
    public int[] ToInts() =>
    [
        Channels, Height, Width, KernelHeight, KernelWidth, StrideHeight, StrideWidth,
        PaddingHeight, PaddingWidth, DilationHeight, DilationWidth,
    ];

    /// <summary>Packs the geometry into <paramref name="destination"/> (<see cref="IntCount"/> ints), as <see cref="ToInts"/> without allocating.</summary>
    public void WriteInts(Span<int> destination)
    {
        ReadOnlySpan<int> ints =
        [
            Channels, Height, Width, KernelHeight, KernelWidth, StrideHeight, StrideWidth,
            PaddingHeight, PaddingWidth, DilationHeight, DilationWidth,
        ];
        ints.CopyTo(destination);
    }

    /// <summary>The geometry <see cref="ToInts"/> or <see cref="WriteInts"/> packed.</summary>
    public static Window2d FromInts(ReadOnlySpan<int> ints)
    {
        if (ints.Length != IntCount)
        {
            throw new ArgumentException($"Window2d: {ints.Length} ints given, expected {IntCount}.", nameof(ints));
        }
        return new Window2d(ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7], ints[8], ints[9], ints[10]);
    }

    /// <summary>Describes the window for error messages, e.g. <c>kernel 3×3, stride (2, 2), padding (1, 1), dilation (1, 1)</c>.</summary>
    public string Describe() =>
        $"kernel {KernelHeight}×{KernelWidth}, stride ({StrideHeight}, {StrideWidth}), padding ({PaddingHeight}, {PaddingWidth}), " +
        $"dilation ({DilationHeight}, {DilationWidth})";

    /// <summary>
    /// The output columns ox whose tap lands inside the row: <c>0 ≤ ox·stride + offset &lt; width</c>, as the range
    /// [begin, end) within [0, outputWidth). Outside it the tap reads padding. The kernels use it to split each output
    /// row into zero-padding | a run of real pixels | zero-padding, so the inner loop has no bounds test.
    /// </summary>
    public static void ValidRange(int offset, int stride, int width, int outputWidth, out int begin, out int end)
    {
        // First ox with ox·stride + offset ≥ 0: ⌈−offset / stride⌉ when offset is negative.
        begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        // Last ox with ox·stride + offset ≤ width − 1, plus one; none when the offset is already past the end.
        end = offset > width - 1 ? 0 : (width - 1 - offset) / stride + 1;
        begin = Math.Min(begin, outputWidth);
        end = Math.Clamp(end, begin, outputWidth);
    }
}
