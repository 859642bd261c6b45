using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// How a micro-kernel writes its accumulators <c>acc</c> (one KC-deep slice of the sum) into C:
/// <c>r = alpha·acc</c>, then <c>r = beta·c + r</c> unless C is not read, then, on the last slice only, the epilogue
/// <c>r = act(r·scale[j] + bias[j])</c>.
/// </summary>
/// <remarks>
/// The first slice uses the caller's beta; later slices add onto what the earlier ones stored (beta = 1). When
/// beta is 0 the first slice never reads C, so NaN or garbage there is ignored, as in BLAS. A vector kernel reads
/// alpha, beta and <see cref="ReadC"/> into locals, stores each row of its tile with <c>Store</c>, then, when there is
/// an epilogue, calls <see cref="FinishTile"/> once for the whole tile while it is still in L1. Reading the settings
/// once per tile rather than once per vector matters: the kernel's stores through <c>ref float</c> may, as far as the
/// JIT knows, alias this struct, so every field would be reloaded after every store (measured: a per-column scale and
/// bias in the store made a 1000×1000×100 GEMM 1.2× slower; per tile it is within noise). Alpha, beta and ReadC were
/// once reloaded from the struct before each of the 12 row stores of a 6×16 tile too; as locals they stay in registers
/// (about 40 fewer instructions a tile, which measured within noise at 512³ and 1024³). <see cref="Finish"/> is the
/// scalar twin: the same operations in the same order (one rounding for <c>alpha·acc</c>, one fused multiply-add
/// each for beta and for scale + bias), so a ragged edge tile, which goes through a scratch tile and
/// this method, rounds exactly like a full tile.
/// </remarks>
internal readonly struct GemmTileStore
{
    public GemmTileStore(float alpha, float beta, bool readC, in GemmEpilogue epilogue, bool applyEpilogue)
    {
        Alpha = alpha;
        Beta = beta;
        ReadC = readC;
        if (applyEpilogue)
        {
            Scale = epilogue.ColumnScale;
            ScaleOffset = epilogue.ColumnScaleOffset;
            Bias = epilogue.ColumnBias;
            BiasOffset = epilogue.ColumnBiasOffset;
            Relu = epilogue.Activation == GemmActivation.Relu;
        }
        HasEpilogue = Scale is not null || Bias is not null || Relu;
    }

    public float Alpha { get; }
    public float Beta { get; }

    /// <summary>False when the old C must be ignored (the first slice with beta = 0).</summary>
    public bool ReadC { get; }

    public bool HasEpilogue { get; }
    public float[]? Scale { get; }
    public int ScaleOffset { get; }
    public float[]? Bias { get; }
    public int BiasOffset { get; }
    public bool Relu { get; }

    /// <summary>A store that writes <c>alpha·acc</c> and nothing else: used for the scratch tile at ragged edges.</summary>
    public GemmTileStore PlainProduct => new(Alpha, 0f, readC: false, default, applyEpilogue: false);

    /// <summary>The scalar twin of a kernel's store, for one element whose <c>alpha·acc</c> is <paramref name="product"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Finish(float product, float oldC, int column)
    {
        float r = ReadC ? MathF.FusedMultiplyAdd(Beta, oldC, product) : product;
        return HasEpilogue ? Epilogue(r, column) : r;
    }

    /// <summary>Stores 16 columns of one tile row: <c>alpha·acc (+ beta·c)</c> into <paramref name="c"/>, with
    /// <paramref name="alpha"/>, <paramref name="beta"/> and <paramref name="readC"/> this store's, read once per tile
    /// (see the remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float c, Vector512<float> acc, Vector512<float> alpha, Vector512<float> beta, bool readC)
    {
        Vector512<float> r = acc * alpha;
        if (readC)
        {
            r = Vector512.FusedMultiplyAdd(beta, Vector512.LoadUnsafe(ref c), r);
        }
        r.StoreUnsafe(ref c);
    }

    /// <summary>Stores 8 columns of one tile row: <c>alpha·acc (+ beta·c)</c> into <paramref name="c"/>, with
    /// <paramref name="alpha"/>, <paramref name="beta"/> and <paramref name="readC"/> this store's, read once per tile
    /// (see the remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float c, Vector256<float> acc, Vector256<float> alpha, Vector256<float> beta, bool readC)
    {
        Vector256<float> r = acc * alpha;
        if (readC)
        {
            r = Vector256.FusedMultiplyAdd(beta, Vector256.LoadUnsafe(ref c), r);
        }
        r.StoreUnsafe(ref c);
    }

    /// <summary>Stores 4 columns of one tile row: <c>alpha·acc (+ beta·c)</c> into <paramref name="c"/>, with
    /// <paramref name="alpha"/>, <paramref name="beta"/> and <paramref name="readC"/> this store's, read once per tile
    /// (see the remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float c, Vector128<float> acc, Vector128<float> alpha, Vector128<float> beta, bool readC)
    {
        Vector128<float> r = acc * alpha;
        if (readC)
        {
            r = Vector128.FusedMultiplyAdd(beta, Vector128.LoadUnsafe(ref c), r);
        }
        r.StoreUnsafe(ref c);
    }

    /// <summary>
    /// Applies the epilogue to a full tile that <c>Store</c> has just written: <paramref name="rows"/> rows of
    /// <paramref name="width"/> (a multiple of 4) columns at <paramref name="c"/>, whose first column is C's <paramref name="column"/>.
    /// Only full tiles come here, and they lie inside C's n columns, so every read is in bounds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FinishTile(ref float c, int ldc, int column, int rows, int width)
    {
        // Everything the loop needs, read once into locals (see the remarks).
        float[]? scale = Scale, bias = Bias;
        bool relu = Relu;
        ref float scaleAt = ref scale is null ? ref c : ref At(scale, ScaleOffset + column);
        ref float biasAt = ref bias is null ? ref c : ref At(bias, BiasOffset + column);
        for (int r = 0; r < rows; r++)
        {
            ref float cRow = ref Unsafe.Add(ref c, (nint)r * ldc);
            int q = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; q <= width - 8; q += 8)
                {
                    Vector256<float> value = Vector256.LoadUnsafe(ref cRow, (nuint)q);
                    if (scale is not null && bias is not null)
                    {
                        value = Vector256.FusedMultiplyAdd(value, Vector256.LoadUnsafe(ref scaleAt, (nuint)q), Vector256.LoadUnsafe(ref biasAt, (nuint)q));
                    }
                    else if (scale is not null)
                    {
                        value *= Vector256.LoadUnsafe(ref scaleAt, (nuint)q);
                    }
                    else if (bias is not null)
                    {
                        value += Vector256.LoadUnsafe(ref biasAt, (nuint)q);
                    }
                    if (relu)
                    {
                        value = Vector256.Max(value, Vector256<float>.Zero);
                    }
                    value.StoreUnsafe(ref cRow, (nuint)q);
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                for (; q <= width - 4; q += 4)
                {
                    Vector128<float> value = Vector128.LoadUnsafe(ref cRow, (nuint)q);
                    if (scale is not null && bias is not null)
                    {
                        value = Vector128.FusedMultiplyAdd(value, Vector128.LoadUnsafe(ref scaleAt, (nuint)q), Vector128.LoadUnsafe(ref biasAt, (nuint)q));
                    }
                    else if (scale is not null)
                    {
                        value *= Vector128.LoadUnsafe(ref scaleAt, (nuint)q);
                    }
                    else if (bias is not null)
                    {
                        value += Vector128.LoadUnsafe(ref biasAt, (nuint)q);
                    }
                    if (relu)
                    {
                        value = Vector128.Max(value, Vector128<float>.Zero);
                    }
                    value.StoreUnsafe(ref cRow, (nuint)q);
                }
            }
            for (; q < width; q++)
            {
                ref float element = ref Unsafe.Add(ref cRow, q);
                element = Epilogue(element, column + q);
            }
        }
    }

    /// <summary>The epilogue for one element: <c>act(r·scale[column] + bias[column])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Epilogue(float r, int column)
    {
        if (Scale is not null && Bias is not null)
        {
            r = MathF.FusedMultiplyAdd(r, Scale[ScaleOffset + column], Bias[BiasOffset + column]);
        }
        else if (Scale is not null)
        {
            r *= Scale[ScaleOffset + column];
        }
        else if (Bias is not null)
        {
            r += Bias[BiasOffset + column];
        }
        return Relu ? MathF.Max(r, 0f) : r;
    }

    private static ref float At(float[] array, int index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)(uint)index);
}
