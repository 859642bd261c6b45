using System.Numerics.Tensors;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// Elementwise math and activations. Each op: the forward, then its backward rule right below it.
// Forwards call TensorPrimitives where it has the function and run a hand-written operator struct
// (Kernels/ActivationOperators.cs) where it does not. Backward rules run a "local derivative times ∂y" operator
// through Elementwise.ZipAccumulate, in one pass into the input's gradient: for a one-input op the input has the
// output's shape, so nothing needs summing back. Two-input ops (pow_tensor, maximum, minimum) broadcast and go
// through TapeEntry.AccumulateProduct instead. Values outside an op's domain (log of a negative) give NaN, not an
// exception, as in PyTorch: they are data, not arguments.
public sealed partial class Tensor
{
    /// <summary>Elementwise natural logarithm <c>ln x</c> (NaN below 0, −∞ at 0). Differentiable.</summary>
    public Tensor Log()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Log(x.Span, result.AsSpan());
        }
        // log: ∂x += ∂y / x
        tape?.Record("log", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new LogBackwardOperator());
        }, this);
        return result;
    }

    /// <summary>Elementwise square root <c>√x</c> (NaN below 0). Differentiable (the gradient is ∞ at 0).</summary>
    public Tensor Sqrt()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Sqrt(x.Span, result.AsSpan());
        }
        // sqrt: ∂x += ∂y / (2y)   (d√x/dx = 1/(2√x), and √x is the result we already have)
        tape?.Record("sqrt", result, static (e, dy) => AccumulateUnary(e, e.Output.AsSpan(), dy, new SqrtBackwardOperator()), this);
        return result;
    }

    /// <summary>Elementwise absolute value <c>|x|</c>. Differentiable; the gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Abs()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Abs(x.Span, result.AsSpan());
        }
        // abs: ∂x += ∂y · sign(x)   (0 at x = 0)
        tape?.Record("abs", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new AbsBackwardOperator());
        }, this);
        return result;
    }

    /// <summary>
    /// Elementwise power <c>xᵖ</c> with a scalar exponent (<c>torch.pow(x, p)</c>); a negative base gives NaN unless
    /// <paramref name="exponent"/> is an integer. Differentiable in x; for p = 0 the gradient is 0 everywhere.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="exponent"/> is NaN.</exception>
    public Tensor Pow(float exponent)
    {
        CheckNotNaN(exponent, "Pow", "the exponent");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Pow(x.Span, exponent, result.AsSpan());
        }
        // pow: ∂x += ∂y · p·x^(p−1)
        TapeEntry? entry = tape?.Record("pow", result, static (e, dy) =>
        {
            float p = e.Scalar;
            if (p == 0)
            {
                // x⁰ = 1 is constant: the gradient is zero (the sink is created, so x.Grad reads 0 as in PyTorch),
                // not p·x^(p−1), which is 0·∞ = NaN at x = 0.
                _ = e.GradSink(0);
                return;
            }
            using Scratch x = e.Input(0).Read();
            using Scratch local = Scratch.Rent(dy.Count);
            TensorPrimitives.Pow(x.Span, p - 1, local.Span);
            TensorPrimitives.Multiply(local.Span, p, local.Span);
            e.AccumulateProduct(0, local.Span, dy);
        }, this);
        entry?.Scalar = exponent;
        return result;
    }

    /// <summary>
    /// Elementwise power <c>aᵇ</c> with a tensor exponent and broadcasting (<c>torch.pow(a, b)</c>). Differentiable in
    /// both; the exponent's gradient <c>y·ln a</c> is NaN for a negative base, and 0 at a = 0 when b ≥ 0 (PyTorch's rule).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Pow(Tensor exponent)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, exponent.ShapeArray, "Pow");
        Tape? tape = Tape.ForInputs(this, exponent);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = exponent.ReadAs(shape))
        {
            TensorPrimitives.Pow(a.Span, b.Span, result.AsSpan());
        }
        // pow_tensor: ∂a += ∂y · b·a^(b−1), ∂b += ∂y · y·ln a   (aᵇ = e^(b ln a))
        tape?.Record("pow_tensor", result, static (e, dy) =>
        {
            using Scratch a = e.Input(0).ReadAs(dy.ShapeArray);
            using Scratch local = Scratch.Rent(dy.Count);
            if (e.NeedsGrad(0))
            {
                using Scratch b = e.Input(1).ReadAs(dy.ShapeArray);
                TensorPrimitives.Subtract(b.Span, 1f, local.Span);
                TensorPrimitives.Pow(a.Span, local.Span, local.Span);
                Elementwise.Zip<PowBaseGradientOperator>(b.Span, local.Span, local.Span);
                e.AccumulateProduct(0, local.Span, dy);
            }
            if (e.NeedsGrad(1))
            {
                TensorPrimitives.Log(a.Span, local.Span);
                Elementwise.Zip<PowExponentGradientOperator>(e.Output.AsSpan(), local.Span, local.Span);
                e.AccumulateProduct(1, local.Span, dy);
            }
        }, this, exponent);
        return result;
    }

    /// <summary>
    /// Limits every element to [<paramref name="min"/>, <paramref name="max"/>] (<c>torch.clamp</c>); either bound may be
    /// omitted. Differentiable: the gradient passes where min ≤ x ≤ max (bounds included), 0 elsewhere. NaN stays NaN.
    /// </summary>
    /// <exception cref="ArgumentException">Both bounds are missing, a bound is NaN, or min > max.</exception>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        if (min is null && max is null)
        {
            throw new ArgumentException($"Clamp: neither min nor max was given for the tensor of shape {ShapeText}; expected at least one bound.");
        }
        float low = min ?? float.NegativeInfinity;
        float high = max ?? float.PositiveInfinity;
        CheckNotNaN(low, "Clamp", "min");
        CheckNotNaN(high, "Clamp", "max");
        if (low > high)
        {
            throw new ArgumentException($"Clamp: min {low} is greater than max {high}; expected min ≤ max.");
        }
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Clamp(x.Span, low, high, result.AsSpan());
        }
        // clamp: ∂x += ∂y where low ≤ x ≤ high, else 0
        TapeEntry? entry = tape?.Record("clamp", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new ClampBackwardOperator(e.Scalar, e.Scalar2));
        }, this);
        entry?.Scalar = low;
        entry?.Scalar2 = high;
        return result;
    }

    /// <summary>
    /// Elementwise maximum of two tensors with broadcasting (<c>torch.maximum</c>; NaN if either is NaN).
    /// Differentiable in both: the gradient goes to the larger input, split half and half on ties.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Maximum(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Maximum");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Max(a.Span, b.Span, result.AsSpan());
        }
        // maximum: ∂a += ∂y where a > b, ∂y/2 where a = b; ∂b likewise with the roles swapped
        tape?.Record("maximum", result, static (e, dy) => AccumulateWinnerShares(e, dy, winnerIsLarger: true), this, other);
        return result;
    }

    /// <summary>
    /// Elementwise minimum of two tensors with broadcasting (<c>torch.minimum</c>; NaN if either is NaN).
    /// Differentiable in both: the gradient goes to the smaller input, split half and half on ties.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Minimum(Tensor other)
    {
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, "Minimum");
        Tape? tape = Tape.ForInputs(this, other);
        Tensor result = NewResult(tape, shape);
        using (Scratch a = ReadAs(shape))
        using (Scratch b = other.ReadAs(shape))
        {
            TensorPrimitives.Min(a.Span, b.Span, result.AsSpan());
        }
        // minimum: ∂a += ∂y where a < b, ∂y/2 where a = b; ∂b likewise with the roles swapped
        tape?.Record("minimum", result, static (e, dy) => AccumulateWinnerShares(e, dy, winnerIsLarger: false), this, other);
        return result;
    }

    // The shared backward of maximum and minimum. ∂min(a, b)/∂a is 1 where b > a: the maximum's share with a and b
    // swapped. Shares are computed in the output's shape; AccumulateProduct sums them back over broadcast axes.
    private static void AccumulateWinnerShares(TapeEntry e, Tensor dy, bool winnerIsLarger)
    {
        using Scratch a = e.Input(0).ReadAs(dy.ShapeArray);
        using Scratch b = e.Input(1).ReadAs(dy.ShapeArray);
        using Scratch share = Scratch.Rent(dy.Count);
        if (e.NeedsGrad(0))
        {
            Elementwise.Zip<MaximumShareOperator>(winnerIsLarger ? a.Span : b.Span, winnerIsLarger ? b.Span : a.Span, share.Span);
            e.AccumulateProduct(0, share.Span, dy);
        }
        if (e.NeedsGrad(1))
        {
            Elementwise.Zip<MaximumShareOperator>(winnerIsLarger ? b.Span : a.Span, winnerIsLarger ? a.Span : b.Span, share.Span);
            e.AccumulateProduct(1, share.Span, dy);
        }
    }

    /// <summary>Elementwise <c>max(x, 0)</c> (NaN stays NaN). Differentiable; the gradient at 0 is 0, as in PyTorch.</summary>
    public Tensor Relu()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        if (IsContiguous)
        {
            ReluPass.Forward(Buffer, _offset, result.Buffer, result._offset, Count); // across the cores when large
        }
        else
        {
            using Scratch x = Read();
            TensorPrimitives.Max(x.Span, 0f, result.AsSpan());
        }
        // relu: ∂x += ∂y where x > 0 (stored rather than added when it is the first contribution)
        tape?.Record("relu", result, static (e, dy) =>
        {
            Tensor input = e.Input(0);
            if (input.IsContiguous && dy.IsContiguous)
            {
                Tensor? sink = e.GradSinkToOverwrite(0, out bool overwrite);
                if (sink is not null)
                {
                    ReluPass.Backward(input.Buffer, input._offset, dy.Buffer, dy._offset, sink.Buffer, sink._offset, input.Count, overwrite);
                }
                return;
            }
            using Scratch x = input.Read();
            AccumulateUnary(e, x.Span, dy, new ReluBackwardOperator());
        }, this);
        return result;
    }

    /// <summary>
    /// Elementwise <c>x</c> where x > 0, <c>slope·x</c> elsewhere (<c>torch.nn.functional.leaky_relu</c>).
    /// Differentiable; the gradient at 0 is the slope, as in PyTorch.
    /// </summary>
    /// <param name="negativeSlope">The slope for x ≤ 0; PyTorch's default is 0.01.</param>
    /// <exception cref="ArgumentException"><paramref name="negativeSlope"/> is NaN or infinite.</exception>
    public Tensor LeakyRelu(float negativeSlope = 0.01f)
    {
        CheckFinite(negativeSlope, "LeakyRelu", "negativeSlope");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            Elementwise.Map(x.Span, result.AsSpan(), new LeakyReluOperator(negativeSlope));
        }
        // leaky_relu: ∂x += ∂y where x > 0, slope·∂y elsewhere
        TapeEntry? entry = tape?.Record("leaky_relu", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new LeakyReluBackwardOperator(e.Scalar));
        }, this);
        entry?.Scalar = negativeSlope;
        return result;
    }

    /// <summary>
    /// Elementwise exponential linear unit: <c>x</c> where x > 0, <c>α·(eˣ − 1)</c> elsewhere
    /// (<c>torch.nn.functional.elu</c>). Differentiable.
    /// </summary>
    /// <param name="alpha">The value the negative side saturates to is −α; PyTorch's default is 1.</param>
    /// <exception cref="ArgumentException"><paramref name="alpha"/> is NaN or infinite.</exception>
    public Tensor Elu(float alpha = 1f)
    {
        CheckFinite(alpha, "Elu", "alpha");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            Elementwise.Map(x.Span, result.AsSpan(), new EluOperator(alpha));
        }
        // elu: ∂x += ∂y where x > 0, ∂y·α·eˣ (= ∂y·(y + α)) elsewhere
        TapeEntry? entry = tape?.Record("elu", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new EluBackwardOperator(e.Scalar));
        }, this);
        entry?.Scalar = alpha;
        return result;
    }

    /// <summary>Elementwise logistic function <c>1 / (1 + e⁻ˣ)</c>. Differentiable.</summary>
    public Tensor Sigmoid()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Sigmoid(x.Span, result.AsSpan());
        }
        // sigmoid: ∂x += ∂y · y(1 − y)
        tape?.Record("sigmoid", result, static (e, dy) => AccumulateUnary(e, e.Output.AsSpan(), dy, new SigmoidBackwardOperator()), this);
        return result;
    }

    /// <summary>Elementwise hyperbolic tangent. Differentiable.</summary>
    public Tensor Tanh()
    {
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            TensorPrimitives.Tanh(x.Span, result.AsSpan());
        }
        // tanh: ∂x += ∂y · (1 − y²)
        tape?.Record("tanh", result, static (e, dy) => AccumulateUnary(e, e.Output.AsSpan(), dy, new TanhBackwardOperator()), this);
        return result;
    }

    /// <summary>
    /// Elementwise <c>ln(1 + e^(βx)) / β</c>, a smooth relu (<c>torch.nn.functional.softplus</c>): returns x itself where
    /// <c>βx > threshold</c>. Accurate for large |x| in both directions. Differentiable.
    /// </summary>
    /// <param name="beta">Sharpness β; PyTorch's default is 1.</param>
    /// <param name="threshold">Above this value of βx the result is x; PyTorch's default is 20.</param>
    /// <exception cref="ArgumentException"><paramref name="beta"/> is not a positive finite number, or <paramref name="threshold"/> is NaN.</exception>
    public Tensor Softplus(float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0) || !float.IsFinite(beta))
        {
            throw new ArgumentException($"Softplus: beta is {beta}; expected a positive finite number.");
        }
        CheckNotNaN(threshold, "Softplus", "threshold");
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, ShapeArray);
        using (Scratch x = Read())
        {
            Elementwise.Map(x.Span, result.AsSpan(), new SoftplusOperator(beta, threshold));
        }
        // softplus: ∂x += ∂y · sigmoid(βx), or ∂y where βx > threshold (d/dz ln(1 + eᶻ) = eᶻ/(1 + eᶻ))
        TapeEntry? entry = tape?.Record("softplus", result, static (e, dy) =>
        {
            using Scratch x = e.Input(0).Read();
            AccumulateUnary(e, x.Span, dy, new SoftplusBackwardOperator(e.Scalar, e.Scalar2));
        }, this);
        entry?.Scalar = beta;
        entry?.Scalar2 = threshold;
        return result;
    }

    // ∂x += op(saved, ∂y) in one pass, for one-input ops: the input has the output's shape, so there is no broadcast
    // to undo. `saved` is the input x or the output y, contiguous, whichever the operator's formula is written in.
    private static void AccumulateUnary<TOp>(TapeEntry e, ReadOnlySpan<float> saved, Tensor dy, TOp op)
        where TOp : struct, IBinaryOperator
    {
        Tensor? sink = e.GradSink(0);
        if (sink is not null)
        {
            Elementwise.ZipAccumulate(saved, dy.AsSpan(), sink.AsSpan(), op);
        }
    }

    private static void CheckFinite(float value, string op, string name)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentException($"{op}: {name} is {value}; expected a finite number.");
        }
    }
}
