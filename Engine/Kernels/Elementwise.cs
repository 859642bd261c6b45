using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The drivers that run an <see cref="IUnaryOperator"/> or <see cref="IBinaryOperator"/> over spans, at the widest
/// vector width the CPU accelerates, then the narrower ones, then one element at a time for the last few.
/// </summary>
/// <remarks>
/// Each <c>IsHardwareAccelerated</c> check is a JIT-time constant, so a build for an AVX-512 machine keeps all four
/// loops while <c>DOTNET_EnableAVX512=0</c> drops the first, and <c>DOTNET_EnableHWIntrinsic=0</c> leaves only the
/// scalar loop, which is also the reference twin the tests compare against (<see cref="MapScalar{TOp}"/>).
/// The tail runs element by element rather than as one overlapping vector so that in-place calls
/// (<c>x</c> and <c>y</c> the same span) and accumulating calls stay correct.
/// </remarks>
internal static class Elementwise
{
    /// <summary><c>y[i] = op(x[i])</c>. <paramref name="x"/> and <paramref name="y"/> may be the same span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Map<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op = default)
        where TOp : struct, IUnaryOperator
    {
        CheckLengths("Map", x.Length, y.Length);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                op.Invoke(Vector128.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ys, i) = op.Invoke(Unsafe.Add(ref xs, i));
        }
    }

    /// <summary><c>z[i] = op(x[i], y[i])</c>. The output may be one of the inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Zip<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, TOp op = default)
        where TOp : struct, IBinaryOperator
    {
        CheckLengths("Zip", x.Length, y.Length);
        CheckLengths("Zip", x.Length, z.Length);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float zs = ref MemoryMarshal.GetReference(z);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i), Vector512.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i), Vector256.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                op.Invoke(Vector128.LoadUnsafe(ref xs, (nuint)i), Vector128.LoadUnsafe(ref ys, (nuint)i)).StoreUnsafe(ref zs, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref zs, i) = op.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
        }
    }

    /// <summary>
    /// <c>acc[i] += op(x[i], y[i])</c>: how backward rules add a local derivative times the incoming gradient into
    /// an input's gradient in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ZipAccumulate<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> acc, TOp op = default)
        where TOp : struct, IBinaryOperator
    {
        CheckLengths("ZipAccumulate", x.Length, y.Length);
        CheckLengths("ZipAccumulate", x.Length, acc.Length);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float accs = ref MemoryMarshal.GetReference(acc);
        int n = x.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> sum = Vector512.LoadUnsafe(ref accs, (nuint)i) + op.Invoke(Vector512.LoadUnsafe(ref xs, (nuint)i), Vector512.LoadUnsafe(ref ys, (nuint)i));
                sum.StoreUnsafe(ref accs, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> sum = Vector256.LoadUnsafe(ref accs, (nuint)i) + op.Invoke(Vector256.LoadUnsafe(ref xs, (nuint)i), Vector256.LoadUnsafe(ref ys, (nuint)i));
                sum.StoreUnsafe(ref accs, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> sum = Vector128.LoadUnsafe(ref accs, (nuint)i) + op.Invoke(Vector128.LoadUnsafe(ref xs, (nuint)i), Vector128.LoadUnsafe(ref ys, (nuint)i));
                sum.StoreUnsafe(ref accs, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref accs, i) += op.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
        }
    }

    /// <summary>The scalar twin of <see cref="Map{TOp}"/>: the operator's scalar definition, one element at a time.</summary>
    public static void MapScalar<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op = default)
        where TOp : struct, IUnaryOperator
    {
        CheckLengths("MapScalar", x.Length, y.Length);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = op.Invoke(x[i]);
        }
    }

    /// <summary>The scalar twin of <see cref="Zip{TOp}"/>.</summary>
    public static void ZipScalar<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, TOp op = default)
        where TOp : struct, IBinaryOperator
    {
        CheckLengths("ZipScalar", x.Length, y.Length);
        CheckLengths("ZipScalar", x.Length, z.Length);
        for (int i = 0; i < x.Length; i++)
        {
            z[i] = op.Invoke(x[i], y[i]);
        }
    }

    /// <summary><c>acc[i] += x[i]</c>.</summary>
    public static void AddInPlace(Span<float> acc, ReadOnlySpan<float> x)
    {
        CheckLengths("AddInPlace", x.Length, acc.Length);
        System.Numerics.Tensors.TensorPrimitives.Add(acc, x, acc);
    }

    private static void CheckLengths(string kernel, int a, int b)
    {
        if (a != b)
        {
            throw new ArgumentException($"{kernel}: spans of {a} and {b} elements, expected equal lengths.");
        }
    }
}
