using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

public sealed partial class Tensor
{
    /// <summary>
    /// The values of this tensor broadcast to <paramref name="shape"/>, contiguous in row-major order: the buffer
    /// itself when it already is, otherwise a gathered copy in a pooled scratch buffer. Dispose the result.
    /// </summary>
    internal Scratch ReadAs(int[] shape)
    {
        if (IsContiguous && Shapes.SameShape(ShapeArray, shape))
        {
            return Scratch.Borrow(Buffer.AsSpan(_offset, Count));
        }
        Scratch scratch = Scratch.Rent(Shapes.Count(shape));
        // On the stack: a broadcast operand is read this way in every step (e.g. a bias or a per-row scale).
        const int StackRank = 16;
        Span<int> strides = shape.Length <= StackRank ? stackalloc int[StackRank] : new int[shape.Length];
        strides = strides[..shape.Length];
        Shapes.BroadcastStrides(ShapeArray, StrideArray, shape, strides);
        Kernels.Strided.Gather(Buffer, _offset, shape, strides, scratch.Span);
        return scratch;
    }

    /// <summary>The values, contiguous (<see cref="ReadAs"/> at this tensor's own shape).</summary>
    internal Scratch Read() => ReadAs(ShapeArray);

    /// <summary>Checks that a float argument is not NaN, naming the op.</summary>
    internal static void CheckNotNaN(float value, string op, string name)
    {
        if (float.IsNaN(value))
        {
            throw new ArgumentException($"{op}: {name} is NaN; expected a number.");
        }
    }

    /// <summary>
    /// Returns this tensor's values laid out row-major in their own buffer (this tensor itself when it already is).
    /// Differentiable: the copy's gradient flows back unchanged.
    /// </summary>
    public Tensor Contiguous()
    {
        if (IsContiguous)
        {
            return this;
        }
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        CopyTo(result.AsSpan());
        // contiguous: ∂x += ∂y (gradients are always row-major in the logical shape, so nothing moves).
        tape?.Record("contiguous", result, static (e, dy) => e.AccumulateGrad(0, dy.AsSpan(), dy.ShapeArray), this);
        return result;
    }
}
