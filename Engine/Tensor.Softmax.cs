using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// Softmax and log-softmax along one axis. Both shift by the max before exponentiating (see SoftmaxKernels), and
// both backward rules need only the op's own output, so nothing else is saved.
public sealed partial class Tensor
{
    /// <summary>
    /// <c>softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)</c> along <paramref name="axis"/> (<c>torch.softmax(x, dim)</c>), computed
    /// as <c>exp(x − max)</c> so large inputs do not overflow. Same shape as this tensor. Differentiable.
    /// </summary>
    /// <param name="axis">The axis whose entries sum to 1; negative axes count from the end (−1: the last).</param>
    /// <exception cref="ArgumentException">The axis is out of range (a rank-0 tensor has none).</exception>
    public Tensor Softmax(int axis)
    {
        int normalized = Shapes.NormalizeAxis(axis, Rank, "Softmax", ShapeArray);
        int inner = SoftmaxExtent(ShapeArray, normalized, out int n);
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            SoftmaxKernels.Forward(x.Span, result.AsSpan(), n, inner, log: false);
        }
        // softmax: ∂x += y·(∂y − Σ ∂y·y) along the axis
        TapeEntry? entry = tape?.Record("softmax", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                int inner = SoftmaxExtent(sink.ShapeArray, e.Ints![0], out int n);
                SoftmaxKernels.SoftmaxBackward(e.Output.AsSpan(), dy.AsSpan(), sink.AsSpan(), n, inner);
            }
        }, this);
        entry?.Ints = [normalized];
        return result;
    }

    /// <summary>
    /// <c>log_softmax(x)ᵢ = xᵢ − log Σⱼ exp(xⱼ)</c> along <paramref name="axis"/> (<c>torch.log_softmax(x, dim)</c>),
    /// computed as <c>(x − max) − log Σ exp(x − max)</c>: finite even where softmax itself underflows to 0.
    /// Same shape as this tensor. Differentiable.
    /// </summary>
    /// <param name="axis">The axis to normalize over; negative axes count from the end (−1: the last).</param>
    /// <exception cref="ArgumentException">The axis is out of range (a rank-0 tensor has none).</exception>
    public Tensor LogSoftmax(int axis)
    {
        int normalized = Shapes.NormalizeAxis(axis, Rank, "LogSoftmax", ShapeArray);
        int inner = SoftmaxExtent(ShapeArray, normalized, out int n);
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            SoftmaxKernels.Forward(x.Span, result.AsSpan(), n, inner, log: true);
        }
        // log_softmax: ∂x += ∂y − softmax(x)·Σ ∂y along the axis   (softmax(x) = exp(y))
        TapeEntry? entry = tape?.Record("log_softmax", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                int inner = SoftmaxExtent(sink.ShapeArray, e.Ints![0], out int n);
                SoftmaxKernels.LogSoftmaxBackward(e.Output.AsSpan(), dy.AsSpan(), sink.AsSpan(), n, inner);
            }
        }, this);
        entry?.Ints = [normalized];
        return result;
    }

    /// <summary>Views a shape as (outer, n, inner) around <paramref name="axis"/>: returns inner, the product of the later sizes.</summary>
    private static int SoftmaxExtent(int[] shape, int axis, out int n)
    {
        n = shape[axis];
        int inner = 1;
        for (int i = axis + 1; i < shape.Length; i++)
        {
            inner *= shape[i];
        }
        return inner;
    }
}
