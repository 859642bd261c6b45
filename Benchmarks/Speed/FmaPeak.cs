using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// This machine's single-precision FMA peak on one thread, measured rather than taken from a data sheet: twelve
/// independent chains of <c>x = x·m + a</c> over the widest accelerated vector.
/// </summary>
/// <remarks>
/// One chain is latency-bound: each FMA waits ~4 cycles for the last. A core with 2 FMA pipes needs at least
/// 2 × 4 = 8 chains in flight to issue two FMAs every cycle; twelve leave headroom and still fit in the 16
/// (AVX2) or 32 (AVX-512) vector registers. The chains live in a method without calls, so the JIT keeps them in
/// registers instead of spilling them around a call. Figures: FLOPs = 12 chains × lanes × 2 × iterations.
/// </remarks>
internal static class FmaPeak
{
    private const int Chains = 12;

    /// <summary>The vector width the peak was measured with, e.g. <c>Vector256</c>.</summary>
    public static string VectorName =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "Vector128";

    /// <summary>
    /// GFLOP/s of one thread: the best of <paramref name="runs"/> runs of about 20 ms each (the best, because on a
    /// shared machine a slower run is one that lost the core, not a property of it).
    /// </summary>
    public static double MeasurePerThread(int runs = 7)
    {
        int lanes = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        int iterations = 1 << 16;
        RunChains(iterations); // compile at full optimization and warm the core up
        // Grow the run until it takes ~20 ms, so the timer's resolution is immaterial.
        while (Time(iterations) < 0.02 && iterations < (1 << 28))
        {
            iterations *= 2;
        }
        double best = 0;
        for (int r = 0; r < runs; r++)
        {
            double seconds = Time(iterations);
            best = Math.Max(best, (double)Chains * lanes * 2 * iterations / seconds / 1e9);
        }
        return best;
    }

    private static double Time(int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        float sink = RunChains(iterations);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(sink);
        return seconds;
    }

    private static float RunChains(int iterations) =>
        Vector512.IsHardwareAccelerated ? Chains512(iterations)
        : Vector256.IsHardwareAccelerated ? Chains256(iterations)
        : Chains128(iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(int iterations)
    {
        Vector512<float> x0 = Vector512.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector512<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        Vector512<float> m = Vector512.Create(0.999999f), a = Vector512.Create(1e-7f);
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector512.FusedMultiplyAdd(x0, m, a);
            x1 = Vector512.FusedMultiplyAdd(x1, m, a);
            x2 = Vector512.FusedMultiplyAdd(x2, m, a);
            x3 = Vector512.FusedMultiplyAdd(x3, m, a);
            x4 = Vector512.FusedMultiplyAdd(x4, m, a);
            x5 = Vector512.FusedMultiplyAdd(x5, m, a);
            x6 = Vector512.FusedMultiplyAdd(x6, m, a);
            x7 = Vector512.FusedMultiplyAdd(x7, m, a);
            x8 = Vector512.FusedMultiplyAdd(x8, m, a);
            x9 = Vector512.FusedMultiplyAdd(x9, m, a);
            x10 = Vector512.FusedMultiplyAdd(x10, m, a);
            x11 = Vector512.FusedMultiplyAdd(x11, m, a);
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(int iterations)
    {
        Vector256<float> x0 = Vector256.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector256<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        Vector256<float> m = Vector256.Create(0.999999f), a = Vector256.Create(1e-7f);
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector256.FusedMultiplyAdd(x0, m, a);
            x1 = Vector256.FusedMultiplyAdd(x1, m, a);
            x2 = Vector256.FusedMultiplyAdd(x2, m, a);
            x3 = Vector256.FusedMultiplyAdd(x3, m, a);
            x4 = Vector256.FusedMultiplyAdd(x4, m, a);
            x5 = Vector256.FusedMultiplyAdd(x5, m, a);
            x6 = Vector256.FusedMultiplyAdd(x6, m, a);
            x7 = Vector256.FusedMultiplyAdd(x7, m, a);
            x8 = Vector256.FusedMultiplyAdd(x8, m, a);
            x9 = Vector256.FusedMultiplyAdd(x9, m, a);
            x10 = Vector256.FusedMultiplyAdd(x10, m, a);
            x11 = Vector256.FusedMultiplyAdd(x11, m, a);
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains128(int iterations)
    {
        Vector128<float> x0 = Vector128.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector128<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        Vector128<float> m = Vector128.Create(0.999999f), a = Vector128.Create(1e-7f);
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector128.FusedMultiplyAdd(x0, m, a);
            x1 = Vector128.FusedMultiplyAdd(x1, m, a);
            x2 = Vector128.FusedMultiplyAdd(x2, m, a);
            x3 = Vector128.FusedMultiplyAdd(x3, m, a);
            x4 = Vector128.FusedMultiplyAdd(x4, m, a);
            x5 = Vector128.FusedMultiplyAdd(x5, m, a);
            x6 = Vector128.FusedMultiplyAdd(x6, m, a);
            x7 = Vector128.FusedMultiplyAdd(x7, m, a);
            x8 = Vector128.FusedMultiplyAdd(x8, m, a);
            x9 = Vector128.FusedMultiplyAdd(x9, m, a);
            x10 = Vector128.FusedMultiplyAdd(x10, m, a);
            x11 = Vector128.FusedMultiplyAdd(x11, m, a);
        }
        return (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11).GetElement(0);
    }
}
