namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The scalar reference twin of <see cref="Gemm"/>: the textbook triple loop, summing in double precision, with the
/// same signature, the same argument checks and the same epilogue. Tests compare the fast kernel against it.
/// </summary>
public static class GemmReference
{
    /// <summary>
    /// <c>C = act((alpha·op(A)·op(B) + beta·C)·scale + bias)</c>, with every element computed in double and rounded to
    /// float once, and <see cref="GemmEpilogue.ColumnSquaresOfB"/> in double. Arguments as in <see cref="Gemm.Multiply"/>.
    /// </summary>
    /// <param name="transA">Whether A is stored transposed, (k, m).</param>
    /// <param name="transB">Whether B is stored transposed, (n, k).</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Length of each sum.</param>
    /// <param name="alpha">Factor on the product.</param>
    /// <param name="a">A's elements.</param>
    /// <param name="aOffset">Index of A's first element.</param>
    /// <param name="lda">Distance between A's stored rows.</param>
    /// <param name="b">B's elements.</param>
    /// <param name="bOffset">Index of B's first element.</param>
    /// <param name="ldb">Distance between B's stored rows.</param>
    /// <param name="beta">Factor on C's previous contents; 0 ignores them.</param>
    /// <param name="c">C's elements.</param>
    /// <param name="cOffset">Index of C's first element.</param>
    /// <param name="ldc">Distance between C's rows.</param>
    /// <param name="epilogue">Per-column scale, bias and activation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Gemm.Multiply"/>.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc, in GemmEpilogue epilogue = default)
    {
        GemmChecks.Validate(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, epilogue);
        if (epilogue.ColumnSquaresOfB is { } squares && alpha != 0f && m > 0)
        {
            for (int j = 0; j < n; j++)
            {
                double sumOfSquares = 0;
                for (int p = 0; p < k; p++)
                {
                    double bpj = transB ? b[bOffset + (j * ldb) + p] : b[bOffset + (p * ldb) + j];
                    sumOfSquares += bpj * bpj;
                }
                squares[epilogue.ColumnSquaresOfBOffset + j] += (float)sumOfSquares;
            }
        }
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                if (alpha != 0f)
                {
                    for (int p = 0; p < k; p++)
                    {
                        float aip = transA ? a[aOffset + (p * lda) + i] : a[aOffset + (i * lda) + p];
                        float bpj = transB ? b[bOffset + (j * ldb) + p] : b[bOffset + (p * ldb) + j];
                        sum += (double)aip * bpj;
                    }
                }
                int ci = cOffset + (i * ldc) + j;
                double r = alpha * sum;
                if (beta != 0f)
                {
                    r += beta * (double)c[ci];
                }
                if (epilogue.ColumnScale is not null)
                {
                    r *= epilogue.ColumnScale[epilogue.ColumnScaleOffset + j];
                }
                if (epilogue.ColumnBias is not null)
                {
                    r += epilogue.ColumnBias[epilogue.ColumnBiasOffset + j];
                }
                if (epilogue.Activation == GemmActivation.Relu)
                {
                    r = Math.Max(r, 0);
                }
                c[ci] = (float)r;
            }
        }
    }
}
