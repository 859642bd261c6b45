using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// How a micro-kernel writes its accumulators <c>acc</c> (one KC-deep slice of the sum) into C:
/// <c>r = alpha·acc</c>, then <c>r = beta·c + r</c> unless C is not read, then, on the last slice only, the epilogue
/// <c>r = act((r + f[i]·D[i, j])·scale[j] + bias[j])</c>.
/// </summary>
/// <remarks>
/// The first slice uses the caller's beta; later slices add onto what the earlier ones stored (beta = 1). When
/// beta is 0 the first slice never reads C, so NaN or garbage there is ignored, as in BLAS. <see cref="Finish"/> is
/// the scalar twin of the vector stores: the same operations in the same order (one rounding for <c>alpha·acc</c>,
/// one fused multiply-add each for beta, for the addend and for scale + bias), so a ragged edge tile, which goes through a scratch tile
/// and this method, rounds exactly like a full tile.
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
            Addend = epilogue.Addend;
            AddendOffset = epilogue.AddendOffset;
            AddendStride = epilogue.AddendStride;
            AddendRowFactors = epilogue.AddendRowFactors;
            AddendRowFactorsOffset = epilogue.AddendRowFactorsOffset;
        }
        HasEpilogue = Scale is not null || Bias is not null || Relu || Addend is not null;
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
    public float[]? Addend { get; }
    public int AddendOffset { get; }
    public int AddendStride { get; }
    public float[]? AddendRowFactors { get; }
    public int AddendRowFactorsOffset { get; }

    /// <summary>A store that writes <c>alpha·acc</c> and nothing else: used for the scratch tile at ragged edges.</summary>
    public GemmTileStore PlainProduct => new(Alpha, 0f, readC: false, default, applyEpilogue: false);

    /// <summary>The scalar twin of a kernel's store, for one element whose <c>alpha·acc</c> is <paramref name="product"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Finish(float product, float oldC, int row, int column)
    {
        float r = ReadC ? MathF.FusedMultiplyAdd(Beta, oldC, product) : product;
        if (!HasEpilogue)
        {
            return r;
        }
        if (Addend is not null)
        {
            r = MathF.FusedMultiplyAdd(AddendRowFactors![AddendRowFactorsOffset + row], Addend[AddendOffset + (row * AddendStride) + column], r);
        }
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

    /// <summary>Stores 16 columns of tile row <paramref name="row"/> of C: <paramref name="acc"/> into <paramref name="c"/>, from <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float c, Vector512<float> acc, int row, int column)
    {
        Vector512<float> r = acc * Vector512.Create(Alpha);
        if (ReadC)
        {
            r = Vector512.FusedMultiplyAdd(Vector512.Create(Beta), Vector512.LoadUnsafe(ref c), r);
        }
        if (HasEpilogue)
        {
            if (Addend is not null)
            {
                r = Vector512.FusedMultiplyAdd(Vector512.Create(At(AddendRowFactors!, AddendRowFactorsOffset + row)),
                    Vector512.LoadUnsafe(ref At(Addend, AddendOffset + (row * AddendStride) + column)), r);
            }
            if (Scale is not null && Bias is not null)
            {
                r = Vector512.FusedMultiplyAdd(r, Vector512.LoadUnsafe(ref At(Scale, ScaleOffset + column)), Vector512.LoadUnsafe(ref At(Bias, BiasOffset + column)));
            }
            else if (Scale is not null)
            {
                r *= Vector512.LoadUnsafe(ref At(Scale, ScaleOffset + column));
            }
            else if (Bias is not null)
            {
                r += Vector512.LoadUnsafe(ref At(Bias, BiasOffset + column));
            }
            if (Relu)
            {
                r = Vector512.Max(r, Vector512<float>.Zero);
            }
        }
        r.StoreUnsafe(ref c);
    }

    /// <summary>Stores 8 columns of tile row <paramref name="row"/> of C: <paramref name="acc"/> into <paramref name="c"/>, from <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float c, Vector256<float> acc, int row, int column)
    {
        Vector256<float> r = acc * Vector256.Create(Alpha);
        if (ReadC)
        {
            r = Vector256.FusedMultiplyAdd(Vector256.Create(Beta), Vector256.LoadUnsafe(ref c), r);
        }
        if (HasEpilogue)
        {
            if (Addend is not null)
            {
                r = Vector256.FusedMultiplyAdd(Vector256.Create(At(AddendRowFactors!, AddendRowFactorsOffset + row)),
                    Vector256.LoadUnsafe(ref At(Addend, AddendOffset + (row * AddendStride) + column)), r);
            }
            if (Scale is not null && Bias is not null)
            {
                r = Vector256.FusedMultiplyAdd(r, Vector256.LoadUnsafe(ref At(Scale, ScaleOffset + column)), Vector256.LoadUnsafe(ref At(Bias, BiasOffset + column)));
            }
            else if (Scale is not null)
            {
                r *= Vector256.LoadUnsafe(ref At(Scale, ScaleOffset + column));
            }
            else if (Bias is not null)
            {
                r += Vector256.LoadUnsafe(ref At(Bias, BiasOffset + column));
            }
            if (Relu)
            {
                r = Vector256.Max(r, Vector256<float>.Zero);
            }
        }
        r.StoreUnsafe(ref c);
    }

    /// <summary>Stores 4 columns of tile row <paramref name="row"/> of C: <paramref name="acc"/> into <paramref name="c"/>, from <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(ref float c, Vector128<float> acc, int row, int column)
    {
        Vector128<float> r = acc * Vector128.Create(Alpha);
        if (ReadC)
        {
            r = Vector128.FusedMultiplyAdd(Vector128.Create(Beta), Vector128.LoadUnsafe(ref c), r);
        }
        if (HasEpilogue)
        {
            if (Addend is not null)
            {
                r = Vector128.FusedMultiplyAdd(Vector128.Create(At(AddendRowFactors!, AddendRowFactorsOffset + row)),
                    Vector128.LoadUnsafe(ref At(Addend, AddendOffset + (row * AddendStride) + column)), r);
            }
            if (Scale is not null && Bias is not null)
            {
                r = Vector128.FusedMultiplyAdd(r, Vector128.LoadUnsafe(ref At(Scale, ScaleOffset + column)), Vector128.LoadUnsafe(ref At(Bias, BiasOffset + column)));
            }
            else if (Scale is not null)
            {
                r *= Vector128.LoadUnsafe(ref At(Scale, ScaleOffset + column));
            }
            else if (Bias is not null)
            {
                r += Vector128.LoadUnsafe(ref At(Bias, BiasOffset + column));
            }
            if (Relu)
            {
                r = Vector128.Max(r, Vector128<float>.Zero);
            }
        }
        r.StoreUnsafe(ref c);
    }

    // The kernels only store full tiles, which lie inside C's m rows and n columns, so the epilogue's vectors and
    // D's rows are in bounds (the arguments were checked against m and n).
    private static ref float At(float[] array, int index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), (nint)(uint)index);
}
