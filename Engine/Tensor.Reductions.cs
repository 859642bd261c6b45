using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// Reductions over a set of axes (every axis by default), PyTorch style: x.Sum(), x.Sum(1), x.Mean([0, 2], keepDim: true).
// Every reduction works in the keepDim shape, the input's shape with size 1 on each reduced axis: the forward
// sums (or maxes) x down to it, and the backward stretches ∂y back up from it. Without keepDim the result is the
// same values with those axes dropped, so the entry saves the keepDim shape (Ints) for backward.
public sealed partial class Tensor
{
    /// <summary>
    /// The sum over <paramref name="axes"/> (<c>torch.sum</c>); null or empty sums every axis into a scalar.
    /// Differentiable.
    /// </summary>
    /// <param name="axes">The axes to reduce; negative axes count from the end.</param>
    /// <param name="keepDim">Keep each reduced axis with size 1 (so the result broadcasts against this tensor).</param>
    /// <returns>This tensor's shape without the reduced axes (with size 1 there when <paramref name="keepDim"/>).</returns>
    /// <exception cref="ArgumentException">An axis is out of range or repeated.</exception>
    public Tensor Sum(int[]? axes = null, bool keepDim = false) => SumAxes(axes, keepDim);

    /// <summary><see cref="Sum(int[], bool)"/> with the axes in a span (empty: every axis), e.g. on the caller's stack.</summary>
    internal Tensor SumAxes(ReadOnlySpan<int> axes, bool keepDim)
    {
        Span<int> shapes = Rank <= ReductionStackRank ? stackalloc int[2 * ReductionStackRank] : new int[2 * Rank];
        ReductionShapes(axes, keepDim, "Sum", shapes, out Span<int> keepShape, out Span<int> shape);
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            SumToKeepShape(x.Span, ShapeArray, result.AsSpan(), keepShape);
        }
        // sum: ∂x += ∂y broadcast over the reduced axes
        TapeEntry? entry = tape?.Record("sum", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                AxisReduction.AddBroadcast(dy.AsSpan(), e.Ints!, sink.AsSpan(), sink.ShapeArray, 1f);
            }
        }, this);
        entry?.KeepInts(keepShape);
        return result;
    }

    /// <summary>The sum over one axis; see <see cref="Sum(int[], bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Sum(int axis, bool keepDim = false) => Sum([axis], keepDim);

    /// <summary>
    /// The mean over <paramref name="axes"/> (<c>torch.mean</c>); null or empty averages every axis into a scalar.
    /// Differentiable. A reduction over no elements gives NaN, as in PyTorch.
    /// </summary>
    /// <param name="axes">The axes to reduce; negative axes count from the end.</param>
    /// <param name="keepDim">Keep each reduced axis with size 1.</param>
    /// <returns>This tensor's shape without the reduced axes (with size 1 there when <paramref name="keepDim"/>).</returns>
    /// <exception cref="ArgumentException">An axis is out of range or repeated.</exception>
    public Tensor Mean(int[]? axes = null, bool keepDim = false)
    {
        Span<int> shapes = Rank <= ReductionStackRank ? stackalloc int[2 * ReductionStackRank] : new int[2 * Rank];
        int n = ReductionShapes(axes, keepDim, "Mean", shapes, out Span<int> keepShape, out Span<int> shape);
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            SumToKeepShape(x.Span, ShapeArray, result.AsSpan(), keepShape);
        }
        TensorPrimitives.Divide(result.AsSpan(), n, result.AsSpan());
        // mean: ∂x += ∂y/n broadcast over the reduced axes (n = elements per output)
        TapeEntry? entry = tape?.Record("mean", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                AxisReduction.AddBroadcast(dy.AsSpan(), e.Ints!, sink.AsSpan(), sink.ShapeArray, 1f / e.Scalar);
            }
        }, this);
        entry?.KeepInts(keepShape);
        entry?.Scalar = n;
        return result;
    }

    /// <summary>The mean over one axis; see <see cref="Mean(int[], bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);

    /// <summary>
    /// The largest value over <paramref name="axes"/> (<c>torch.amax</c>; <c>torch.max(x, dim)</c>'s values); null or
    /// empty reduces every axis. Differentiable: the gradient goes to the elements equal to the max, shared evenly
    /// between ties. NaN propagates.
    /// </summary>
    /// <param name="axes">The axes to reduce; negative axes count from the end.</param>
    /// <param name="keepDim">Keep each reduced axis with size 1.</param>
    /// <returns>This tensor's shape without the reduced axes (with size 1 there when <paramref name="keepDim"/>).</returns>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, or a reduced axis has size 0.</exception>
    public Tensor Max(int[]? axes = null, bool keepDim = false)
    {
        Span<int> shapes = Rank <= ReductionStackRank ? stackalloc int[2 * ReductionStackRank] : new int[2 * Rank];
        int n = ReductionShapes(axes, keepDim, "Max", shapes, out Span<int> keepShape, out Span<int> shape);
        if (n == 0 && Shapes.Count(keepShape) > 0)
        {
            throw new ArgumentException(
                $"Max: the reduced axes of shape {ShapeText} hold no elements; a max needs at least one (axes: {FormatAxes(axes)}).");
        }
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            AxisReduction.MaxToShape(x.Span, ShapeArray, result.AsSpan(), keepShape);
        }
        // max: ∂x += ∂y where x equals the max, shared evenly between ties
        TapeEntry? entry = tape?.Record("max", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] keep = e.Ints!;
            int[] xShape = sink.ShapeArray;
            using Scratch x = e.Input(0).Read();
            using Scratch mask = Scratch.Rent(x.Span.Length);
            AxisReduction.Broadcast(e.Output.AsSpan(), keep, mask.Span, xShape);       // y beside each x
            Elementwise.Zip<EqualMaskOperator>(x.Span, mask.Span, mask.Span);           // 1 where x is the max
            using Scratch share = Scratch.RentZeroed(dy.Count);
            Reduction.SumToShape(mask.Span, xShape, share.Span, keep);                  // ties per output
            TensorPrimitives.Divide(dy.AsSpan(), share.Span, share.Span);               // ∂y / ties
            using Scratch spread = Scratch.Rent(x.Span.Length);
            AxisReduction.Broadcast(share.Span, keep, spread.Span, xShape);
            Elementwise.ZipAccumulate<MultiplyOperator>(mask.Span, spread.Span, sink.AsSpan());
        }, this);
        entry?.KeepInts(keepShape);
        return result;
    }

    /// <summary>The largest value over one axis; see <see cref="Max(int[], bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range or has size 0.</exception>
    public Tensor Max(int axis, bool keepDim = false) => Max([axis], keepDim);

    /// <summary>
    /// The variance over <paramref name="axes"/>, <c>Σ (x − mean)² / (n − correction)</c> (<c>torch.var</c>); null or
    /// empty reduces every axis. <paramref name="correction"/> 1 (the default) is the unbiased sample variance,
    /// 0 the population variance. Differentiable. Computed in two passes (the mean first), which stays accurate
    /// when the mean is large against the spread.
    /// </summary>
    /// <param name="axes">The axes to reduce; negative axes count from the end.</param>
    /// <param name="correction">Subtracted from the element count n in the denominator (Bessel's correction).</param>
    /// <param name="keepDim">Keep each reduced axis with size 1.</param>
    /// <returns>This tensor's shape without the reduced axes (with size 1 there when <paramref name="keepDim"/>).</returns>
    /// <exception cref="ArgumentException">
    /// An axis is out of range or repeated, <paramref name="correction"/> is negative, or n − correction ≤ 0.
    /// </exception>
    public Tensor Var(int[]? axes = null, int correction = 1, bool keepDim = false)
    {
        Span<int> shapes = Rank <= ReductionStackRank ? stackalloc int[2 * ReductionStackRank] : new int[2 * Rank];
        int n = ReductionShapes(axes, keepDim, "Var", shapes, out Span<int> keepShape, out Span<int> shape);
        if (correction < 0 || n - correction <= 0)
        {
            throw new ArgumentException(
                $"Var: {n} elements per output of shape {ShapeText} (axes: {FormatAxes(axes)}) with correction {correction}; " +
                "expected correction ≥ 0 and n − correction > 0.");
        }
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        Tensor mean = tape is null ? NewResult(null, keepShape) : tape.NewPrivate(keepShape);   // kept for backward only
        using (Scratch x = Read())
        using (Scratch centered = Scratch.Rent(Count))
        {
            SumToKeepShape(x.Span, ShapeArray, mean.AsSpan(), keepShape);
            TensorPrimitives.Divide(mean.AsSpan(), n, mean.AsSpan());
            AxisReduction.Broadcast(mean.AsSpan(), keepShape, centered.Span, ShapeArray);
            TensorPrimitives.Subtract(x.Span, centered.Span, centered.Span);
            TensorPrimitives.Multiply(centered.Span, centered.Span, centered.Span);
            SumToKeepShape(centered.Span, ShapeArray, result.AsSpan(), keepShape);
        }
        TensorPrimitives.Divide(result.AsSpan(), n - correction, result.AsSpan());
        // var: ∂x += ∂y·2(x − mean)/(n − correction)   (the mean's own gradient term is Σ(x − mean) = 0)
        TapeEntry? entry = tape?.Record("var", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is null)
            {
                return;
            }
            int[] keep = e.Ints!;
            int[] xShape = sink.ShapeArray;
            using Scratch x = e.Input(0).Read();
            using Scratch centered = Scratch.Rent(x.Span.Length);
            AxisReduction.Broadcast(e.Saved!.AsSpan(), keep, centered.Span, xShape);
            TensorPrimitives.Subtract(x.Span, centered.Span, centered.Span);          // x − mean
            using Scratch spread = Scratch.Rent(x.Span.Length);
            AxisReduction.Broadcast(dy.AsSpan(), keep, spread.Span, xShape);
            TensorPrimitives.Multiply(spread.Span, e.Scalar, spread.Span);             // ∂y·2/(n − correction)
            Elementwise.ZipAccumulate<MultiplyOperator>(centered.Span, spread.Span, sink.AsSpan());
        }, this);
        entry?.KeepInts(keepShape);
        entry?.Saved = mean;
        entry?.Scalar = 2f / (n - correction);
        return result;
    }

    /// <summary>The variance over one axis; see <see cref="Var(int[], int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or n − correction ≤ 0.</exception>
    public Tensor Var(int axis, int correction = 1, bool keepDim = false) => Var([axis], correction, keepDim);

    // Reductions work out their shapes on the stack (Rank ≤ ReductionStackRank, else on the heap), so one in every training step
    // allocates nothing for them: a recorded result takes the tape's shared layout, and the entry copies keepShape into
    // an array it keeps from step to step (KeepInts).
    private const int ReductionStackRank = 16;

    // Fills keepShape (this tensor's shape with 1 on each reduced axis) and shape (the result's: keepShape itself with
    // keepDim, else keepShape without the reduced axes), both slices of buffer (2·Rank ints). Returns the number of
    // elements reduced into each output.
    private int ReductionShapes(ReadOnlySpan<int> axes, bool keepDim, string op, Span<int> buffer, out Span<int> keepShape, out Span<int> shape)
    {
        Span<bool> reduced = Rank <= ReductionStackRank ? stackalloc bool[ReductionStackRank] : new bool[Rank];
        reduced = reduced[..Rank];
        Shapes.AxisFlags(axes, Rank, op, ShapeArray, reduced);
        keepShape = buffer[..Rank];
        int kept = 0;
        long n = 1;
        for (int axis = 0; axis < Rank; axis++)
        {
            keepShape[axis] = reduced[axis] ? 1 : ShapeArray[axis];
            n *= reduced[axis] ? ShapeArray[axis] : 1;
            kept += reduced[axis] ? 0 : 1;
        }
        if (keepDim)
        {
            shape = keepShape;
            return (int)n;
        }
        shape = buffer.Slice(Rank, kept);
        for (int axis = 0, j = 0; axis < Rank; axis++)
        {
            if (!reduced[axis])
            {
                shape[j++] = ShapeArray[axis];
            }
        }
        return (int)n;
    }

    /// <summary>
    /// <c>destination = x summed down to keepShape</c>. A full reduction is one blocked sum over the whole buffer
    /// (<see cref="AxisReduction.Sum"/>), whatever the shape: accurate even for millions of elements.
    /// </summary>
    private static void SumToKeepShape(ReadOnlySpan<float> x, ReadOnlySpan<int> shape, Span<float> destination, ReadOnlySpan<int> keepShape)
    {
        if (destination.Length == 1)
        {
            destination[0] = AxisReduction.Sum(x);
            return;
        }
        destination.Clear();
        Reduction.SumToShape(x, shape, destination, keepShape);
    }

    private static string FormatAxes(int[]? axes) => axes is null || axes.Length == 0 ? "all" : string.Join(", ", axes);
}
