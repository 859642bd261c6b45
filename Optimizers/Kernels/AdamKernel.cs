using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Optimizers.Kernels;

/// <summary>
/// One Adam or AdamW update of one parameter, fused into a single pass: each element of the parameter, the
/// gradient and the moments is read once and written once (with AMSGrad, the running maximum too).
/// </summary>
/// <remarks>
/// <para>The rule, as in PyTorch's algorithm box for <c>torch.optim.Adam</c> / <c>AdamW</c> (t = the step, from 1):</para>
/// <code>
/// g  ← g + λ·θ                         (Adam's L2 weight decay; λ = 0 for AdamW)
/// θ  ← θ·(1 − γ·λ_w)                   (AdamW's decoupled decay; factor 1 for Adam)
/// m  ← β1·m + (1 − β1)·g
/// v  ← β2·v + (1 − β2)·g²
/// v̂max ← max(v̂max, v)                  (AMSGrad only; then v̂max replaces v below)
/// θ  ← θ − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// </code>
/// <para>
/// The float operations are PyTorch's, in PyTorch's order (<c>m.mul_(β1).add_(g, alpha=1−β1)</c>,
/// <c>v.mul_(β2).addcmul_(g, g, value=1−β2)</c>, <c>denom = v.sqrt() / √bc2 + ε</c>,
/// <c>θ.addcdiv_(m, denom, value=−step)</c>), so the trajectories match <c>torch.optim</c>.
/// PyTorch's CPU kernels compute <c>add_(x, alpha=a)</c> and <c>addcmul_</c> with a fused multiply-add (one rounding),
/// and so do these (<c>FusedMultiplyAdd</c>), in the vector paths and the scalar twin alike, so the two agree bit for
/// bit; <c>addcdiv_</c> and the division by √bc2 are rounded separately, as there.
/// </para>
/// </remarks>
internal static class AdamKernel
{
    /// <summary>The per-step constants, computed in double like PyTorch's Python code, each rounded once to float.</summary>
    internal readonly struct Coefficients
    {
        /// <summary>The constants of step <paramref name="step"/> (≥ 1) of one parameter.</summary>
        public Coefficients(double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool decoupledWeightDecay, long step)
        {
            double biasCorrection1 = 1 - Math.Pow(beta1, step);
            double biasCorrection2 = 1 - Math.Pow(beta2, step);
            L2 = decoupledWeightDecay ? 0f : (float)weightDecay;
            Decay = decoupledWeightDecay ? (float)(1 - learningRate * weightDecay) : 1f;
            Beta1 = (float)beta1;
            OneMinusBeta1 = (float)(1 - beta1);
            Beta2 = (float)beta2;
            OneMinusBeta2 = (float)(1 - beta2);
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
            Epsilon = (float)epsilon;
            NegativeStepSize = (float)-(learningRate / biasCorrection1);
        }

        public float L2 { get; }

        public float Decay { get; }

        public float Beta1 { get; }

        public float OneMinusBeta1 { get; }

        public float Beta2 { get; }

        public float OneMinusBeta2 { get; }

        public float BiasCorrection2Sqrt { get; }

        public float Epsilon { get; }

        public float NegativeStepSize { get; }
    }

    /// <summary>
    /// Updates <paramref name="parameter"/>, <paramref name="expAvg"/> (m), <paramref name="expAvgSq"/> (v) and, when
    /// <paramref name="amsGrad"/>, <paramref name="maxExpAvgSq"/> in place. All spans have the parameter's length
    /// (<paramref name="maxExpAvgSq"/> may be empty without AMSGrad).
    /// </summary>
    public static void Step(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expAvgSq, Span<float> maxExpAvgSq,
        bool amsGrad, in Coefficients c)
    {
        CheckLengths(parameter, gradient, expAvg, expAvgSq, maxExpAvgSq, amsGrad);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        ref float gs = ref MemoryMarshal.GetReference(gradient);
        ref float ms = ref MemoryMarshal.GetReference(expAvg);
        ref float vs = ref MemoryMarshal.GetReference(expAvgSq);
        ref float maxs = ref MemoryMarshal.GetReference(maxExpAvgSq);
        int n = parameter.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> l2 = Vector512.Create(c.L2), decay = Vector512.Create(c.Decay);
            Vector512<float> beta1 = Vector512.Create(c.Beta1), oneMinusBeta1 = Vector512.Create(c.OneMinusBeta1);
            Vector512<float> beta2 = Vector512.Create(c.Beta2), oneMinusBeta2 = Vector512.Create(c.OneMinusBeta2);
            Vector512<float> biasCorrection2Sqrt = Vector512.Create(c.BiasCorrection2Sqrt), epsilon = Vector512.Create(c.Epsilon);
            Vector512<float> negativeStepSize = Vector512.Create(c.NegativeStepSize);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> p = Vector512.LoadUnsafe(ref ps, (nuint)i);
                Vector512<float> g = Vector512.FusedMultiplyAdd(l2, p, Vector512.LoadUnsafe(ref gs, (nuint)i));
                Vector512<float> m = Vector512.FusedMultiplyAdd(oneMinusBeta1, g, Vector512.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector512<float> v = Vector512.FusedMultiplyAdd(oneMinusBeta2 * g, g, Vector512.LoadUnsafe(ref vs, (nuint)i) * beta2);
                Vector512<float> second = v;
                if (amsGrad)
                {
                    second = Vector512.Max(Vector512.LoadUnsafe(ref maxs, (nuint)i), v);
                    second.StoreUnsafe(ref maxs, (nuint)i);
                }
                Vector512<float> denominator = Vector512.Sqrt(second) / biasCorrection2Sqrt + epsilon;
                (p * decay + negativeStepSize * m / denominator).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                v.StoreUnsafe(ref vs, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> l2 = Vector256.Create(c.L2), decay = Vector256.Create(c.Decay);
            Vector256<float> beta1 = Vector256.Create(c.Beta1), oneMinusBeta1 = Vector256.Create(c.OneMinusBeta1);
            Vector256<float> beta2 = Vector256.Create(c.Beta2), oneMinusBeta2 = Vector256.Create(c.OneMinusBeta2);
            Vector256<float> biasCorrection2Sqrt = Vector256.Create(c.BiasCorrection2Sqrt), epsilon = Vector256.Create(c.Epsilon);
            Vector256<float> negativeStepSize = Vector256.Create(c.NegativeStepSize);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> p = Vector256.LoadUnsafe(ref ps, (nuint)i);
                Vector256<float> g = Vector256.FusedMultiplyAdd(l2, p, Vector256.LoadUnsafe(ref gs, (nuint)i));
                Vector256<float> m = Vector256.FusedMultiplyAdd(oneMinusBeta1, g, Vector256.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector256<float> v = Vector256.FusedMultiplyAdd(oneMinusBeta2 * g, g, Vector256.LoadUnsafe(ref vs, (nuint)i) * beta2);
                Vector256<float> second = v;
                if (amsGrad)
                {
                    second = Vector256.Max(Vector256.LoadUnsafe(ref maxs, (nuint)i), v);
                    second.StoreUnsafe(ref maxs, (nuint)i);
                }
                Vector256<float> denominator = Vector256.Sqrt(second) / biasCorrection2Sqrt + epsilon;
                (p * decay + negativeStepSize * m / denominator).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                v.StoreUnsafe(ref vs, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> l2 = Vector128.Create(c.L2), decay = Vector128.Create(c.Decay);
            Vector128<float> beta1 = Vector128.Create(c.Beta1), oneMinusBeta1 = Vector128.Create(c.OneMinusBeta1);
            Vector128<float> beta2 = Vector128.Create(c.Beta2), oneMinusBeta2 = Vector128.Create(c.OneMinusBeta2);
            Vector128<float> biasCorrection2Sqrt = Vector128.Create(c.BiasCorrection2Sqrt), epsilon = Vector128.Create(c.Epsilon);
            Vector128<float> negativeStepSize = Vector128.Create(c.NegativeStepSize);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> p = Vector128.LoadUnsafe(ref ps, (nuint)i);
                Vector128<float> g = Vector128.FusedMultiplyAdd(l2, p, Vector128.LoadUnsafe(ref gs, (nuint)i));
                Vector128<float> m = Vector128.FusedMultiplyAdd(oneMinusBeta1, g, Vector128.LoadUnsafe(ref ms, (nuint)i) * beta1);
                Vector128<float> v = Vector128.FusedMultiplyAdd(oneMinusBeta2 * g, g, Vector128.LoadUnsafe(ref vs, (nuint)i) * beta2);
                Vector128<float> second = v;
                if (amsGrad)
                {
                    second = Vector128.Max(Vector128.LoadUnsafe(ref maxs, (nuint)i), v);
                    second.StoreUnsafe(ref maxs, (nuint)i);
                }
                Vector128<float> denominator = Vector128.Sqrt(second) / biasCorrection2Sqrt + epsilon;
                (p * decay + negativeStepSize * m / denominator).StoreUnsafe(ref ps, (nuint)i);
                m.StoreUnsafe(ref ms, (nuint)i);
                v.StoreUnsafe(ref vs, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Element(ref Unsafe.Add(ref ps, i), Unsafe.Add(ref gs, i), ref Unsafe.Add(ref ms, i), ref Unsafe.Add(ref vs, i),
                ref amsGrad ? ref Unsafe.Add(ref maxs, i) : ref Unsafe.NullRef<float>(), amsGrad, c);
        }
    }

    /// <summary>The scalar twin of <see cref="Step"/>: the same rule one element at a time (the reference the tests compare with).</summary>
    public static void StepScalar(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expAvgSq, Span<float> maxExpAvgSq,
        bool amsGrad, in Coefficients c)
    {
        CheckLengths(parameter, gradient, expAvg, expAvgSq, maxExpAvgSq, amsGrad);
        for (int i = 0; i < parameter.Length; i++)
        {
            Element(ref parameter[i], gradient[i], ref expAvg[i], ref expAvgSq[i], ref amsGrad ? ref maxExpAvgSq[i] : ref Unsafe.NullRef<float>(), amsGrad, c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Element(ref float p, float g, ref float m, ref float v, ref float vMax, bool amsGrad, in Coefficients c)
    {
        g = MathF.FusedMultiplyAdd(c.L2, p, g);
        m = MathF.FusedMultiplyAdd(c.OneMinusBeta1, g, m * c.Beta1);
        v = MathF.FusedMultiplyAdd(c.OneMinusBeta2 * g, g, v * c.Beta2);
        float second = v;
        if (amsGrad)
        {
            vMax = MathF.Max(vMax, v);
            second = vMax;
        }
        float denominator = MathF.Sqrt(second) / c.BiasCorrection2Sqrt + c.Epsilon;
        p = p * c.Decay + c.NegativeStepSize * m / denominator;
    }

    private static void CheckLengths(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> expAvg, Span<float> expAvgSq, Span<float> maxExpAvgSq, bool amsGrad)
    {
        int n = parameter.Length;
        if (gradient.Length != n || expAvg.Length != n || expAvgSq.Length != n || (amsGrad && maxExpAvgSq.Length != n))
        {
            throw new ArgumentException(
                $"AdamKernel: parameter {n}, gradient {gradient.Length}, exp_avg {expAvg.Length}, exp_avg_sq {expAvgSq.Length}, max_exp_avg_sq {maxExpAvgSq.Length} elements; expected equal lengths.");
        }
    }
}
