using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

// The activations TensorPrimitives lacks (leaky relu, elu, softplus), and the "local derivative times ∂y" operators
// of every activation's backward rule. Each struct is one function written four times: the scalar definition
// (the reference the tests hold the vector forms to), then 512-, 256- and 128-bit lanes. Backward operators are
// IBinaryOperator with x = the saved input (or output) and y = ∂y, run by Elementwise.ZipAccumulate.
// Branches become masks: compute both sides, then ConditionalSelect, so a lane never takes a jump.

/// <summary><c>∂y where x > 0, else 0</c>: relu's backward.</summary>
internal readonly struct ReluBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0 ? dy : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy, Vector128<float>.Zero);
}

/// <summary><c>x where x > 0, slope·x elsewhere</c> (PyTorch's <c>leaky_relu</c>; NaN stays NaN).</summary>
internal readonly struct LeakyReluOperator(float slope) : IUnaryOperator
{
    private readonly float _slope = slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => x > 0 ? x : _slope * x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * _slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * _slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, x * _slope);
}

/// <summary><c>∂y where x > 0, slope·∂y elsewhere</c>: leaky relu's backward.</summary>
internal readonly struct LeakyReluBackwardOperator(float slope) : IBinaryOperator
{
    private readonly float _slope = slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0 ? dy : _slope * dy;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, dy * _slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * _slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy, dy * _slope);
}

/// <summary>
/// <c>x where x > 0, α·(eˣ − 1) elsewhere</c> (PyTorch's <c>elu</c>). Near 0⁻ the subtraction cancels, leaving an
/// absolute error of about α·6e-8 (one rounding of eˣ near 1); PyTorch's expm1 is exact there, which the tests allow for.
/// </summary>
internal readonly struct EluOperator(float alpha) : IUnaryOperator
{
    private readonly float _alpha = alpha;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => x > 0 ? x : _alpha * (MathF.Exp(x) - 1);

    // For large x the discarded lane's eˣ overflows to ∞; ConditionalSelect drops it, so nothing leaks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, (Vector512.Exp(x) - Vector512<float>.One) * _alpha);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, (Vector256.Exp(x) - Vector256<float>.One) * _alpha);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, (Vector128.Exp(x) - Vector128<float>.One) * _alpha);
}

/// <summary>
/// <c>∂y where x > 0, ∂y·α·eˣ elsewhere</c>: elu's backward. It branches on the input, not the output, so it is right
/// for any α (for α ≥ 0, α·eˣ = y + α, the form in <see cref="Autodiff.Derivatives"/>).
/// </summary>
internal readonly struct EluBackwardOperator(float alpha) : IBinaryOperator
{
    private readonly float _alpha = alpha;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0 ? dy : dy * _alpha * MathF.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, dy * _alpha * Vector512.Exp(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * _alpha * Vector256.Exp(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy, dy * _alpha * Vector128.Exp(x));
}

/// <summary>
/// <c>softplus(x) = ln(1 + e^(βx)) / β</c>, and <c>x</c> itself where <c>βx > threshold</c> (PyTorch's semantics).
/// </summary>
/// <remarks>
/// Written as <c>max(z, 0) + ln(1 + e^(−|z|))</c> with <c>z = βx</c> (the same value: factor out <c>e^z</c> when z > 0),
/// so <c>e^(−|z|)</c> never overflows. And <c>ln(1 + e)</c> for small <c>e</c> uses Goldberg's trick,
/// <c>ln(u)·e/(u − 1)</c> with <c>u = 1 + e</c>: dividing by the rounded <c>u − 1</c> cancels the error that rounding
/// <c>1 + e</c> made, so softplus(−30) is 9.4e-14 rather than 0 (and <c>e</c> itself when <c>1 + e</c> rounds to 1).
/// </remarks>
internal readonly struct SoftplusOperator(float beta, float threshold) : IUnaryOperator
{
    private readonly float _beta = beta;
    private readonly float _threshold = threshold;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x)
    {
        float z = _beta * x;
        if (z > _threshold)
        {
            return x;
        }
        float e = MathF.Exp(-MathF.Abs(z));
        float u = 1 + e;
        float log1p = u - 1 == 0 ? e : MathF.Log(u) * (e / (u - 1));
        return (MathF.Max(z, 0) + log1p) / _beta;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x)
    {
        Vector512<float> z = x * _beta;
        Vector512<float> e = Vector512.Exp(-Vector512.Abs(z));
        Vector512<float> u = Vector512<float>.One + e;
        Vector512<float> d = u - Vector512<float>.One;
        Vector512<float> log1p = Vector512.ConditionalSelect(Vector512.Equals(d, Vector512<float>.Zero), e, Vector512.Log(u) * (e / d));
        Vector512<float> softplus = (Vector512.Max(z, Vector512<float>.Zero) + log1p) / _beta;
        return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(_threshold)), x, softplus);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> z = x * _beta;
        Vector256<float> e = Vector256.Exp(-Vector256.Abs(z));
        Vector256<float> u = Vector256<float>.One + e;
        Vector256<float> d = u - Vector256<float>.One;
        Vector256<float> log1p = Vector256.ConditionalSelect(Vector256.Equals(d, Vector256<float>.Zero), e, Vector256.Log(u) * (e / d));
        Vector256<float> softplus = (Vector256.Max(z, Vector256<float>.Zero) + log1p) / _beta;
        return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(_threshold)), x, softplus);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x)
    {
        Vector128<float> z = x * _beta;
        Vector128<float> e = Vector128.Exp(-Vector128.Abs(z));
        Vector128<float> u = Vector128<float>.One + e;
        Vector128<float> d = u - Vector128<float>.One;
        Vector128<float> log1p = Vector128.ConditionalSelect(Vector128.Equals(d, Vector128<float>.Zero), e, Vector128.Log(u) * (e / d));
        Vector128<float> softplus = (Vector128.Max(z, Vector128<float>.Zero) + log1p) / _beta;
        return Vector128.ConditionalSelect(Vector128.GreaterThan(z, Vector128.Create(_threshold)), x, softplus);
    }
}

/// <summary>
/// <c>∂y·sigmoid(βx)</c>, and <c>∂y</c> where <c>βx > threshold</c> (there the forward returned x): softplus's backward.
/// <c>sigmoid(z) = 1/(1 + e^(−z))</c> is safe at both ends: e^(−z) → ∞ gives 0, → 0 gives 1.
/// </summary>
internal readonly struct SoftplusBackwardOperator(float beta, float threshold) : IBinaryOperator
{
    private readonly float _beta = beta;
    private readonly float _threshold = threshold;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy)
    {
        float z = _beta * x;
        return z > _threshold ? dy : dy / (1 + MathF.Exp(-z));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy)
    {
        Vector512<float> z = x * _beta;
        return Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512.Create(_threshold)), dy, dy / (Vector512<float>.One + Vector512.Exp(-z)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy)
    {
        Vector256<float> z = x * _beta;
        return Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256.Create(_threshold)), dy, dy / (Vector256<float>.One + Vector256.Exp(-z)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy)
    {
        Vector128<float> z = x * _beta;
        return Vector128.ConditionalSelect(Vector128.GreaterThan(z, Vector128.Create(_threshold)), dy, dy / (Vector128<float>.One + Vector128.Exp(-z)));
    }
}

/// <summary><c>∂y·y·(1 − y)</c> from the output <c>y = sigmoid(x)</c>: sigmoid's backward.</summary>
internal readonly struct SigmoidBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float dy) => dy * y * (1 - y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy) => dy * y * (Vector128<float>.One - y);
}

/// <summary><c>∂y·(1 − y²)</c> from the output <c>y = tanh(x)</c>: tanh's backward.</summary>
internal readonly struct TanhBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float dy) => dy * (1 - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy) => dy * (Vector128<float>.One - y * y);
}
