namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The arguments of one <see cref="Gemm.Multiply"/> call, already validated, bundled so the driver and the worker
/// threads can pass them around by reference. Element accessors absorb the transpositions: the packing routines
/// read <c>op(A)[i, p]</c> and <c>op(B)[p, j]</c> and never care how A and B are stored.
/// </summary>
internal readonly struct GemmProblem
{
    public GemmProblem(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc, in GemmEpilogue epilogue)
    {
        TransA = transA;
        TransB = transB;
        M = m;
        N = n;
        K = k;
        Alpha = alpha;
        A = a;
        AOffset = aOffset;
        Lda = lda;
        B = b;
        BOffset = bOffset;
        Ldb = ldb;
        Beta = beta;
        C = c;
        COffset = cOffset;
        Ldc = ldc;
        Epilogue = epilogue;
    }

    public bool TransA { get; }
    public bool TransB { get; }
    public int M { get; }
    public int N { get; }
    public int K { get; }
    public float Alpha { get; }
    public float[] A { get; }
    public int AOffset { get; }
    public int Lda { get; }
    public float[] B { get; }
    public int BOffset { get; }
    public int Ldb { get; }
    public float Beta { get; }
    public float[] C { get; }
    public int COffset { get; }
    public int Ldc { get; }
    public GemmEpilogue Epilogue { get; }

    /// <summary>Multiply-adds in the product, as a double so that 2048³ does not overflow.</summary>
    public double MultiplyAdds => (double)M * N * K;
}
