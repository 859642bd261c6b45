using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

// Joining tensors: concat along an existing axis, stack along a new one. Both copy into a new contiguous result,
// where input i occupies a region: the result's strides, the input's shape, and an offset along the joined axis.
// Forward scatters each input into its region; backward gathers each input's gradient back out of the same region.
public sealed partial class Tensor
{
    /// <summary>
    /// Joins tensors along an existing axis (<c>torch.cat</c>): (2, 3) and (4, 3) along axis 0 give (6, 3). The result
    /// is a new tensor. Differentiable in every input.
    /// </summary>
    /// <param name="tensors">One or more tensors of the same rank (at least 1) whose sizes agree on every other axis.</param>
    /// <param name="axis">The axis to join along; negative counts from the end.</param>
    /// <exception cref="ArgumentException">No tensors, a null tensor, the axis is out of range, or the shapes disagree.</exception>
    public static Tensor Concat(ReadOnlySpan<Tensor> tensors, int axis)
    {
        CheckJoinInputs(tensors, "Concat");
        Tensor first = tensors[0];
        int a = Shapes.NormalizeAxis(axis, first.Rank, "Concat", first.ShapeArray);
        long joined = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            Tensor t = tensors[i];
            bool matches = t.Rank == first.Rank;
            for (int d = 0; matches && d < first.Rank; d++)
            {
                matches = d == a || t.ShapeArray[d] == first.ShapeArray[d];
            }
            if (!matches)
            {
                throw new ArgumentException(
                    $"Concat: tensor {i} has shape {t.ShapeText} and tensor 0 has shape {first.ShapeText}; " +
                    $"expected the same rank and the same sizes on every axis but axis {axis}.");
            }
            joined += t.ShapeArray[a];
        }
        if (joined > Array.MaxLength)
        {
            throw new ArgumentException($"Concat: axis {axis} would have {joined} entries, more than an array holds.");
        }
        int[] shape = [.. first.ShapeArray];
        shape[a] = (int)joined;
        Shapes.Count(shape, "Concat");

        Tape? tape = Tape.ForInputs(tensors);
        Tensor result = NewResult(tape, shape);
        int[] strides = result.StrideArray;
        int start = 0;
        foreach (Tensor t in tensors)
        {
            using (Scratch values = t.Read())
            {
                Kernels.Strided.Scatter(values.Span, result.AsSpan(), start * strides[a], t.ShapeArray, strides);
            }
            start += t.ShapeArray[a];
        }
        // concat: ∂xᵢ += the region of ∂y that xᵢ filled (same strides as the forward's, since ∂y is contiguous like y)
        TapeEntry? entry = tape?.Record("concat", result, static (e, dy) =>
        {
            int axis = e.Ints![0];
            int start = 0;
            for (int i = 0; i < e.InputCount; i++)
            {
                int[] inputShape = e.Input(i).ShapeArray;
                Tensor? sink = e.GradSink(i);
                if (sink is not null)
                {
                    Kernels.Strided.GatherAdd(dy.AsSpan(), start * dy.StrideArray[axis], inputShape, dy.StrideArray, sink.AsSpan());
                }
                start += inputShape[axis];
            }
        }, tensors);
        entry?.Ints = [a];
        return result;
    }

    /// <summary>
    /// As <see cref="Concat(ReadOnlySpan{Tensor}, int)"/>, for a list (copies the references into a new array).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">As the span overload.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Tensor[] array = [.. tensors];
        return Concat(array.AsSpan(), axis);
    }

    /// <summary>
    /// Joins tensors of one shape along a new axis (<c>torch.stack</c>): three (2, 5) tensors stacked at axis 1 give
    /// (2, 3, 5), with <c>result[:, i, :]</c> = tensor i. The result is a new tensor. Differentiable in every input.
    /// </summary>
    /// <param name="tensors">One or more tensors, all of the same shape.</param>
    /// <param name="axis">Where the new axis goes in the result, in [−(rank + 1), rank]; negative counts from the end.</param>
    /// <exception cref="ArgumentException">No tensors, a null tensor, the shapes differ, or the axis is out of range.</exception>
    public static Tensor Stack(ReadOnlySpan<Tensor> tensors, int axis)
    {
        CheckJoinInputs(tensors, "Stack");
        Tensor first = tensors[0];
        for (int i = 1; i < tensors.Length; i++)
        {
            if (!Shapes.SameShape(tensors[i].ShapeArray, first.ShapeArray))
            {
                throw new ArgumentException(
                    $"Stack: tensor {i} has shape {tensors[i].ShapeText} and tensor 0 has shape {first.ShapeText}; expected every tensor to have the same shape.");
            }
        }
        int rank = first.Rank + 1;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw new ArgumentException(
                $"Stack: axis {axis} is out of range for stacking tensors of shape {first.ShapeText}; expected an axis in [{-rank}, {rank - 1}].");
        }
        int[] shape = [.. first.ShapeArray.AsSpan(0, a), tensors.Length, .. first.ShapeArray.AsSpan(a)];
        Shapes.Count(shape, "Stack");

        Tape? tape = Tape.ForInputs(tensors);
        Tensor result = NewResult(tape, shape);
        // Tensor i is the region result[..., i, ...]: the result's strides without the new axis, offset i steps along it.
        Span<int> regionStrides = stackalloc int[rank - 1];
        WithoutAxis(result.StrideArray, a, regionStrides);
        for (int i = 0; i < tensors.Length; i++)
        {
            using Scratch values = tensors[i].Read();
            Kernels.Strided.Scatter(values.Span, result.AsSpan(), i * result.StrideArray[a], first.ShapeArray, regionStrides);
        }
        // stack: ∂xᵢ += ∂y[..., i, ...]
        TapeEntry? entry = tape?.Record("stack", result, static (e, dy) =>
        {
            int axis = e.Ints![0];
            Span<int> regionStrides = stackalloc int[dy.Rank - 1];
            WithoutAxis(dy.StrideArray, axis, regionStrides);
            for (int i = 0; i < e.InputCount; i++)
            {
                Tensor? sink = e.GradSink(i);
                if (sink is not null)
                {
                    Kernels.Strided.GatherAdd(dy.AsSpan(), i * dy.StrideArray[axis], sink.ShapeArray, regionStrides, sink.AsSpan());
                }
            }
        }, tensors);
        entry?.Ints = [a];
        return result;
    }

    /// <summary>
    /// As <see cref="Stack(ReadOnlySpan{Tensor}, int)"/>, for a list (copies the references into a new array).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">As the span overload.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Tensor[] array = [.. tensors];
        return Stack(array.AsSpan(), axis);
    }

    private static void CheckJoinInputs(ReadOnlySpan<Tensor> tensors, string op)
    {
        if (tensors.IsEmpty)
        {
            throw new ArgumentException($"{op}: no tensors given; expected at least one.");
        }
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is null)
            {
                throw new ArgumentException($"{op}: tensor {i} of {tensors.Length} is null.");
            }
        }
    }

    private static void WithoutAxis(ReadOnlySpan<int> values, int axis, Span<int> destination)
    {
        values[..axis].CopyTo(destination);
        values[(axis + 1)..].CopyTo(destination[axis..]);
    }
}
