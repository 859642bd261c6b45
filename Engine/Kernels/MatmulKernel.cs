using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The reference matrix product <c>C = alpha·op(A)·op(B) + beta·C</c> (BLAS sgemm, row-major), simple enough to
/// read in one sitting. It has the signature of the packed, cache-blocked <c>Gemm.Multiply</c> (minus the
/// epilogue), so <see cref="Tensor.Matmul(Tensor)"/> can switch to that kernel by changing one call.
/// </summary>
/// <remarks>
/// <para>
/// Layout: op(A) is m×k, op(B) is k×n, C is m×n, all row-major with leading dimensions (row strides) lda, ldb, ldc.
/// Element (i, p) of op(A) is <c>a[aOffset + i·lda + p]</c>, or <c>a[aOffset + p·lda + i]</c> when
/// <c>transA</c> (A is then stored k×m); likewise for B.
/// </para>
/// <para>
/// Loop order. With B not transposed, row i of C is a sum of rows of B: <c>C[i,:] += alpha·A[i,p]·B[p,:]</c>
/// (the i-p-j order), so the innermost loop is one vectorized multiply-add over two contiguous rows, whatever
/// transA is. With B transposed, column j of op(B) is row j of the stored B, so <c>C[i,j]</c> is a dot product of
/// two contiguous rows when A is not transposed. The remaining form (both transposed) reads A with a stride; no op
/// in the engine uses it, and it is kept scalar and short.
/// </para>
/// <para>
/// Like BLAS, <c>beta = 0</c> means C is write-only: its old contents (even NaN) are ignored. C must not overlap A or B.
/// </para>
/// </remarks>
internal static class MatmulKernel
{
    /// <summary><c>C(m×n) = alpha·op(A)(m×k)·op(B)(k×n) + beta·C</c>, row-major.</summary>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is smaller than its row, or an array is too short.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentException($"MatmulKernel.Multiply: sizes m = {m}, n = {n}, k = {k}; expected non-negative sizes.");
        }
        if (m == 0 || n == 0)
        {
            return; // C is empty: nothing to write.
        }
        CheckMatrix("C", m, n, c, cOffset, ldc);
        if (k > 0)
        {
            // A is stored m×k, or k×m when transposed; B is stored k×n, or n×k.
            CheckMatrix("A", transA ? k : m, transA ? m : k, a, aOffset, lda);
            CheckMatrix("B", transB ? n : k, transB ? k : n, b, bOffset, ldb);
        }

        for (int i = 0; i < m; i++)
        {
            Span<float> cRow = c.AsSpan(cOffset + i * ldc, n);
            ScaleRow(cRow, beta);
            if (k == 0 || alpha == 0)
            {
                continue;
            }
            if (!transB)
            {
                // C[i,:] += (alpha·A[i,p])·B[p,:] for each p: a row of B scaled into the row of C.
                for (int p = 0; p < k; p++)
                {
                    float aip = alpha * (transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p]);
                    ReadOnlySpan<float> bRow = b.AsSpan(bOffset + p * ldb, n);
                    TensorPrimitives.MultiplyAdd(bRow, aip, cRow, cRow);
                }
            }
            else if (!transA)
            {
                // C[i,j] += alpha·(A[i,:] · B[j,:]): both rows are contiguous (B is stored n×k).
                ReadOnlySpan<float> aRow = a.AsSpan(aOffset + i * lda, k);
                for (int j = 0; j < n; j++)
                {
                    cRow[j] += alpha * TensorPrimitives.Dot(aRow, b.AsSpan(bOffset + j * ldb, k));
                }
            }
            else
            {
                // Both transposed: column i of the stored A is strided, so a plain scalar dot.
                for (int j = 0; j < n; j++)
                {
                    ReadOnlySpan<float> bRow = b.AsSpan(bOffset + j * ldb, k);
                    float sum = 0f;
                    for (int p = 0; p < k; p++)
                    {
                        sum += a[aOffset + p * lda + i] * bRow[p];
                    }
                    cRow[j] += alpha * sum;
                }
            }
        }
    }

    private static void ScaleRow(Span<float> row, float beta)
    {
        if (beta == 0)
        {
            row.Clear(); // not 0·C: stale NaN or ∞ in a write-only C must not leak into the result.
        }
        else if (beta != 1)
        {
            TensorPrimitives.Multiply(row, beta, row);
        }
    }

    // A stored rows×cols matrix at offset with row stride ld must fit in the array: checked once per call so the
    // loops above cannot run off the end half-way through writing C.
    private static void CheckMatrix(string name, int rows, int cols, float[] array, int offset, int ld)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentException(
                $"MatmulKernel.Multiply: {name} is stored {rows}×{cols} with leading dimension {ld}; expected at least {Math.Max(1, cols)}.");
        }
        long end = offset + (long)(rows - 1) * ld + cols;
        if (offset < 0 || end > array.Length)
        {
            throw new ArgumentException(
                $"MatmulKernel.Multiply: {name} ({rows}×{cols}, leading dimension {ld}) at offset {offset} needs {end} elements; its array has {array.Length}.");
        }
    }
}
