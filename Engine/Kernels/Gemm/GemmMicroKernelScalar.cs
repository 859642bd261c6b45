using System.Runtime.CompilerServices;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The scalar micro-kernel, for runtimes with hardware intrinsics turned off (<c>DOTNET_EnableHWIntrinsic=0</c>):
/// a 4×4 tile in sixteen locals. Same packing and blocking as the vector kernels, so the driver is tested on it too.
/// </summary>
/// <remarks>
/// It multiplies then adds (two roundings) rather than calling <c>MathF.FusedMultiplyAdd</c>, which would be a slow
/// software routine exactly where this kernel runs.
/// </remarks>
internal readonly struct GemmMicroKernelScalar : IGemmMicroKernel
{
    public static int Mr => 4;
    public static int Nr => 4;
    public static int Mc => 128;
    public static int SingleSliceDepth => Kc;
    public static int Kc => 256;
    public static int Nc => 4080;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b, b1 = Unsafe.Add(ref b, 1), b2 = Unsafe.Add(ref b, 2), b3 = Unsafe.Add(ref b, 3);
            float ai = a;
            c00 += ai * b0; c01 += ai * b1; c02 += ai * b2; c03 += ai * b3;
            ai = Unsafe.Add(ref a, 1);
            c10 += ai * b0; c11 += ai * b1; c12 += ai * b2; c13 += ai * b3;
            ai = Unsafe.Add(ref a, 2);
            c20 += ai * b0; c21 += ai * b1; c22 += ai * b2; c23 += ai * b3;
            ai = Unsafe.Add(ref a, 3);
            c30 += ai * b0; c31 += ai * b1; c32 += ai * b2; c33 += ai * b3;
            a = ref Unsafe.Add(ref a, 4);
            b = ref Unsafe.Add(ref b, 4);
        }

        StoreRow(ref c, c00, c01, c02, c03, store, column);
        StoreRow(ref Unsafe.Add(ref c, ldc), c10, c11, c12, c13, store, column);
        StoreRow(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, c22, c23, store, column);
        StoreRow(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, c32, c33, store, column);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(ref float c, float acc0, float acc1, float acc2, float acc3, in GemmTileStore store, int column)
    {
        StoreOne(ref c, acc0, store, column);
        StoreOne(ref Unsafe.Add(ref c, 1), acc1, store, column + 1);
        StoreOne(ref Unsafe.Add(ref c, 2), acc2, store, column + 2);
        StoreOne(ref Unsafe.Add(ref c, 3), acc3, store, column + 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(ref float c, float acc, in GemmTileStore store, int column) =>
        c = store.Finish(store.Alpha * acc, store.ReadC ? c : 0f, column);

    public static int ShortRows => Mr; // no short tile: RunShort is Run

    /// <summary>As <see cref="Run"/>, without the prefetch (far too slow for B's reads from L3 to matter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunPrefetching(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store,
        int column, ref float prefetch, nint prefetchStepBytes) =>
        Run(kc, ref a, ref b, ref c, ldc, store, column);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunShort(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column) =>
        Run(kc, ref a, ref b, ref c, ldc, store, column);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunCopyingB(int kc, ref float a, ref float b, nint ldb, ref float packedB, ref float c, int ldc,
        in GemmTileStore store, int column) =>
        GemmPacking.CopyThenRun<GemmMicroKernelScalar>(kc, ref a, ref b, ldb, ref packedB, ref c, ldc, store, column);
}
