using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Optimizers.Kernels;

/// <summary>
/// One Adamax update of one parameter (Adam with the infinity norm), fused into a single pass over the parameter,
/// the gradient, the first moment and the infinity-norm average.
/// </summary>
/// <remarks>
/// <para>The rule, as in PyTorch's algorithm box for <c>torch.optim.Adamax</c>:</para>
/// <code>
/// g ← g + λ·θ
/// m ← β1·m + (1 − β1)·g
/// u ← max(β2·u, |g| + ε)
/// θ ← θ − (γ / (1 − β1ᵗ)) · m / u
/// </code>
/// <para>PyTorch adds ε inside the max (not to the denominator), which keeps <c>u</c> positive from the first step.</para>
/// </remarks>
internal static class AdamaxKernel
{
    /// <summary>The per-step constants, computed in double and rounded once to float.</summary>
    internal readonly struct Coefficients
    {
        /// <summary>The constants of step <paramref name="step"/> (≥ 1) of one parameter.</summary>
        public Coefficients(double learningRate, double beta1, double beta2, double epsilon, double weightDecay, long step)
        {
            WeightDecay = (float)weightDecay;
            Beta1 = (float)beta1;
            OneMinusBeta1 = (float)(1 - beta1);
            Beta2 = (float)beta2;
            Epsilon = (float)epsilon;
            NegativeStepSize = (float)-(learningRate / (1 - Math.Pow(beta1, step)));
        }

        public float WeightDecay { get; }

        public float Beta1 { get; }

        public float OneMinusBeta1 { get; }

        public float Beta2 { get; }

        public float Epsilon { get; }

        public float NegativeStepSize { get; }
    }

    /// <summary>Updates <paramref name="parameter"/>, <paramref name="expAvg"/> (m) and <paramref name="expInf"/> (u) in place.</summary>
    public static void Step(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expInf, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, expAvg.Length, expInf.Length);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        ref float gs = ref MemoryMarshal.GetReference(gradient);
        ref float ms = ref MemoryMarshal.GetReference(expAvg);
        ref float us = ref MemoryMarshal.GetReference(expInf);
        int n = parameter.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> weightDecay = Vector512.Create(c.WeightDecay), epsilon = Vector512.Create(c.Epsilon);
            Vector512<float> beta1 = Vector512.Create(c.Beta1), oneMinusBeta1 = Vector512.Create(c.OneMinusBeta1);
            Vector512<float> beta2 = Vector512.Create(c.Beta2), negativeStepSize = Vector512.Create(c.NegativeStepSize);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> p = Vector512.LoadUnsafe(ref ps, (nuint)i);
                Vector512<float> g = Vector512.FusedMultiplyAdd(weightDecay, p, Vector512.LoadUnsafe(ref gs, (nuint)i));
                Vector512<float> m = Vector512.FusedMultiplyAdd(oneMinusBeta1, g, Vector512.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector512<float> u = Vector512.Max(Vector512.LoadUnsafe(ref us, (nuint)i) * beta2, Vector512.Abs(g) + epsilon);
                (p + negativeStepSize * m / u).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                u.StoreUnsafe(ref us, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> weightDecay = Vector256.Create(c.WeightDecay), epsilon = Vector256.Create(c.Epsilon);
            Vector256<float> beta1 = Vector256.Create(c.Beta1), oneMinusBeta1 = Vector256.Create(c.OneMinusBeta1);
            Vector256<float> beta2 = Vector256.Create(c.Beta2), negativeStepSize = Vector256.Create(c.NegativeStepSize);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> p = Vector256.LoadUnsafe(ref ps, (nuint)i);
                Vector256<float> g = Vector256.FusedMultiplyAdd(weightDecay, p, Vector256.LoadUnsafe(ref gs, (nuint)i));
                Vector256<float> m = Vector256.FusedMultiplyAdd(oneMinusBeta1, g, Vector256.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector256<float> u = Vector256.Max(Vector256.LoadUnsafe(ref us, (nuint)i) * beta2, Vector256.Abs(g) + epsilon);
                (p + negativeStepSize * m / u).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                u.StoreUnsafe(ref us, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> weightDecay = Vector128.Create(c.WeightDecay), epsilon = Vector128.Create(c.Epsilon);
            Vector128<float> beta1 = Vector128.Create(c.Beta1), oneMinusBeta1 = Vector128.Create(c.OneMinusBeta1);
            Vector128<float> beta2 = Vector128.Create(c.Beta2), negativeStepSize = Vector128.Create(c.NegativeStepSize);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> p = Vector128.LoadUnsafe(ref ps, (nuint)i);
                Vector128<float> g = Vector128.FusedMultiplyAdd(weightDecay, p, Vector128.LoadUnsafe(ref gs, (nuint)i));
                Vector128<float> m = Vector128.FusedMultiplyAdd(oneMinusBeta1, g, Vector128.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector128<float> u = Vector128.Max(Vector128.LoadUnsafe(ref us, (nuint)i) * beta2, Vector128.Abs(g) + epsilon);
                (p + negativeStepSize * m / u).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                u.StoreUnsafe(ref us, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Element(ref Unsafe.Add(ref ps, i), Unsafe.Add(ref gs, i), ref Unsafe.Add(ref ms, i), ref Unsafe.Add(ref us, i), c);
        }
    }

    /// <summary>The scalar twin of <see cref="Step"/>.</summary>
    public static void StepScalar(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expInf, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, expAvg.Length, expInf.Length);
        for (int i = 0; i < parameter.Length; i++)
        {
            Element(ref parameter[i], gradient[i], ref expAvg[i], ref expInf[i], c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Element(ref float p, float g, ref float m, ref float u, in Coefficients c)
    {
        g = MathF.FusedMultiplyAdd(c.WeightDecay, p, g);
        m = MathF.FusedMultiplyAdd(c.OneMinusBeta1, g, m * c.Beta1);
        u = MathF.Max(u * c.Beta2, MathF.Abs(g) + c.Epsilon);
        p += c.NegativeStepSize * m / u;
    }

    private static void CheckLengths(int parameter, int gradient, int expAvg, int expInf)
    {
        if (gradient != parameter || expAvg != parameter || expInf != parameter)
        {
            throw new ArgumentException(
                $"AdamaxKernel: parameter {parameter}, gradient {gradient}, exp_avg {expAvg}, exp_inf {expInf} elements; expected equal lengths.");
        }
    }
}
