using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Layers;

// Operator structs for the layers' kernels (batch norm, dropout) (the Engine's operator-struct pattern: a scalar definition and the
// same formula at each vector width; Elementwise.Map/ZipAccumulate run them, and its scalar loop is the twin
// that DOTNET_EnableHWIntrinsic=0 exercises).

/// <summary><c>y = a·x + b</c> with scalar a, b: one channel's normalize-and-affine step, <c>x·(γ/σ) + (β − μγ/σ)</c>.</summary>
internal readonly struct AffineOperator(float scale, float shift) : IUnaryOperator
{
    private readonly float _scale = scale;
    private readonly float _shift = shift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x) => MathF.FusedMultiplyAdd(x, _scale, _shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.FusedMultiplyAdd(x, Vector512.Create(_scale), Vector512.Create(_shift));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.FusedMultiplyAdd(x, Vector256.Create(_scale), Vector256.Create(_shift));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.FusedMultiplyAdd(x, Vector128.Create(_scale), Vector128.Create(_shift));
}

/// <summary>
/// Batch norm's input gradient for one channel, <c>k·∂y + p·(x − μ) + q</c>, with
/// <c>k = γ/σ</c>, <c>p = −(γ/σ³)·mean(∂y·(x − μ))</c>, <c>q = −(γ/σ)·mean(∂y)</c>: the formula
/// <c>∂x = (γ/σ)(∂y − mean(∂y) − x̂·mean(∂y·x̂))</c> with <c>x̂ = (x − μ)/σ</c> multiplied out. x is centred before
/// it is scaled, so a large mean does not cancel digits away.
/// </summary>
internal readonly struct BatchNormInputGradOperator(float k, float p, float mean, float q) : IBinaryOperator
{
    private readonly float _k = k;
    private readonly float _p = p;
    private readonly float _mean = mean;
    private readonly float _q = q;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float x, float dy) => (_k * dy) + ((_p * (x - _mean)) + _q);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) =>
        (Vector512.Create(_k) * dy) + ((Vector512.Create(_p) * (x - Vector512.Create(_mean))) + Vector512.Create(_q));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) =>
        (Vector256.Create(_k) * dy) + ((Vector256.Create(_p) * (x - Vector256.Create(_mean))) + Vector256.Create(_q));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> x, Vector128<float> dy) =>
        (Vector128.Create(_k) * dy) + ((Vector128.Create(_p) * (x - Vector128.Create(_mean))) + Vector128.Create(_q));
}

/// <summary>
/// Inverted dropout's mask from uniform draws u ∈ [0, 1): <c>scale = 1/(1 − p)</c> where u ≥ p (probability 1 − p),
/// 0 elsewhere, so that the expected output equals the input and evaluation needs no rescaling.
/// </summary>
internal readonly struct DropoutMaskOperator(float p, float scale) : IUnaryOperator
{
    private readonly float _p = p;
    private readonly float _scale = scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Invoke(float u) => u >= _p ? _scale : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Invoke(Vector512<float> u) =>
        Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(u, Vector512.Create(_p)), Vector512.Create(_scale), Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> u) =>
        Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(u, Vector256.Create(_p)), Vector256.Create(_scale), Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<float> Invoke(Vector128<float> u) =>
        Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(u, Vector128.Create(_p)), Vector128.Create(_scale), Vector128<float>.Zero);
}
