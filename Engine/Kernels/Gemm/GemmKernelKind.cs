namespace NeuralCore.Engine.Kernels;

/// <summary>Which micro-kernel <see cref="Gemm"/> runs: picked once at start-up, overridable by tests.</summary>
internal enum GemmKernelKind
{
    /// <summary><see cref="GemmMicroKernelScalar"/>: no hardware intrinsics.</summary>
    Scalar,

    /// <summary><see cref="GemmMicroKernel128"/>: SSE or NEON.</summary>
    Vector128,

    /// <summary><see cref="GemmMicroKernel256"/>: AVX2 with FMA.</summary>
    Vector256,

    /// <summary><see cref="GemmMicroKernel512"/>: AVX-512.</summary>
    Vector512,
}
