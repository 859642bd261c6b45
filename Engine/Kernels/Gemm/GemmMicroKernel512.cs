using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The AVX-512 micro-kernel: an 8×32 tile of C held in sixteen 16-float registers.
/// </summary>
/// <remarks>
/// <para>
/// Why 8×32: AVX-512 has 32 vector registers. The tile takes 16 (8 rows × 2 vectors of 16 columns), the current
/// row of packed B 2, the broadcast A element 1: 19 of 32, so the JIT has slack and never spills. Per step: 2 loads
/// of B and 8 broadcasts for 16 FMAs, which keeps two 512-bit FMA pipes busy (8 cycles) with loads to spare
/// (10 loads, 2 per cycle), and 16 independent accumulators cover a 4-cycle FMA latency on 2 pipes.
/// A taller tile (12×32 or 14×32) would cut B loads further, at the risk of spills we cannot see on a machine
/// without AVX-512, where this kernel is only tested in the JIT's software emulation.
/// </para>
/// <para>
/// Blocking for a typical AVX-512 core (32–48 KiB L1d, 1–2 MiB L2): KC = 192 keeps the 192×32 B sliver (24 KiB)
/// in L1; MC = 384 makes the packed A block 288 KiB, about a quarter of L2; NC = 4064 (a multiple of 32) makes the
/// B panel about 3 MiB of L3.
/// </para>
/// </remarks>
internal readonly struct GemmMicroKernel512 : IGemmMicroKernel
{
    public static int Mr => 8;
    public static int Nr => 32;
    public static int Mc => 384;
    public static int SingleSliceDepth => Kc;
    public static int Kc => 192;
    public static int Nc => 4064;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, ref float a, ref float b, ref float c, int ldc, in GemmTileStore store, int column)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.LoadUnsafe(ref b);
            Vector512<float> b1 = Vector512.LoadUnsafe(ref b, 16);
            Vector512<float> ai = Vector512.Create(a);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(Unsafe.Add(ref a, 1));
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(Unsafe.Add(ref a, 2));
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(Unsafe.Add(ref a, 3));
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(Unsafe.Add(ref a, 4));
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(Unsafe.Add(ref a, 5));
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(Unsafe.Add(ref a, 6));
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(Unsafe.Add(ref a, 7));
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            a = ref Unsafe.Add(ref a, 8);
            b = ref Unsafe.Add(ref b, 32);
        }

        ref float tile = ref c;
        Vector512<float> alpha = Vector512.Create(store.Alpha), beta = Vector512.Create(store.Beta);
        bool readC = store.ReadC;
        GemmTileStore.Store(ref c, c00, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c01, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c10, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c11, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c20, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c21, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c30, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c31, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c40, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c41, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c50, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c51, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c60, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c61, alpha, beta, readC);
        c = ref Unsafe.Add(ref c, ldc);
        GemmTileStore.Store(ref c, c70, alpha, beta, readC);
        GemmTileStore.Store(ref Unsafe.Add(ref c, 16), c71, alpha, beta, readC);
        if (store.HasEpilogue)
        {
            store.FinishTile(ref tile, ldc, column, 8, 32);
        }
    }

    public static int ShortRows => Mr; // no short tile: RunShort is Run

    /// <summary>As <see cref="Run"/>, without the prefetch (not measured: this machine has no AVX-512).</summary>
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
        GemmPacking.CopyThenRun<GemmMicroKernel512>(kc, ref a, ref b, ldb, ref packedB, ref c, ldc, store, column);
}
