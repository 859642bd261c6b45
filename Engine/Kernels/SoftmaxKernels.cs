using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Softmax and log-softmax along one axis, forward and backward, on contiguous data viewed as
/// (outer, n, inner): <c>n</c> is the size of the softmax axis, <c>inner</c> the product of the sizes after it.
/// </summary>
/// <remarks>
/// <para>
/// Stability: <c>softmax(x) = softmax(x − max x)</c>, and after the shift every exponent is ≤ 0, so no term
/// overflows and the largest one is e⁰ = 1, which keeps the sum ≥ 1 and its log finite.
/// </para>
/// <para>
/// Two layouts. Along the last axis (<c>inner = 1</c>) each softmax is one contiguous row and every step is a
/// span primitive on it. Along another axis the <c>n</c> values of one softmax are <c>inner</c> apart; rather than
/// gathering them, the loops run over the <c>n</c> rows of an (n, inner) block and apply each step to all
/// <c>inner</c> softmaxes at once, so the vector lanes run across independent softmaxes.
/// </para>
/// </remarks>
internal static class SoftmaxKernels
{
    /// <summary><c>y = softmax(x)</c> (or <c>log_softmax(x)</c> when <paramref name="log"/>) along the middle axis.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int n, int inner, bool log)
    {
        if (x.Length == 0)
        {
            return;
        }
        int block = n * inner;
        if (inner == 1)
        {
            using Scratch rowExps = Scratch.Rent(n);
            for (int start = 0; start < x.Length; start += n)
            {
                ReadOnlySpan<float> row = x.Slice(start, n);
                Span<float> result = y.Slice(start, n);
                TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), result);
                if (log)
                {
                    // log_softmax = (x − max) − log Σ exp(x − max)
                    TensorPrimitives.Exp(result, rowExps.Span);
                    TensorPrimitives.Subtract(result, MathF.Log(TensorPrimitives.Sum(rowExps.Span)), result);
                }
                else
                {
                    TensorPrimitives.SoftMax(result, result);
                }
            }
            return;
        }

        using Scratch scratch = Scratch.Rent(3 * inner);
        Span<float> max = scratch.Span[..inner];              // (inner): one max per softmax
        Span<float> sum = scratch.Span.Slice(inner, inner);   // (inner): Σ exp(x − max)
        Span<float> exps = scratch.Span.Slice(2 * inner, inner);
        for (int start = 0; start < x.Length; start += block)
        {
            ReadOnlySpan<float> xs = x.Slice(start, block);   // (n, inner)
            Span<float> ys = y.Slice(start, block);           // (n, inner)
            xs[..inner].CopyTo(max);
            for (int k = 1; k < n; k++)
            {
                TensorPrimitives.Max(max, xs.Slice(k * inner, inner), max);
            }
            sum.Clear();
            for (int k = 0; k < n; k++)
            {
                Span<float> yk = ys.Slice(k * inner, inner);
                TensorPrimitives.Subtract(xs.Slice(k * inner, inner), max, yk);
                TensorPrimitives.Exp(yk, log ? exps : yk);
                TensorPrimitives.Add(sum, log ? exps : yk, sum);
            }
            if (log)
            {
                TensorPrimitives.Log(sum, sum);
            }
            for (int k = 0; k < n; k++)
            {
                Span<float> yk = ys.Slice(k * inner, inner);
                if (log)
                {
                    TensorPrimitives.Subtract(yk, sum, yk);
                }
                else
                {
                    TensorPrimitives.Divide(yk, sum, yk);
                }
            }
        }
    }

    /// <summary>
    /// softmax's backward: <c>∂x += y·(∂y − Σ ∂y·y)</c> along the axis, from the saved output <paramref name="y"/>.
    /// </summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int n, int inner)
    {
        if (y.Length == 0)
        {
            return;
        }
        if (inner == 1)
        {
            using Scratch rowCentered = Scratch.Rent(n);
            for (int start = 0; start < y.Length; start += n)
            {
                ReadOnlySpan<float> yRow = y.Slice(start, n);
                ReadOnlySpan<float> dyRow = dy.Slice(start, n);
                Span<float> dxRow = dx.Slice(start, n);
                TensorPrimitives.Subtract(dyRow, TensorPrimitives.Dot(dyRow, yRow), rowCentered.Span);
                TensorPrimitives.MultiplyAdd(yRow, rowCentered.Span, dxRow, dxRow);
            }
            return;
        }

        int block = n * inner;
        using Scratch scratch = Scratch.Rent(2 * inner);
        Span<float> dot = scratch.Span[..inner];                // (inner): Σ ∂y·y per softmax
        Span<float> centered = scratch.Span.Slice(inner, inner);
        for (int start = 0; start < y.Length; start += block)
        {
            ReadOnlySpan<float> ys = y.Slice(start, block);     // (n, inner)
            ReadOnlySpan<float> dys = dy.Slice(start, block);
            Span<float> dxs = dx.Slice(start, block);
            dot.Clear();
            for (int k = 0; k < n; k++)
            {
                TensorPrimitives.MultiplyAdd(dys.Slice(k * inner, inner), ys.Slice(k * inner, inner), dot, dot);
            }
            for (int k = 0; k < n; k++)
            {
                Span<float> dxk = dxs.Slice(k * inner, inner);
                TensorPrimitives.Subtract(dys.Slice(k * inner, inner), dot, centered);
                TensorPrimitives.MultiplyAdd(ys.Slice(k * inner, inner), centered, dxk, dxk);
            }
        }
    }

    /// <summary>
    /// log_softmax's backward: <c>∂x += ∂y − softmax(x)·Σ ∂y</c> along the axis, with softmax(x) = exp(y) from
    /// the saved output <paramref name="y"/>.
    /// </summary>
    public static void LogSoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int n, int inner)
    {
        if (y.Length == 0)
        {
            return;
        }
        if (inner == 1)
        {
            using Scratch probabilities = Scratch.Rent(n);
            for (int start = 0; start < y.Length; start += n)
            {
                ReadOnlySpan<float> dyRow = dy.Slice(start, n);
                Span<float> dxRow = dx.Slice(start, n);
                TensorPrimitives.Exp(y.Slice(start, n), probabilities.Span);
                TensorPrimitives.Add(dxRow, dyRow, dxRow);
                TensorPrimitives.MultiplyAdd(probabilities.Span, -TensorPrimitives.Sum(dyRow), dxRow, dxRow);
            }
            return;
        }

        int block = n * inner;
        using Scratch scratch = Scratch.Rent(2 * inner);
        Span<float> total = scratch.Span[..inner];              // (inner): Σ ∂y per softmax
        Span<float> share = scratch.Span.Slice(inner, inner);
        for (int start = 0; start < y.Length; start += block)
        {
            ReadOnlySpan<float> ys = y.Slice(start, block);     // (n, inner)
            ReadOnlySpan<float> dys = dy.Slice(start, block);
            Span<float> dxs = dx.Slice(start, block);
            total.Clear();
            for (int k = 0; k < n; k++)
            {
                TensorPrimitives.Add(total, dys.Slice(k * inner, inner), total);
            }
            for (int k = 0; k < n; k++)
            {
                Span<float> dxk = dxs.Slice(k * inner, inner);
                TensorPrimitives.Exp(ys.Slice(k * inner, inner), share);
                TensorPrimitives.Multiply(share, total, share);
                TensorPrimitives.Add(dxk, dys.Slice(k * inner, inner), dxk);
                TensorPrimitives.Subtract(dxk, share, dxk);
            }
        }
    }
}
