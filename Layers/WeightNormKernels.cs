using NeuralCore.Engine.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Layers;

/// <summary>
/// The span kernels behind <see cref="Linear"/> and the fused weight norm (no tape, no allocation): the one GEMM call,
/// the scale-and-bias pass that stands where the GEMM epilogue will go, the row norms of <c>v</c>, and the per-column
/// reductions of the fused backward. They see a weight as a matrix (out, rowLength): a Linear weight (out, in) as is,
/// a Conv2d weight (out, in, kh, kw) as (out, in·kh·kw), so one norm per output unit or channel is one row.
/// </summary>
internal static class WeightNormKernels
{
    /// <summary>
    /// <c>C(m×n) = op(A)(m×k)·op(B)(k×n) + beta·C</c>, row-major (BLAS sgemm with alpha = 1), then the optional
    /// per-column epilogue while each tile is in registers. Every product in Linear and the fused weight norm goes
    /// through here, on the packed <see cref="Engine.Kernels.Gemm"/>.
    /// </summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc,
        in GemmEpilogue epilogue = default) =>
        Engine.Kernels.Gemm.Multiply(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, epilogue);

    /// <summary>
    /// <c>y[n, j] = u[n, j]·scale[j] + bias[j]</c> for every row n of a (rows, cols) matrix. The fused weight norm keeps
    /// this as its own pass rather than the GEMM epilogue because backward needs the unscaled <c>u</c> for ∂g
    /// (DESIGN.md); a layer without a tape could use <c>GemmEpilogue { ColumnScale = scale, ColumnBias = bias }</c>. An empty <paramref name="scale"/> means 1, an
    /// empty <paramref name="bias"/> means 0. <paramref name="u"/> and <paramref name="y"/> may be the same memory.
    /// </summary>
    public static void ScaleBiasEpilogue(ReadOnlySpan<float> u, Span<float> y, int rows, int cols,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> bias)
    {
        for (int n = 0; n < rows; n++)
        {
            ReadOnlySpan<float> uRow = u.Slice(n * cols, cols);
            Span<float> yRow = y.Slice(n * cols, cols);
            if (!scale.IsEmpty && !bias.IsEmpty)
            {
                TensorPrimitives.MultiplyAdd(uRow, scale, bias, yRow); // DESIGN "Fused forward": y = u·diag(s) + b
            }
            else if (!scale.IsEmpty)
            {
                TensorPrimitives.Multiply(uRow, scale, yRow);
            }
            else if (!bias.IsEmpty)
            {
                TensorPrimitives.Add(uRow, bias, yRow);
            }
            else if (!uRow.Overlaps(yRow))
            {
                uRow.CopyTo(yRow);
            }
        }
    }

    /// <summary>
    /// The row norms <c>‖v_i‖</c> and the scales <c>s_i = g_i/‖v_i‖</c> of the fused forward (DESIGN.md "Fused forward"),
    /// computed once per forward by a pass over v; with one group a single <c>g</c> serves every row.
    /// </summary>
    public static void NormsAndScales(ReadOnlySpan<float> v, ReadOnlySpan<float> g, int rows, int rowLength, int groups,
        Span<float> rowNorms, Span<float> scale)
    {
        SquaredRowNorms(v, rows, rowLength, rowNorms);
        NormsAndScalesFromSquares(rowNorms, g, rows, groups, scale);
    }

    /// <summary><c>squares[i] = Σ_k v_ik²</c> for each row of a weight seen as (rows, rowLength).</summary>
    public static void SquaredRowNorms(ReadOnlySpan<float> v, int rows, int rowLength, Span<float> squares)
    {
        for (int i = 0; i < rows; i++)
        {
            squares[i] = TensorPrimitives.SumOfSquares(v.Slice(i * rowLength, rowLength));
        }
    }

    /// <summary>
    /// Turns the squared row norms in <paramref name="squaresThenNorms"/> into the norms
    /// <c>‖v_i‖ = √(Σ v_i² + ε)</c>, one per group of <c>rows / groups</c> consecutive rows (groups = rows: one norm per
    /// output unit, dim = 0; groups = 1: one norm over the whole tensor, dim = null), written out per row so that row i
    /// reads its group's norm at index i; then <c>scale[i] = g[group]/‖v_i‖</c>. ε = <see cref="WeightNorm.Epsilon"/>
    /// keeps a zero row finite.
    /// </summary>
    public static void NormsAndScalesFromSquares(Span<float> squaresThenNorms, ReadOnlySpan<float> g, int rows, int groups, Span<float> scale)
    {
        int rowsPerGroup = groups == 0 ? 0 : rows / groups;
        for (int group = 0; group < groups; group++)
        {
            // Sum a group's rows in double: for dim = null that is the whole tensor.
            double sumOfSquares = 0;
            Span<float> groupRows = squaresThenNorms.Slice(group * rowsPerGroup, rowsPerGroup);
            foreach (float rowSquares in groupRows)
            {
                sumOfSquares += rowSquares;
            }
            float norm = (float)Math.Sqrt(sumOfSquares + WeightNorm.Epsilon);
            groupRows.Fill(norm);
            scale.Slice(group * rowsPerGroup, rowsPerGroup).Fill(g[group] / norm); // s_i = g_i/‖v_i‖
        }
    }

    /// <summary><c>w[i, :] = scale[i]·v[i, :]</c> for each row of a weight seen as (rows, rowLength): <c>w = diag(s)·V</c>.</summary>
    public static void ScaleRows(ReadOnlySpan<float> v, ReadOnlySpan<float> scale, int rows, int rowLength, Span<float> w)
    {
        for (int i = 0; i < rows; i++)
        {
            TensorPrimitives.Multiply(v.Slice(i * rowLength, rowLength), scale[i], w.Slice(i * rowLength, rowLength));
        }
    }

    /// <summary>
    /// One pass over the rows of δ = ∂L/∂y (rows, cols) for the fused backward:
    /// <c>biasGrad[j] += Σₙ δ_nj</c> (if not empty), <c>dot[j] += Σₙ δ_nj·u_nj</c> (if not empty), and
    /// <c>scaled[n, j] = δ_nj·scale[j]</c> (δ' = δ·diag(s); if not empty).
    /// </summary>
    public static void BackwardColumnPass(ReadOnlySpan<float> delta, ReadOnlySpan<float> u, ReadOnlySpan<float> scale,
        int rows, int cols, Span<float> biasGrad, Span<float> dot, Span<float> scaled)
    {
        for (int n = 0; n < rows; n++)
        {
            ReadOnlySpan<float> dRow = delta.Slice(n * cols, cols);
            if (!biasGrad.IsEmpty)
            {
                TensorPrimitives.Add(biasGrad, dRow, biasGrad);
            }
            if (!dot.IsEmpty)
            {
                TensorPrimitives.MultiplyAdd(dRow, u.Slice(n * cols, cols), dot, dot);
            }
            if (!scaled.IsEmpty)
            {
                TensorPrimitives.Multiply(dRow, scale, scaled.Slice(n * cols, cols));
            }
        }
    }
}
