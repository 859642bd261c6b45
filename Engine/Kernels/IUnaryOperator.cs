using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// An elementwise function <c>y = f(x)</c> written once per vector width, so that <see cref="Elementwise.Map{TOp}"/>
/// can run it at the widest width the CPU has. Implementations are small structs (fields hold parameters such as a slope): the JIT specializes the
/// driver for each one, so there is no virtual call in the loop (the TensorPrimitives pattern).
/// </summary>
internal interface IUnaryOperator
{
    /// <summary>The scalar definition: the reference the vector forms must agree with.</summary>
    float Invoke(float x);

    /// <summary>Sixteen lanes at once (AVX-512).</summary>
    Vector512<float> Invoke(Vector512<float> x);

    /// <summary>Eight lanes at once (AVX2).</summary>
    Vector256<float> Invoke(Vector256<float> x);

    /// <summary>Four lanes at once (SSE, NEON).</summary>
    Vector128<float> Invoke(Vector128<float> x);
}
