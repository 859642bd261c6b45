using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Optimizers.Kernels;

/// <summary>
/// One SGD update of one parameter, fused into a single pass over the parameter, the gradient and (with momentum)
/// the momentum buffer.
/// </summary>
/// <remarks>
/// <para>The rule, as in PyTorch's algorithm box for <c>torch.optim.SGD</c> (μ momentum, τ dampening, λ weight decay):</para>
/// <code>
/// d ← g + λ·θ
/// b ← d                       at the buffer's first step
/// b ← μ·b + (1 − τ)·d         after
/// d ← d + μ·b  (Nesterov)  or  d ← b
/// θ ← θ − γ·d
/// </code>
/// <para>
/// The first step is the general one with a zero buffer, a buffer decay of 0 and a gradient scale of 1
/// (<c>0·0 + 1·d = d</c>), so one loop serves both. Float operations follow PyTorch's, including its fused
/// multiply-adds (<c>add_(x, alpha=a)</c> rounds once), in the vector paths and the scalar twin alike.
/// </para>
/// </remarks>
internal static class SgdKernel
{
    /// <summary>The per-step constants, rounded once from the double hyperparameters (as PyTorch does for a tensor op's scalar).</summary>
    internal readonly struct Coefficients
    {
        /// <summary>The constants of one step; <paramref name="firstStep"/> when the buffer was just created (zero).</summary>
        public Coefficients(double learningRate, double momentum, double dampening, double weightDecay, bool nesterov, bool firstStep)
        {
            NegativeLearningRate = (float)-learningRate;
            WeightDecay = (float)weightDecay;
            Momentum = (float)momentum;
            BufferDecay = firstStep ? 0f : (float)momentum;
            GradientScale = firstStep ? 1f : (float)(1 - dampening);
            Nesterov = nesterov;
        }

        public float NegativeLearningRate { get; }

        public float WeightDecay { get; }

        public float Momentum { get; }

        public float BufferDecay { get; }

        public float GradientScale { get; }

        public bool Nesterov { get; }
    }

    /// <summary>Updates <paramref name="parameter"/> and <paramref name="momentumBuffer"/> in place (all spans the same length).</summary>
    public static void Step(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> momentumBuffer, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, momentumBuffer.Length);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        ref float gs = ref MemoryMarshal.GetReference(gradient);
        ref float bs = ref MemoryMarshal.GetReference(momentumBuffer);
        int n = parameter.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> weightDecay = Vector512.Create(c.WeightDecay), negativeLearningRate = Vector512.Create(c.NegativeLearningRate);
            Vector512<float> bufferDecay = Vector512.Create(c.BufferDecay), gradientScale = Vector512.Create(c.GradientScale);
            Vector512<float> momentum = Vector512.Create(c.Momentum);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> p = Vector512.LoadUnsafe(ref ps, (nuint)i);
                Vector512<float> d = Vector512.FusedMultiplyAdd(weightDecay, p, Vector512.LoadUnsafe(ref gs, (nuint)i));
                Vector512<float> b = Vector512.FusedMultiplyAdd(gradientScale, d, Vector512.LoadUnsafe(ref bs, (nuint)i) * bufferDecay);
                Vector512<float> direction = c.Nesterov ? Vector512.FusedMultiplyAdd(momentum, b, d) : b;
                Vector512.FusedMultiplyAdd(negativeLearningRate, direction, p).StoreUnsafe(ref ps, (nuint)i);
                b.StoreUnsafe(ref bs, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> weightDecay = Vector256.Create(c.WeightDecay), negativeLearningRate = Vector256.Create(c.NegativeLearningRate);
            Vector256<float> bufferDecay = Vector256.Create(c.BufferDecay), gradientScale = Vector256.Create(c.GradientScale);
            Vector256<float> momentum = Vector256.Create(c.Momentum);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> p = Vector256.LoadUnsafe(ref ps, (nuint)i);
                Vector256<float> d = Vector256.FusedMultiplyAdd(weightDecay, p, Vector256.LoadUnsafe(ref gs, (nuint)i));
                Vector256<float> b = Vector256.FusedMultiplyAdd(gradientScale, d, Vector256.LoadUnsafe(ref bs, (nuint)i) * bufferDecay);
                Vector256<float> direction = c.Nesterov ? Vector256.FusedMultiplyAdd(momentum, b, d) : b;
                Vector256.FusedMultiplyAdd(negativeLearningRate, direction, p).StoreUnsafe(ref ps, (nuint)i);
                b.StoreUnsafe(ref bs, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> weightDecay = Vector128.Create(c.WeightDecay), negativeLearningRate = Vector128.Create(c.NegativeLearningRate);
            Vector128<float> bufferDecay = Vector128.Create(c.BufferDecay), gradientScale = Vector128.Create(c.GradientScale);
            Vector128<float> momentum = Vector128.Create(c.Momentum);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> p = Vector128.LoadUnsafe(ref ps, (nuint)i);
                Vector128<float> d = Vector128.FusedMultiplyAdd(weightDecay, p, Vector128.LoadUnsafe(ref gs, (nuint)i));
                Vector128<float> b = Vector128.FusedMultiplyAdd(gradientScale, d, Vector128.LoadUnsafe(ref bs, (nuint)i) * bufferDecay);
                Vector128<float> direction = c.Nesterov ? Vector128.FusedMultiplyAdd(momentum, b, d) : b;
                Vector128.FusedMultiplyAdd(negativeLearningRate, direction, p).StoreUnsafe(ref ps, (nuint)i);
                b.StoreUnsafe(ref bs, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Element(ref Unsafe.Add(ref ps, i), Unsafe.Add(ref gs, i), ref Unsafe.Add(ref bs, i), c);
        }
    }

    /// <summary>The update without momentum (<c>θ ← θ − γ·(g + λ·θ)</c>): no buffer to read or write.</summary>
    public static void StepWithoutMomentum(Span<float> parameter, ReadOnlySpan<float> gradient, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, parameter.Length);
        ref float ps = ref MemoryMarshal.GetReference(parameter);
        ref float gs = ref MemoryMarshal.GetReference(gradient);
        int n = parameter.Length;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> weightDecay = Vector512.Create(c.WeightDecay), negativeLearningRate = Vector512.Create(c.NegativeLearningRate);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> p = Vector512.LoadUnsafe(ref ps, (nuint)i);
                Vector512<float> d = Vector512.FusedMultiplyAdd(weightDecay, p, Vector512.LoadUnsafe(ref gs, (nuint)i));
                Vector512.FusedMultiplyAdd(negativeLearningRate, d, p).StoreUnsafe(ref ps, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> weightDecay = Vector256.Create(c.WeightDecay), negativeLearningRate = Vector256.Create(c.NegativeLearningRate);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> p = Vector256.LoadUnsafe(ref ps, (nuint)i);
                Vector256<float> d = Vector256.FusedMultiplyAdd(weightDecay, p, Vector256.LoadUnsafe(ref gs, (nuint)i));
                Vector256.FusedMultiplyAdd(negativeLearningRate, d, p).StoreUnsafe(ref ps, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> weightDecay = Vector128.Create(c.WeightDecay), negativeLearningRate = Vector128.Create(c.NegativeLearningRate);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> p = Vector128.LoadUnsafe(ref ps, (nuint)i);
                Vector128<float> d = Vector128.FusedMultiplyAdd(weightDecay, p, Vector128.LoadUnsafe(ref gs, (nuint)i));
                Vector128.FusedMultiplyAdd(negativeLearningRate, d, p).StoreUnsafe(ref ps, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            ElementWithoutMomentum(ref Unsafe.Add(ref ps, i), Unsafe.Add(ref gs, i), c);
        }
    }

    /// <summary>The scalar twin of <see cref="Step"/>.</summary>
    public static void StepScalar(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> momentumBuffer, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, momentumBuffer.Length);
        for (int i = 0; i < parameter.Length; i++)
        {
            Element(ref parameter[i], gradient[i], ref momentumBuffer[i], c);
        }
    }

    /// <summary>The scalar twin of <see cref="StepWithoutMomentum"/>.</summary>
    public static void StepWithoutMomentumScalar(Span<float> parameter, ReadOnlySpan<float> gradient, in Coefficients c)
    {
        CheckLengths(parameter.Length, gradient.Length, parameter.Length);
        for (int i = 0; i < parameter.Length; i++)
        {
            ElementWithoutMomentum(ref parameter[i], gradient[i], c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Element(ref float p, float g, ref float b, in Coefficients c)
    {
        float d = MathF.FusedMultiplyAdd(c.WeightDecay, p, g);
        b = MathF.FusedMultiplyAdd(c.GradientScale, d, b * c.BufferDecay);
        float direction = c.Nesterov ? MathF.FusedMultiplyAdd(c.Momentum, b, d) : b;
        p = MathF.FusedMultiplyAdd(c.NegativeLearningRate, direction, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ElementWithoutMomentum(ref float p, float g, in Coefficients c)
    {
        float d = MathF.FusedMultiplyAdd(c.WeightDecay, p, g);
        p = MathF.FusedMultiplyAdd(c.NegativeLearningRate, d, p);
    }

    private static void CheckLengths(int parameter, int gradient, int buffer)
    {
        if (gradient != parameter || buffer != parameter)
        {
            throw new ArgumentException($"SgdKernel: parameter {parameter}, gradient {gradient}, momentum_buffer {buffer} elements; expected equal lengths.");
        }
    }
}
