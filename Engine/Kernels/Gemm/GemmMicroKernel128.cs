using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The portable micro-kernel: a 4×8 tile of C in eight 4-float registers, for SSE-only x64 and for Arm's NEON.
/// </summary>
/// <remarks>
/// Why 4×8: SSE has 16 registers and, without FMA, each multiply-add needs a temporary; 8 accumulators, 2 B
/// vectors, 1 broadcast and 1 temporary fit with room to spare. <c>MultiplyAddEstimate</c> fuses where the CPU can
/// (NEON, x64 with FMA) and multiplies then adds where it cannot, instead of emulating a fused operation in software.
/// KC = 256 keeps the 256×8 B sliver (8 KiB) in L1; MC = 128 makes the A block 128 KiB of L2.
/// </remarks>
internal readonly struct GemmMicroKernel128 : IGemmMicroKernel
{
    public static int Mr => 4;
    public static int Nr => 8;
    public static int Mc => 128;
    public static int SingleSliceDepth => Kc;
    public static int Kc => 256;
    public static int Nc => 4080;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.LoadUnsafe(ref b);
            Vector128<float> b1 = Vector128.LoadUnsafe(ref b, 4);
            Vector128<float> ai = Vector128.Create(a);
            c00 = Vector128.MultiplyAddEstimate(ai, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(ai, b1, c01);
            ai = Vector128.Create(Unsafe.Add(ref a, 1));
            c10 = Vector128.MultiplyAddEstimate(ai, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(ai, b1, c11);
            ai = Vector128.Create(Unsafe.Add(ref a, 2));
            c20 = Vector128.MultiplyAddEstimate(ai, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(ai, b1, c21);
            ai = Vector128.Create(Unsafe.Add(ref a, 3));
            c30 = Vector128.MultiplyAddEstimate(ai, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(ai, b1, c31);
            a = ref Unsafe.Add(ref a, 4);
            b = ref Unsafe.Add(ref b, 8);
        }

        ref float tile = ref c;
        Vector128<float> alpha = Vector128.Create(store.Alpha), beta = Vector128.Create(store.Beta);
        bool readC = store.ReadC;
        GemmTileStore.Store(ref c, c00, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 4), c01, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c10, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 4), c11, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c20, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 4), c21, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c30, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 4), c31, alpha, beta, readC);
        if (store.HasEpilogue)
        {
            store.FinishTile(ref tile, ldc, column, 4, 8);
        }
    }

    public static int ShortRows => Mr; // no short tile: RunShort is Run

    /// <summary>As <see cref="Run"/>, without the prefetch (not measured against a busy L3).</summary>
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
        GemmPacking.CopyThenRun<GemmMicroKernel128>(kc, ref a, ref b, ldb, ref packedB, ref c, ldc, store, column);
}
