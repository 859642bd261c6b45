using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

/// <summary>
/// Loss functions: each takes a batch and returns the mean loss as a scalar tensor (rank 0) to call
/// <see cref="Tensor.Backward(Tensor?, bool)"/> on. Each is ONE op on the tape, with a fused backward rule,
/// rather than a composition of smaller ops.
/// </summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy from raw scores (<c>torch.nn.functional.cross_entropy</c> with mean reduction):
    /// <c>mean over rows n of −log softmax(logits[n])[labels[n]]</c>. The log-softmax is fused in and computed as
    /// <c>log Σ exp(x − max) − (x[label] − max)</c>, so logits of any magnitude (e.g. ±1e4) give a finite loss and
    /// gradient. Differentiable in <paramref name="logits"/>; the labels are class indices, not differentiable.
    /// </summary>
    /// <param name="logits">Unnormalized class scores, shape (N, C).</param>
    /// <param name="labels">The class of each row, N values in [0, C).</param>
    /// <returns>The mean loss, shape ().</returns>
    /// <exception cref="ArgumentException">
    /// The logits are not rank 2 or have no rows, the number of labels differs from N, or a label is outside [0, C).
    /// </exception>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> labels)
    {
        if (logits.Rank != 2)
        {
            throw new ArgumentException(
                $"CrossEntropy: logits of shape {logits.ShapeText}; expected rank 2, (N, C): one row of class scores per example.");
        }
        int rows = logits.ShapeArray[0];
        int classes = logits.ShapeArray[1];
        if (labels.Length != rows)
        {
            throw new ArgumentException(
                $"CrossEntropy: {labels.Length} labels for logits of shape {logits.ShapeText}; expected one label per row ({rows}).");
        }
        if (rows == 0)
        {
            throw new ArgumentException($"CrossEntropy: logits of shape {logits.ShapeText} have no rows; the mean over 0 examples is undefined.");
        }
        for (int i = 0; i < rows; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentException(
                    $"CrossEntropy: label {labels[i]} at row {i} is out of range for logits of shape {logits.ShapeText}; expected a class in [0, {classes}).");
            }
        }

        Tape? tape = Tape.ForInputs(logits);
        Tensor result = Tensor.NewResult(tape, Shapes.Scalar);
        Tensor? probabilities = tape?.NewPrivate(logits.Shape);  // (N, C), for backward only
        double total = 0;
        using (Scratch x = logits.Read())            // (N, C)
        using (Scratch exps = Scratch.Rent(classes))
        {
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = x.Span.Slice(i * classes, classes);
                Span<float> shifted = probabilities is null ? exps.Span : probabilities.AsSpan().Slice(i * classes, classes);
                // Every exp(x − max) ≤ 1 and the largest is 1, so the sum is in [1, C]: no overflow, and a finite log.
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, shifted);
                TensorPrimitives.Exp(shifted, shifted);
                float sum = TensorPrimitives.Sum(shifted);
                total += Math.Log(sum) - ((double)row[labels[i]] - max);
                if (probabilities is not null)
                {
                    TensorPrimitives.Divide(shifted, sum, shifted);
                }
            }
        }
        result.AsSpan()[0] = (float)(total / rows);
        // cross_entropy: ∂logits += (softmax(logits) − onehot(label))·∂y/N   (mean over N rows)
        TapeEntry? entry = tape?.Record("cross_entropy", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] labels = e.Ints!;
            int classes = sink.ShapeArray[1];
            float scale = dy.Item() / labels.Length;
            Span<float> grad = sink.AsSpan();                                          // (N, C)
            TensorPrimitives.MultiplyAdd(e.Saved!.AsSpan(), scale, grad, grad);         // + softmax·∂y/N
            for (int i = 0; i < labels.Length; i++)
            {
                grad[i * classes + labels[i]] -= scale;                                // − onehot·∂y/N
            }
        }, logits);
        if (entry is not null)
        {
            entry.Saved = probabilities;
            entry.KeepInts(labels); // copied: the caller may refill its label array before backward
        }
        return result;
    }

    /// <summary>
    /// Mean squared error, <c>mean((prediction − target)²)</c> over every element (<c>torch.nn.functional.mse_loss</c>
    /// with mean reduction). The shapes must match exactly: broadcasting is refused, because a (N, 1) prediction
    /// against a (N) target would otherwise silently compare every pair. Differentiable in both.
    /// </summary>
    /// <param name="prediction">Any shape.</param>
    /// <param name="target">The same shape as <paramref name="prediction"/>.</param>
    /// <returns>The mean loss, shape () (NaN for empty tensors, as in PyTorch).</returns>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor MeanSquaredError(Tensor prediction, Tensor target)
    {
        if (!Shapes.SameShape(prediction.ShapeArray, target.ShapeArray))
        {
            throw new ArgumentException(
                $"MeanSquaredError: prediction of shape {prediction.ShapeText} and target of shape {target.ShapeText}; " +
                "expected the same shape (no broadcasting: reshape one of them if that is what you meant).");
        }
        int n = prediction.Count;
        Tape? tape = Tape.ForInputs(prediction, target);
        Tensor result = Tensor.NewResult(tape, Shapes.Scalar);
        using (Scratch a = prediction.Read())
        using (Scratch b = target.Read())
        using (Scratch difference = Scratch.Rent(n))
        {
            TensorPrimitives.Subtract(a.Span, b.Span, difference.Span);
            result.AsSpan()[0] = Kernels.AxisReduction.SumOfSquares(difference.Span) / n;
        }
        // mse_loss: ∂a += 2(a − b)·∂y/n; ∂b −= the same
        tape?.Record("mse_loss", result, static (e, dy) =>
        {
            Tensor a = e.Input(0);
            int n = a.Count;
            using Scratch av = a.Read();
            using Scratch bv = e.Input(1).Read();
            using Scratch local = Scratch.Rent(n);
            TensorPrimitives.Subtract(av.Span, bv.Span, local.Span);
            TensorPrimitives.Multiply(local.Span, 2f * dy.Item() / n, local.Span);
            Tensor? gradA = e.GradSink(0);
            if (gradA is not null)
            {
                TensorPrimitives.Add(gradA.AsSpan(), local.Span, gradA.AsSpan());
            }
            Tensor? gradB = e.GradSink(1);
            if (gradB is not null)
            {
                TensorPrimitives.Subtract(gradB.AsSpan(), local.Span, gradB.AsSpan());
            }
        }, prediction, target);
        return result;
    }
}
