using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Optimizers.Kernels;

/// <summary>
/// The exponential moving average of a parameter, <c>θ̄ ← δ·θ̄ + (1 − δ)·θ</c>, in one pass (Polyak averaging
/// with exponential weights), and the swap that exchanges the average with the live values for evaluation.
/// </summary>
internal static class AveragingKernel
{
    /// <summary>Updates <paramref name="average"/> toward <paramref name="parameter"/> with decay <paramref name="decayFactor"/>
    /// (δ and 1 − δ both rounded from the caller's double, as PyTorch rounds each scalar).</summary>
    public static void Update(Span<float> average, ReadOnlySpan<float> parameter, float decayFactor, float oneMinusDecayFactor)
    {
        CheckLengths(average.Length, parameter.Length);
        ref float averages = ref MemoryMarshal.GetReference(average);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        int n = average.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> decay = Vector512.Create(decayFactor), oneMinusDecay = Vector512.Create(oneMinusDecayFactor);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> a = Vector512.LoadUnsafe(ref averages, (nuint)i) * decay + oneMinusDecay * Vector512.LoadUnsafe(ref ps, (nuint)i);
                a.StoreUnsafe(ref averages, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> decay = Vector256.Create(decayFactor), oneMinusDecay = Vector256.Create(oneMinusDecayFactor);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> a = Vector256.LoadUnsafe(ref averages, (nuint)i) * decay + oneMinusDecay * Vector256.LoadUnsafe(ref ps, (nuint)i);
                a.StoreUnsafe(ref averages, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> decay = Vector128.Create(decayFactor), oneMinusDecay = Vector128.Create(oneMinusDecayFactor);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> a = Vector128.LoadUnsafe(ref averages, (nuint)i) * decay + oneMinusDecay * Vector128.LoadUnsafe(ref ps, (nuint)i);
                a.StoreUnsafe(ref averages, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref averages, i) = Element(Unsafe.Add(ref averages, i), Unsafe.Add(ref ps, i), decayFactor, oneMinusDecayFactor);
        }
    }

    /// <summary>The scalar twin of <see cref="Update"/>.</summary>
    public static void UpdateScalar(Span<float> average, ReadOnlySpan<float> parameter, float decayFactor, float oneMinusDecayFactor)
    {
        CheckLengths(average.Length, parameter.Length);
        for (int i = 0; i < average.Length; i++)
        {
            average[i] = Element(average[i], parameter[i], decayFactor, oneMinusDecayFactor);
        }
    }

    /// <summary>Exchanges the contents of two spans of equal length (no temporary buffer: the average and the live values trade places).</summary>
    public static void Swap(Span<float> x, Span<float> y)
    {
        CheckLengths(x.Length, y.Length);
        for (int i = 0; i < x.Length; i++)
        {
            (x[i], y[i]) = (y[i], x[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Element(float average, float parameter, float decayFactor, float oneMinusDecayFactor) =>
        average * decayFactor + oneMinusDecayFactor * parameter;

    private static void CheckLengths(int a, int b)
    {
        if (a != b)
        {
            throw new ArgumentException($"AveragingKernel: spans of {a} and {b} elements, expected equal lengths.");
        }
    }
}
