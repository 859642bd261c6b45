using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

// Arithmetic with NumPy broadcasting. Each op: the forward, then its backward rule right below it.
// Operands are read at the broadcast shape (a gathered copy only when a shape or layout differs), and every
// gradient goes back through TapeEntry.AccumulateGrad/AccumulateProduct, which sum over broadcast axes.
public sealed partial class Tensor
{
    /// <summary>Elementwise <c>a + b</c> with broadcasting. Differentiable in both.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    /// <summary>Elementwise <c>a − b</c> with broadcasting. Differentiable in both.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor operator -(Tensor a, Tensor b) => a.Subtract(b);

    /// <summary>Elementwise <c>a · b</c> with broadcasting. Differentiable in both.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor operator *(Tensor a, Tensor b) => a.Multiply(b);

    /// <summary>Elementwise <c>a / b</c> with broadcasting. Differentiable in both.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Tensor operator /(Tensor a, Tensor b) => a.Divide(b);

    /// <summary><c>a + s</c> for every element.</summary>
    public static Tensor operator +(Tensor a, float s) => a.AddScalar(s);

    /// <summary><c>s + a</c> for every element.</summary>
    public static Tensor operator +(float s, Tensor a) => a.AddScalar(s);

    /// <summary><c>a − s</c> for every element.</summary>
    public static Tensor operator -(Tensor a, float s) => a.AddScalar(-s);

    /// <summary><c>s − a</c> for every element.</summary>
    public static Tensor operator -(float s, Tensor a) => a.Negate().AddScalar(s);

    /// <summary><c>a · s</c> for every element.</summary>
    public static Tensor operator *(Tensor a, float s) => a.MultiplyScalar(s);

    /// <summary><c>s · a</c> for every element.</summary>
    public static Tensor operator *(float s, Tensor a) => a.MultiplyScalar(s);

    /// <summary><c>a / s</c> for every element.</summary>
    public static Tensor operator /(Tensor a, float s) => a.MultiplyScalar(1f / s);

    /// <summary><c>s / a</c> for every element.</summary>
    public static Tensor operator /(float s, Tensor a) => Scalar(s).Divide(a);

    /// <summary><c>−a</c>.</summary>
    public static Tensor operator -(Tensor a) => a.Negate();

    /// <summary>Elementwise sum with broadcasting (<c>torch.add</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Add(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Add");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Add(a.Span, b.Span, result.AsSpan());
        }
        // add: ∂a += ∂y, ∂b += ∂y
        tape?.Record("add", result, static (e, dy) =>
        {
            e.AccumulateGrad(0, dy.AsSpan(), dy.ShapeArray);
            e.AccumulateGrad(1, dy.AsSpan(), dy.ShapeArray);
        }, this, other);
        return result;
    }

    /// <summary>Elementwise difference with broadcasting (<c>torch.sub</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Subtract(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Subtract");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Subtract(a.Span, b.Span, result.AsSpan());
        }
        // sub: ∂a += ∂y, ∂b −= ∂y
        tape?.Record("sub", result, static (e, dy) =>
        {
            e.AccumulateGrad(0, dy.AsSpan(), dy.ShapeArray);
            if (e.NeedsGrad(1))
            {
                using Scratch negated = Scratch.Rent(dy.Count);
                TensorPrimitives.Negate(dy.AsSpan(), negated.Span);
                e.AccumulateGrad(1, negated.Span, dy.ShapeArray);
            }
        }, this, other);
        return result;
    }

    /// <summary>Elementwise product with broadcasting (<c>torch.mul</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Multiply(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Multiply");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Multiply(a.Span, b.Span, result.AsSpan());
        }
        // mul: ∂a += ∂y · b, ∂b += ∂y · a
        tape?.Record("mul", result, static (e, dy) =>
        {
            if (e.NeedsGrad(0))
            {
                using Scratch b = e.Input(1).ReadAs(dy.ShapeArray);
                e.AccumulateProduct(0, b.Span, dy);
            }
            if (e.NeedsGrad(1))
            {
                using Scratch a = e.Input(0).ReadAs(dy.ShapeArray);
                e.AccumulateProduct(1, a.Span, dy);
            }
        }, this, other);
        return result;
    }

    /// <summary>Elementwise quotient with broadcasting (<c>torch.div</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Divide(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Divide");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Divide(a.Span, b.Span, result.AsSpan());
        }
        // div: ∂a += ∂y / b, ∂b −= ∂y · y / b   (y = a / b, so a / b² = y / b)
        tape?.Record("div", result, static (e, dy) =>
        {
            using Scratch b = e.Input(1).ReadAs(dy.ShapeArray);
            using Scratch local = Scratch.Rent(dy.Count);
            if (e.NeedsGrad(0))
            {
                TensorPrimitives.Reciprocal(b.Span, local.Span);
                e.AccumulateProduct(0, local.Span, dy);
            }
            if (e.NeedsGrad(1))
            {
                TensorPrimitives.Divide(e.Output.AsSpan(), b.Span, local.Span);
                TensorPrimitives.Negate(local.Span, local.Span);
                e.AccumulateProduct(1, local.Span, dy);
            }
        }, this, other);
        return result;
    }

    /// <summary><c>x + s</c> for a scalar <paramref name="s"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="s"/> is NaN.</exception>
    public Tensor AddScalar(float s)
    {
        CheckNotNaN(s, "AddScalar", "the scalar");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Add(x.Span, s, result.AsSpan());
        }
        // add_scalar: ∂x += ∂y
        tape?.Record("add_scalar", result, static (e, dy) => e.AccumulateGrad(0, dy.AsSpan(), dy.ShapeArray), this);
        return result;
    }

    /// <summary><c>x · s</c> for a scalar <paramref name="s"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="s"/> is NaN.</exception>
    public Tensor MultiplyScalar(float s)
    {
        CheckNotNaN(s, "MultiplyScalar", "the scalar");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Multiply(x.Span, s, result.AsSpan());
        }
        // mul_scalar: ∂x += s · ∂y
        TapeEntry? entry = tape?.Record("mul_scalar", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                TensorPrimitives.MultiplyAdd(dy.AsSpan(), e.Scalar, sink.AsSpan(), sink.AsSpan());
            }
        }, this);
        entry?.Scalar = s;
        return result;
    }

    /// <summary><c>−x</c>.</summary>
    public Tensor Negate()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Negate(x.Span, result.AsSpan());
        }
        // neg: ∂x −= ∂y
        tape?.Record("neg", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                TensorPrimitives.Subtract(sink.AsSpan(), dy.AsSpan(), sink.AsSpan());
            }
        }, this);
        return result;
    }

    /// <summary>Elementwise <c>eˣ</c>.</summary>
    public Tensor Exp()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Exp(x.Span, result.AsSpan());
        }
        // exp: ∂x += ∂y · y   (the result is its own derivative)
        tape?.Record("exp", result, static (e, dy) => e.AccumulateProduct(0, e.Output.AsSpan(), dy), this);
        return result;
    }
}
