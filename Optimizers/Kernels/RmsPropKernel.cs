using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Optimizers.Kernels;

/// <summary>
/// One RMSprop update of one parameter, fused into a single pass over the parameter, the gradient, the squared
/// average and, when used, the gradient average (centered) and the momentum buffer.
/// </summary>
/// <remarks>
/// <para>The rule, as in PyTorch's algorithm box for <c>torch.optim.RMSprop</c> (α smoothing, μ momentum):</para>
/// <code>
/// g ← g + λ·θ
/// s ← α·s + (1 − α)·g²
/// ḡ ← α·ḡ + (1 − α)·g,   s̃ ← s − ḡ²     (centered; else s̃ = s)
/// b ← μ·b + g / (√s̃ + ε),  θ ← θ − γ·b   (μ &gt; 0)
/// θ ← θ − γ·g / (√s̃ + ε)                (μ = 0)
/// </code>
/// <para>
/// The flags are the same for every element, so their branches inside the loop are perfectly predicted; the spans
/// of an unused buffer are never touched and may be empty.
/// </para>
/// </remarks>
internal static class RmsPropKernel
{
    /// <summary>The per-step constants, rounded once to float.</summary>
    internal readonly struct Coefficients
    {
        /// <summary>The constants of one step.</summary>
        public Coefficients(double learningRate, double alpha, double epsilon, double weightDecay, double momentum, bool centered)
        {
            NegativeLearningRate = (float)-learningRate;
            Alpha = (float)alpha;
            OneMinusAlpha = (float)(1 - alpha);
            Epsilon = (float)epsilon;
            WeightDecay = (float)weightDecay;
            Momentum = (float)momentum;
            UseMomentum = momentum > 0;
            Centered = centered;
        }

        public float NegativeLearningRate { get; }

        public float Alpha { get; }

        public float OneMinusAlpha { get; }

        public float Epsilon { get; }

        public float WeightDecay { get; }

        public float Momentum { get; }

        public bool UseMomentum { get; }

        public bool Centered { get; }
    }

    /// <summary>
    /// Updates <paramref name="parameter"/>, <paramref name="squareAvg"/> and, when used, <paramref name="gradAvg"/>
    /// (centered) and <paramref name="momentumBuffer"/> (momentum &gt; 0) in place.
    /// </summary>
    public static void Step(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> squareAvg, Span<float> gradAvg, Span<float> momentumBuffer, in Coefficients c)
    {
        CheckLengths(parameter, gradient, squareAvg, gradAvg, momentumBuffer, c);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        ref float gs = ref MemoryMarshal.GetReference(gradient);
        ref float squares = ref MemoryMarshal.GetReference(squareAvg);
        ref float means = ref MemoryMarshal.GetReference(gradAvg);
        ref float bs = ref MemoryMarshal.GetReference(momentumBuffer);
        int n = parameter.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> weightDecay = Vector512.Create(c.WeightDecay), epsilon = Vector512.Create(c.Epsilon);
            Vector512<float> alpha = Vector512.Create(c.Alpha), oneMinusAlpha = Vector512.Create(c.OneMinusAlpha);
            Vector512<float> momentum = Vector512.Create(c.Momentum), negativeLearningRate = Vector512.Create(c.NegativeLearningRate);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> p = Vector512.LoadUnsafe(ref ps, (nuint)i);
                Vector512<float> g = Vector512.FusedMultiplyAdd(weightDecay, p, Vector512.LoadUnsafe(ref gs, (nuint)i));
                Vector512<float> square = Vector512.FusedMultiplyAdd(oneMinusAlpha * g, g, Vector512.LoadUnsafe(ref squares, (nuint)i) * alpha);
                square.StoreUnsafe(ref squares, (nuint)i);
                Vector512<float> variance = square;
                if (c.Centered)
                {
                    Vector512<float> mean = Vector512.FusedMultiplyAdd(oneMinusAlpha, g, Vector512.LoadUnsafe(ref means, (nuint)i) * alpha);
                    mean.StoreUnsafe(ref means, (nuint)i);
                    variance = Vector512.FusedMultiplyAdd(-mean, mean, square);
                }
                Vector512<float> denominator = Vector512.Sqrt(variance) + epsilon;
                if (c.UseMomentum)
                {
                    Vector512<float> b = Vector512.LoadUnsafe(ref bs, (nuint)i) * momentum + g / denominator;
                    b.StoreUnsafe(ref bs, (nuint)i);
                    Vector512.FusedMultiplyAdd(negativeLearningRate, b, p).StoreUnsafe(ref ps, (nuint)i);
                }
                else
                {
                    (p + negativeLearningRate * g / denominator).StoreUnsafe(ref ps, (nuint)i);
                }
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> weightDecay = Vector256.Create(c.WeightDecay), epsilon = Vector256.Create(c.Epsilon);
            Vector256<float> alpha = Vector256.Create(c.Alpha), oneMinusAlpha = Vector256.Create(c.OneMinusAlpha);
            Vector256<float> momentum = Vector256.Create(c.Momentum), negativeLearningRate = Vector256.Create(c.NegativeLearningRate);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> p = Vector256.LoadUnsafe(ref ps, (nuint)i);
                Vector256<float> g = Vector256.FusedMultiplyAdd(weightDecay, p, Vector256.LoadUnsafe(ref gs, (nuint)i));
                Vector256<float> square = Vector256.FusedMultiplyAdd(oneMinusAlpha * g, g, Vector256.LoadUnsafe(ref squares, (nuint)i) * alpha);
                square.StoreUnsafe(ref squares, (nuint)i);
                Vector256<float> variance = square;
                if (c.Centered)
                {
                    Vector256<float> mean = Vector256.FusedMultiplyAdd(oneMinusAlpha, g, Vector256.LoadUnsafe(ref means, (nuint)i) * alpha);
                    mean.StoreUnsafe(ref means, (nuint)i);
                    variance = Vector256.FusedMultiplyAdd(-mean, mean, square);
                }
                Vector256<float> denominator = Vector256.Sqrt(variance) + epsilon;
                if (c.UseMomentum)
                {
                    Vector256<float> b = Vector256.LoadUnsafe(ref bs, (nuint)i) * momentum + g / denominator;
                    b.StoreUnsafe(ref bs, (nuint)i);
                    Vector256.FusedMultiplyAdd(negativeLearningRate, b, p).StoreUnsafe(ref ps, (nuint)i);
                }
                else
                {
                    (p + negativeLearningRate * g / denominator).StoreUnsafe(ref ps, (nuint)i);
                }
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> weightDecay = Vector128.Create(c.WeightDecay), epsilon = Vector128.Create(c.Epsilon);
            Vector128<float> alpha = Vector128.Create(c.Alpha), oneMinusAlpha = Vector128.Create(c.OneMinusAlpha);
            Vector128<float> momentum = Vector128.Create(c.Momentum), negativeLearningRate = Vector128.Create(c.NegativeLearningRate);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> p = Vector128.LoadUnsafe(ref ps, (nuint)i);
                Vector128<float> g = Vector128.FusedMultiplyAdd(weightDecay, p, Vector128.LoadUnsafe(ref gs, (nuint)i));
                Vector128<float> square = Vector128.FusedMultiplyAdd(oneMinusAlpha * g, g, Vector128.LoadUnsafe(ref squares, (nuint)i) * alpha);
                square.StoreUnsafe(ref squares, (nuint)i);
                Vector128<float> variance = square;
                if (c.Centered)
                {
                    Vector128<float> mean = Vector128.FusedMultiplyAdd(oneMinusAlpha, g, Vector128.LoadUnsafe(ref means, (nuint)i) * alpha);
                    mean.StoreUnsafe(ref means, (nuint)i);
                    variance = Vector128.FusedMultiplyAdd(-mean, mean, square);
                }
                Vector128<float> denominator = Vector128.Sqrt(variance) + epsilon;
                if (c.UseMomentum)
                {
                    Vector128<float> b = Vector128.LoadUnsafe(ref bs, (nuint)i) * momentum + g / denominator;
                    b.StoreUnsafe(ref bs, (nuint)i);
                    Vector128.FusedMultiplyAdd(negativeLearningRate, b, p).StoreUnsafe(ref ps, (nuint)i);
                }
                else
                {
                    (p + negativeLearningRate * g / denominator).StoreUnsafe(ref ps, (nuint)i);
                }
            }
        }
        for (; i < n; i++)
        {
            Element(
                ref Unsafe.Add(ref ps, i), Unsafe.Add(ref gs, i), ref Unsafe.Add(ref squares, i),
                ref c.Centered ? ref Unsafe.Add(ref means, i) : ref Unsafe.NullRef<float>(),
                ref c.UseMomentum ? ref Unsafe.Add(ref bs, i) : ref Unsafe.NullRef<float>(), c);
        }
    }

    /// <summary>The scalar twin of <see cref="Step"/>.</summary>
    public static void StepScalar(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> squareAvg, Span<float> gradAvg, Span<float> momentumBuffer, in Coefficients c)
    {
        CheckLengths(parameter, gradient, squareAvg, gradAvg, momentumBuffer, c);
        for (int i = 0; i < parameter.Length; i++)
        {
            Element(
                ref parameter[i], gradient[i], ref squareAvg[i],
                ref c.Centered ? ref gradAvg[i] : ref Unsafe.NullRef<float>(),
                ref c.UseMomentum ? ref momentumBuffer[i] : ref Unsafe.NullRef<float>(), c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Element(ref float p, float g, ref float square, ref float mean, ref float b, in Coefficients c)
    {
        g = MathF.FusedMultiplyAdd(c.WeightDecay, p, g);
        square = MathF.FusedMultiplyAdd(c.OneMinusAlpha * g, g, square * c.Alpha);
        float variance = square;
        if (c.Centered)
        {
            mean = MathF.FusedMultiplyAdd(c.OneMinusAlpha, g, mean * c.Alpha);
            variance = MathF.FusedMultiplyAdd(-mean, mean, square);
        }
        float denominator = MathF.Sqrt(variance) + c.Epsilon;
        if (c.UseMomentum)
        {
            b = b * c.Momentum + g / denominator;
            p = MathF.FusedMultiplyAdd(c.NegativeLearningRate, b, p);
        }
        else
        {
            p += c.NegativeLearningRate * g / denominator;
        }
    }

    private static void CheckLengths(
        Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> squareAvg, Span<float> gradAvg, Span<float> momentumBuffer, in Coefficients c)
    {
        int n = parameter.Length;
        if (gradient.Length != n || squareAvg.Length != n || (c.Centered && gradAvg.Length != n) || (c.UseMomentum && momentumBuffer.Length != n))
        {
            throw new ArgumentException(
                $"RmsPropKernel: parameter {n}, gradient {gradient.Length}, square_avg {squareAvg.Length}, grad_avg {gradAvg.Length}, momentum_buffer {momentumBuffer.Length} elements; expected equal lengths for the buffers in use.");
        }
    }
}
