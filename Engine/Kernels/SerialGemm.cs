namespace NeuralCore.Engine.Kernels;

/// <summary>
/// <see cref="Gemm.Multiply"/> on the calling thread only, whatever <see cref="Gemm.MaxThreads"/> says: for callers
/// that already split their work across threads (convolution runs one image per thread) and would only lose by
/// splitting each small product again.
/// </summary>
internal static class SerialGemm
{
    /// <summary><c>C = alpha·op(A)·op(B) + beta·C</c> on this thread; arguments as for <see cref="Gemm.Multiply"/>.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) =>
        Gemm.MultiplyWithThreads(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, default, maxThreads: 1);
}
