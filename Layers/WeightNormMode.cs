namespace NeuralCore.Layers;

/// <summary>How a weight-normalized layer computes its output (both give the same values and gradients).</summary>
public enum WeightNormMode
{
    /// <summary>
    /// The paper's "scale after the matmul": <c>u = x·Vᵀ</c>, then <c>y = u·diag(g/‖v‖) + b</c>, with the hand-written
    /// backward of DESIGN.md; <c>w</c> is never built. Used for <c>dim = 0</c> and <c>dim = null</c>; other dims fall
    /// back to <see cref="Unfused"/>.
    /// </summary>
    Fused,

    /// <summary>
    /// The reference path: <c>w = g·v/‖v‖</c> built from ordinary tape ops (pow, sum, sqrt, div, mul), then the plain
    /// layer. Slower; kept as the baseline the fused path is tested and benchmarked against.
    /// </summary>
    Unfused,
}
