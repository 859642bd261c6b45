namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Where Conv2d's backward adds its gradients: ∂x (N, C, H, W), ∂W (O, C·kh·kw) and ∂b (O), each an array and the
/// index of its first element, or null when that input needs no gradient.
/// </summary>
/// <param name="Input">∂x, or null.</param>
/// <param name="InputOffset">Index of ∂x's first element.</param>
/// <param name="Weight">∂W, or null.</param>
/// <param name="WeightOffset">Index of ∂W's first element.</param>
/// <param name="Bias">∂b, or null.</param>
/// <param name="BiasOffset">Index of ∂b's first element.</param>
internal readonly record struct ConvolutionSinks(
    float[]? Input, int InputOffset, float[]? Weight, int WeightOffset, float[]? Bias, int BiasOffset);
