using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// <c>x == y ? 1 : 0</c>: marks where an input equals its reduction's result (the arg-max positions in max's
/// backward). A vector compare gives all-one bits in equal lanes; and-ing with 1.0f keeps exactly 1.0f there.
/// </summary>
internal readonly struct EqualMaskOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float y) => x == y ? 1f : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Equals(x, y) & Vector512<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.Equals(x, y) & Vector256<float>.One;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => Vector128.Equals(x, y) & Vector128<float>.One;
}
