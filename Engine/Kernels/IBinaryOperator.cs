using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// An elementwise function of two arguments, <c>z = f(x, y)</c>, written once per vector width; see
/// <see cref="IUnaryOperator"/> for the pattern. Backward rules use it with <c>x</c> a saved value and
/// <c>y</c> the incoming gradient.
/// </summary>
internal interface IBinaryOperator
{
    /// <summary>The scalar definition.</summary>
    float Invoke(float x, float y);

    /// <summary>Sixteen lanes at once (AVX-512).</summary>
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);

    /// <summary>Eight lanes at once (AVX2).</summary>
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);

    /// <summary>Four lanes at once (SSE, NEON).</summary>
    Vector128<float> Invoke(Vector128<float> x, Vector128<float> y);
}
