using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Layers;

/// <summary>
/// Batch normalization and the paper's mean-only batch normalization as functions
/// (<c>torch.nn.functional.batch_norm</c>); the <see cref="BatchNorm1d"/>, <see cref="BatchNorm2d"/>,
/// <see cref="MeanOnlyBatchNorm1d"/> and <see cref="MeanOnlyBatchNorm2d"/> layers call them with their parameters
/// and buffers.
/// </summary>
/// <remarks>
/// <para>
/// The input is (N, C, *): statistics are per channel C over the batch axes, i.e. N and every axis after C
/// (M = N·S values per channel, S the product of the trailing sizes).
/// </para>
/// <para>
/// In training each function is ONE op on the tape with a fused backward (labels <c>batch_norm</c> and
/// <c>mean_only_batch_norm</c>, listed in <see cref="Derivatives"/>), not a chain of mean/sub/div ops: two passes over
/// the input forward (statistics, then the output) and two over the gradient backward (per-channel sums, then
/// ∂x). Mean-only batch norm's passes are split by channels across cores for large inputs
/// (<see cref="MeanOnlyBatchNormPass"/>), and its backward stores ∂x into a fresh gradient instead of adding to zeros.
/// In evaluation the running statistics are constants and the output is a per-channel affine map built from
/// ordinary tape ops, so gradients still reach the input and the affine parameters.
/// </para>
/// </remarks>
public static class Normalization
{
    /// <summary>
    /// Batch normalization (Ioffe &amp; Szegedy 2015): <c>y = (x − μ)/√(σ² + ε)·γ + β</c> per channel.
    /// Training: μ, σ² are the batch mean and biased variance; the running statistics, when given, are updated in
    /// place as PyTorch does: <c>running = (1 − momentum)·running + momentum·batch</c>, with the unbiased variance
    /// (·M/(M − 1)) for <c>running_var</c>. Evaluation: μ, σ² are the running statistics.
    /// Differentiable in <paramref name="input"/>, <paramref name="weight"/> and <paramref name="bias"/>.
    /// </summary>
    /// <param name="input">(N, C, *), e.g. (N, C), (N, C, L) or (N, C, H, W).</param>
    /// <param name="runningMean">(C), updated in training; required in evaluation; may be null in training.</param>
    /// <param name="runningVar">(C), as <paramref name="runningMean"/>.</param>
    /// <param name="weight">γ, (C), or null for γ = 1; given together with <paramref name="bias"/>.</param>
    /// <param name="bias">β, (C), or null for β = 0.</param>
    /// <param name="training">Batch statistics (true) or running statistics (false).</param>
    /// <param name="momentum">Weight of the batch statistic in the running average (PyTorch's convention).</param>
    /// <param name="eps">Added to the variance before the square root.</param>
    /// <returns>(N, C, *), the input's shape.</returns>
    /// <exception cref="ArgumentException">
    /// The input has rank below 2; a parameter or statistic is not (C); only one of weight and bias is given; the
    /// running statistics are missing in evaluation; fewer than 2 values per channel in training; momentum outside
    /// [0, 1] or eps not positive.
    /// </exception>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        (int n, int c, int s) = Layout(input, "BatchNorm");
        CheckChannelVector(runningMean, c, "BatchNorm", "running_mean", input);
        CheckChannelVector(runningVar, c, "BatchNorm", "running_var", input);
        CheckAffine(weight, bias, c, "BatchNorm", input);
        if (!(momentum is >= 0f and <= 1f) || !(eps > 0f) || float.IsInfinity(eps))
        {
            throw new ArgumentException($"BatchNorm: momentum {momentum} and eps {eps}; expected momentum in [0, 1] and a finite eps > 0.");
        }
        if ((runningMean is null) != (runningVar is null))
        {
            throw new ArgumentException("BatchNorm: running_mean and running_var must be given together.");
        }
        if (!training)
        {
            if (runningMean is null || runningVar is null)
            {
                throw new ArgumentException($"BatchNorm: evaluation of input {input.ShapeText} needs running_mean and running_var; none were given.");
            }
            // y = x·scale + shift with scale = γ/√(running_var + ε), shift = β − running_mean·scale (constants but γ, β).
            var invStd = new float[c];
            TensorPrimitives.Add(runningVar.Contiguous().AsSpan(), eps, invStd);
            TensorPrimitives.ReciprocalSqrt(invStd, invStd);
            Tensor invStdT = Tensor.Wrap(invStd, c);
            return ChannelAffine(input, c, weight is null ? invStdT : weight * invStdT, runningMean.Detach(), bias);
        }
        long m = (long)n * s;
        if (m < 2)
        {
            throw new ArgumentException(
                $"BatchNorm: input {input.ShapeText} has {m} value per channel; training needs more than 1 to estimate a variance.");
        }

        Tape? tape = Tape.ForInputs(input, weight, bias);
        Tensor result = Tensor.NewResult(tape, input.ShapeArray);                             // (N, C, *)
        Tensor? saved = tape?.NewPrivate([2, c]);                                             // (2, C): μ, 1/σ
        using (Scratch x = input.Read())                                                      // (N, C, S)
        using (Scratch stats = Scratch.Rent(4 * c))
        {
            Span<float> mean = stats.Span[..c], variance = stats.Span.Slice(c, c);
            Span<float> scale = stats.Span.Slice(2 * c, c), shift = stats.Span.Slice(3 * c, c);
            // Pass 1: μ and σ² (biased, divided by M) per channel.
            BatchNormKernels.MeanAndVariance(x.Span, n, c, s, mean, variance);
            // scale = γ/√(σ² + ε), shift = β − μ·scale: then y = x·scale + shift is one multiply-add per element.
            TensorPrimitives.Add(variance, eps, scale);
            TensorPrimitives.ReciprocalSqrt(scale, scale);                                      // 1/σ
            if (saved is not null)
            {
                mean.CopyTo(saved.AsSpan()[..c]);
                scale.CopyTo(saved.AsSpan()[c..]);
            }
            if (weight is not null)
            {
                using Scratch gamma = weight.Read();
                TensorPrimitives.Multiply(scale, gamma.Span, scale);
            }
            if (bias is not null)
            {
                using Scratch beta = bias.Read();
                TensorPrimitives.Multiply(mean, scale, shift);
                TensorPrimitives.Subtract(beta.Span, shift, shift);
            }
            else
            {
                TensorPrimitives.Multiply(mean, -1f, shift);
                TensorPrimitives.Multiply(shift, scale, shift);
            }
            // Pass 2: the output.
            BatchNormKernels.ChannelAffine(x.Span, n, c, s, scale, shift, result.AsSpan());
            if (runningMean is not null && runningVar is not null)
            {
                UpdateRunning(runningMean, mean, momentum);
                // PyTorch updates running_var with the unbiased variance, σ²·M/(M − 1).
                TensorPrimitives.Multiply(variance, (float)((double)m / (m - 1)), variance);
                UpdateRunning(runningVar, variance, momentum);
            }
        }
        // batch_norm: ∂x += (γ/σ)(∂y − mean(∂y) − x̂·mean(∂y·x̂)); ∂γ += Σ ∂y·x̂; ∂β += Σ ∂y   (sums and means over the batch axes)
        TapeEntry? entry = tape?.Record("batch_norm", result, static (e, dy) =>
        {
            Tensor input = e.Input(0);
            (int n, int c, int s) = Layout(input, "batch_norm");
            float inverseM = 1f / ((long)n * s);
            ReadOnlySpan<float> mean = e.Saved!.AsSpan()[..c], invStd = e.Saved!.AsSpan()[c..];
            ReadOnlySpan<float> g = dy.AsSpan();                                                 // (N, C, S)
            using Scratch x = input.Read();                                                       // (N, C, S)
            using Scratch work = Scratch.Rent(5 * c);
            Span<float> sumDy = work.Span[..c], sumDyCentred = work.Span.Slice(c, c);
            Span<float> k = work.Span.Slice(2 * c, c), p = work.Span.Slice(3 * c, c), q = work.Span.Slice(4 * c, c);
            // Pass 1: Σ ∂y and Σ ∂y·(x − μ) per channel.
            BatchNormKernels.GradientSums(g, x.Span, n, c, s, mean, sumDy, sumDyCentred);
            bool affine = e.InputCount == 3;
            if (affine && e.GradSink(1) is Tensor gradWeight)
            {
                // ∂γ += Σ ∂y·x̂ = (1/σ)·Σ ∂y·(x − μ)
                TensorPrimitives.MultiplyAdd(sumDyCentred, invStd, gradWeight.AsSpan(), gradWeight.AsSpan());
            }
            if (affine && e.GradSink(2) is Tensor gradBias)
            {
                TensorPrimitives.Add(gradBias.AsSpan(), sumDy, gradBias.AsSpan());
            }
            if (e.GradSink(0) is not Tensor gradInput)
            {
                return;
            }
            // k = γ/σ, p = −k·(1/σ²)·Σ ∂y·(x − μ)/M, q = −k·Σ ∂y/M   (BatchNormInputGradOperator multiplies them out)
            if (affine)
            {
                using Scratch gamma = e.Input(1).Read();
                TensorPrimitives.Multiply(gamma.Span, invStd, k);
            }
            else
            {
                invStd.CopyTo(k);
            }
            TensorPrimitives.Multiply(invStd, invStd, p);
            TensorPrimitives.Multiply(p, sumDyCentred, p);
            TensorPrimitives.Multiply(p, k, p);
            TensorPrimitives.Multiply(p, -inverseM, p);
            TensorPrimitives.Multiply(k, sumDy, q);
            TensorPrimitives.Multiply(q, -inverseM, q);
            // Pass 2: ∂x += k·∂y + p·(x − μ) + q.
            BatchNormKernels.AccumulateInputGrad(g, x.Span, n, c, s, mean, k, p, q, gradInput.AsSpan());
        }, input, weight, bias);
        entry?.Saved = saved;
        return result;
    }

    /// <summary>
    /// Mean-only batch normalization (Salimans &amp; Kingma 2016, §4): <c>y = x − μ + b</c> per channel, with no
    /// division by the standard deviation. Training: μ is the batch mean, and the running mean, when given, is
    /// updated in place, <c>running = (1 − momentum)·running + momentum·μ</c> (the paper's code:
    /// <c>avg ← 0.9·avg + 0.1·μ_batch</c>). Evaluation: μ is the running mean.
    /// Differentiable in <paramref name="input"/> and <paramref name="bias"/>.
    /// </summary>
    /// <param name="input">(N, C, *).</param>
    /// <param name="runningMean">(C), updated in training; required in evaluation; may be null in training.</param>
    /// <param name="bias">b, (C), or null for b = 0.</param>
    /// <param name="training">Batch mean (true) or running mean (false).</param>
    /// <param name="momentum">Weight of the batch mean in the running average; 0.1 as in the paper.</param>
    /// <returns>(N, C, *), the input's shape.</returns>
    /// <exception cref="ArgumentException">
    /// The input has rank below 2 or no values per channel; a parameter or statistic is not (C); the running mean
    /// is missing in evaluation; momentum outside [0, 1].
    /// </exception>
    public static Tensor MeanOnlyBatchNorm(Tensor input, Tensor? runningMean, Tensor? bias, bool training, float momentum = 0.1f)
    {
        (int n, int c, int s) = Layout(input, "MeanOnlyBatchNorm");
        CheckChannelVector(runningMean, c, "MeanOnlyBatchNorm", "running_mean", input);
        CheckChannelVector(bias, c, "MeanOnlyBatchNorm", "bias", input);
        if (!(momentum is >= 0f and <= 1f))
        {
            throw new ArgumentException($"MeanOnlyBatchNorm: momentum {momentum}; expected a value in [0, 1].");
        }
        if (!training)
        {
            if (runningMean is null)
            {
                throw new ArgumentException($"MeanOnlyBatchNorm: evaluation of input {input.ShapeText} needs running_mean; none was given.");
            }
            // y = x − running_mean + b
            return ChannelAffine(input, c, scale: null, runningMean.Detach(), bias);
        }
        if ((long)n * s == 0)
        {
            throw new ArgumentException($"MeanOnlyBatchNorm: input {input.ShapeText} has no values per channel; the batch mean is undefined.");
        }

        input = input.Contiguous();
        bias = bias?.Contiguous();
        Tape? tape = Tape.ForInputs(input, bias);
        Tensor result = Tensor.NewResult(tape, input.ShapeArray);                             // (N, C, *)
        using (Scratch sums = Scratch.Rent(c))
        {
            // Per block of channels: Σx, then y = x + (b − Σx/M).
            MeanOnlyBatchNormPass.Forward(input.Buffer, input.Offset, bias?.Buffer, bias?.Offset ?? 0,
                result.Buffer, result.Offset, n, c, s, sums.Span);
            if (runningMean is not null)
            {
                TensorPrimitives.Multiply(sums.Span, 1f / ((long)n * s), sums.Span);          // μ
                UpdateRunning(runningMean, sums.Span, momentum);
            }
        }
        // mean_only_batch_norm: ∂x += ∂y − mean(∂y); ∂b += Σ ∂y   (over the batch axes: μ's gradient centres ∂y)
        tape?.Record("mean_only_batch_norm", result, static (e, dy) =>
        {
            (int n, int c, int s) = Layout(e.Input(0), "mean_only_batch_norm");
            // Usually the first (only) gradient of x: then stored, not added to a zeroed buffer.
            Tensor? gradInput = e.GradSinkToOverwrite(0, out bool overwrite);
            using Scratch sums = Scratch.Rent(c);
            // Per block of channels: Σ∂y, then ∂x += ∂y − Σ∂y/M.
            MeanOnlyBatchNormPass.Backward(dy.Buffer, dy.Offset, gradInput?.Buffer, gradInput?.Offset ?? 0, overwrite, n, c, s, sums.Span);
            if (e.InputCount == 2 && e.GradSink(1) is Tensor gradBias)
            {
                TensorPrimitives.Add(gradBias.AsSpan(), sums.Span, gradBias.AsSpan());
            }
        }, input, bias);
        return result;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>(N, C, S) for an input of shape (N, C, *).</summary>
    private static (int N, int C, int S) Layout(Tensor input, string op)
    {
        if (input.Rank < 2)
        {
            throw new ArgumentException($"{op}: input {input.ShapeText} has rank {input.Rank}; expected (N, C, *) with rank ≥ 2.");
        }
        int s = 1;
        for (int axis = 2; axis < input.Rank; axis++)
        {
            s *= input.Size(axis);
        }
        return (input.Size(0), input.Size(1), s);
    }

    private static void CheckChannelVector(Tensor? t, int c, string op, string name, Tensor input)
    {
        if (t is not null && (t.Rank != 1 || t.Size(0) != c))
        {
            throw new ArgumentException($"{op}: {name} {t.ShapeText} for input {input.ShapeText}; expected ({c}), one value per channel.");
        }
    }

    private static void CheckAffine(Tensor? weight, Tensor? bias, int c, string op, Tensor input)
    {
        if ((weight is null) != (bias is null))
        {
            throw new ArgumentException($"{op}: weight and bias must be given together (both or neither).");
        }
        CheckChannelVector(weight, c, op, "weight", input);
        CheckChannelVector(bias, c, op, "bias", input);
    }

    /// <summary><c>running = (1 − momentum)·running + momentum·batch</c>, in place (a buffer: no gradient).</summary>
    private static void UpdateRunning(Tensor running, ReadOnlySpan<float> batch, float momentum)
    {
        Span<float> values = running.AsSpan();
        TensorPrimitives.Multiply(values, 1f - momentum, values);
        TensorPrimitives.MultiplyAdd(batch, momentum, values, values);
    }

    /// <summary>
    /// The evaluation form, <c>y = x·scale + (b − mean·scale)</c> per channel (scale = 1 when null), from ordinary
    /// tape ops so that gradients reach x, γ (through <paramref name="scale"/>) and b.
    /// </summary>
    private static Tensor ChannelAffine(Tensor input, int c, Tensor? scale, Tensor mean, Tensor? bias)
    {
        // (C) broadcast against (N, C, *) needs trailing ones: (C), (C, 1), (C, 1, 1), ...
        int[] channelShape = new int[input.Rank - 1];
        channelShape.AsSpan().Fill(1);
        channelShape[0] = c;
        Tensor shifted = scale is null ? mean : mean * scale;                                   // (C)
        Tensor shift = bias is null ? shifted.Negate() : bias - shifted;                        // (C)
        Tensor scaled = scale is null ? input : input * scale.Reshape(channelShape);             // (N, C, *)
        return scaled + shift.Reshape(channelShape);
    }
}
