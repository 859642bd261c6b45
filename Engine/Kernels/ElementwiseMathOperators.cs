using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

// The local-derivative operators of log, sqrt, abs, pow, clamp, maximum and minimum (their forwards are
// TensorPrimitives calls). Same pattern as ActivationOperators.cs: scalar definition first, then the three widths.

/// <summary><c>∂y / x</c>: log's backward (d ln x / dx = 1/x).</summary>
internal readonly struct LogBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => dy / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => dy / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => dy / x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) => dy / x;
}

/// <summary><c>∂y / (2y)</c> from the output <c>y = √x</c>: sqrt's backward (d√x/dx = 1/(2√x)).</summary>
internal readonly struct SqrtBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float dy) => dy / (2 * y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy / (y * 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy / (y * 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> dy) => dy / (y * 2);
}

/// <summary><c>∂y·sign(x)</c>, with sign(0) = 0 as in PyTorch: abs's backward.</summary>
internal readonly struct AbsBackwardOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x > 0 ? dy : x < 0 ? -dy : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy,
            Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -dy, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy,
            Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -dy, Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), dy,
            Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), -dy, Vector128<float>.Zero));
}

/// <summary>
/// <c>b·p</c>, or 0 where the exponent <c>b</c> is 0: the base gradient of <c>aᵇ</c>, given <c>p = a^(b−1)</c>.
/// The mask makes <c>d a⁰/da = 0</c> even at a = 0, where <c>0·0⁻¹ = 0·∞</c> would be NaN (as PyTorch does).
/// </summary>
internal readonly struct PowBaseGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float b, float p) => b == 0 ? 0 : b * p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> b, Vector512<float> p) =>
        Vector512.ConditionalSelect(Vector512.Equals(b, Vector512<float>.Zero), Vector512<float>.Zero, b * p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> b, Vector256<float> p) =>
        Vector256.ConditionalSelect(Vector256.Equals(b, Vector256<float>.Zero), Vector256<float>.Zero, b * p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> b, Vector128<float> p) =>
        Vector128.ConditionalSelect(Vector128.Equals(b, Vector128<float>.Zero), Vector128<float>.Zero, b * p);
}

/// <summary>
/// <c>y·ln a</c>, or 0 where <c>a = 0</c> and <c>y</c> is finite: the exponent gradient of <c>y = aᵇ</c>, given
/// <c>ln a</c>. At a = 0, y is 0 (b > 0), 1 (b = 0) or ∞ (b &lt; 0); PyTorch defines the gradient as 0 in the first
/// two cases (where y·ln a would be 0·(−∞) = NaN, or −∞) and leaves −∞ in the third. A finite y says b ≥ 0.
/// </summary>
internal readonly struct PowExponentGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float y, float lnA) => float.IsNegativeInfinity(lnA) && float.IsFinite(y) ? 0 : y * lnA;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> lnA) =>
        Vector512.ConditionalSelect(Vector512.IsNegativeInfinity(lnA) & Vector512.IsFinite(y), Vector512<float>.Zero, y * lnA);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> lnA) =>
        Vector256.ConditionalSelect(Vector256.IsNegativeInfinity(lnA) & Vector256.IsFinite(y), Vector256<float>.Zero, y * lnA);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> y, Vector128<float> lnA) =>
        Vector128.ConditionalSelect(Vector128.IsNegativeInfinity(lnA) & Vector128.IsFinite(y), Vector128<float>.Zero, y * lnA);
}

/// <summary>
/// <c>∂y where low ≤ x ≤ high, else 0</c>: clamp's backward. The bounds themselves pass the gradient, as in PyTorch;
/// a missing bound is ±∞.
/// </summary>
internal readonly struct ClampBackwardOperator(float low, float high) : IBinaryOperator
{
    private readonly float _low = low;
    private readonly float _high = high;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => x >= _low && x <= _high ? dy : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        Vector512.ConditionalSelect(
            Vector512.GreaterThanOrEqual(x, Vector512.Create(_low)) & Vector512.LessThanOrEqual(x, Vector512.Create(_high)),
            dy, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        Vector256.ConditionalSelect(
            Vector256.GreaterThanOrEqual(x, Vector256.Create(_low)) & Vector256.LessThanOrEqual(x, Vector256.Create(_high)),
            dy, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        Vector128.ConditionalSelect(
            Vector128.GreaterThanOrEqual(x, Vector128.Create(_low)) & Vector128.LessThanOrEqual(x, Vector128.Create(_high)),
            dy, Vector128<float>.Zero);
}

/// <summary>
/// <c>1 where x > y, ½ where x = y, 0 elsewhere</c>: ∂max(x, y)/∂x, with a tie's gradient split evenly between the
/// two inputs (PyTorch's rule). ∂min(x, y)/∂x is the same operator with the arguments swapped.
/// </summary>
internal readonly struct MaximumShareOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float y) => x > y ? 1 : x == y ? 0.5f : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, y), Vector512<float>.One,
            Vector512.ConditionalSelect(Vector512.Equals(x, y), Vector512.Create(0.5f), Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, y), Vector256<float>.One,
            Vector256.ConditionalSelect(Vector256.Equals(x, y), Vector256.Create(0.5f), Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(x, y), Vector128<float>.One,
            Vector128.ConditionalSelect(Vector128.Equals(x, y), Vector128.Create(0.5f), Vector128<float>.Zero));
}
