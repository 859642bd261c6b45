using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// Matrix products (torch.matmul for rank ≥ 2): C = A·B over the last two axes, NumPy broadcasting over the others.
// Forward and both backward products are the same batched GEMM (MultiplyBatched), each matrix passed by offset,
// leading dimension and a transpose flag: a transposed view is read in place, and "Bᵀ" in backward is B itself
// with its flag flipped, so no operand is ever copied just to change its layout.
public sealed partial class Tensor
{
    /// <summary>
    /// The matrix product <c>this · other</c>, as <c>torch.matmul</c> for operands of rank ≥ 2:
    /// (…, m, k) × (…, k, n) → (…, m, n), the leading (batch) axes broadcast NumPy-style,
    /// e.g. (5, 3, 4) × (4, 2) → (5, 3, 2) and (2, 1, 3, 4) × (5, 4, 6) → (2, 5, 3, 6). Differentiable in both.
    /// Non-contiguous operands are read in place when their last two axes are row-major with padding or a transpose,
    /// and copied once (a recorded <see cref="Contiguous"/>) otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// An operand has rank below 2 (1-D vectors are not supported: reshape to (1, k) or (k, 1)), the inner
    /// dimensions differ, or the batch axes do not broadcast.
    /// </exception>
    public Tensor Matmul(Tensor other) => Matmul(this, other);

    /// <summary>The matrix product <c>a · b</c>; see <see cref="Matmul(Tensor)"/>.</summary>
    /// <exception cref="ArgumentException">As for <see cref="Matmul(Tensor)"/>.</exception>
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        // The result shape on the stack: a recorded matmul then uses the tape's shared array for it.
        const int StackRank = 16;
        int rank = Math.Max(a.Rank, b.Rank);
        Span<int> shape = rank <= StackRank ? stackalloc int[StackRank] : new int[rank];
        shape = shape[..rank];
        MatmulShape(a.ShapeArray, b.ShapeArray, shape); // (…batch, m, n)
        int m = shape[rank - 2], n = shape[rank - 1], k = a.ShapeArray[^1];

        // Operands whose last two axes are neither row-major nor a transpose (e.g. every other column) are copied
        // once; the copy is recorded, so the gradient still reaches the original.
        a = MatrixOperand.TryCreate(a, out _) ? a : a.Contiguous();
        b = MatrixOperand.TryCreate(b, out _) ? b : b.Contiguous();
        Tape? tape = Tape.ForInputs(a, b);
        Tensor result = NewResult(tape, shape);
        MultiplyBatched(shape[..(rank - 2)], MatrixOperand.Create(a), MatrixOperand.Create(b), MatrixOperand.Create(result),
            m, n, k, beta: 0f);

        // matmul: ∂A += ∂C·Bᵀ (m×n · n×k), ∂B += Aᵀ·∂C (k×m · m×n), per batch. beta = 1 adds straight into the
        // gradient sinks; a broadcast operand's sink has stride 0 on its broadcast batch axes, so the products of all
        // the batches it was reused in land on the same matrix: the sum over broadcast axes, with no temporary.
        tape?.Record("matmul", result, static (e, dy) =>
        {
            int rank = dy.Rank;
            int m = dy.ShapeArray[rank - 2], n = dy.ShapeArray[rank - 1], k = e.Input(0).ShapeArray[^1];
            ReadOnlySpan<int> batch = dy.ShapeArray.AsSpan(0, rank - 2);
            MatrixOperand dc = MatrixOperand.Create(dy); // (…, m, n)
            Tensor? sinkA = e.GradSink(0);
            if (sinkA is not null)
            {
                MatrixOperand bT = MatrixOperand.Create(e.Input(1)).Transposed(); // (…, n, k)
                MultiplyBatched(batch, dc, bT, MatrixOperand.Create(sinkA), m, k, n, beta: 1f);
            }
            Tensor? sinkB = e.GradSink(1);
            if (sinkB is not null)
            {
                MatrixOperand aT = MatrixOperand.Create(e.Input(0)).Transposed(); // (…, k, m)
                MultiplyBatched(batch, aT, dc, MatrixOperand.Create(sinkB), k, n, m, beta: 1f);
            }
        }, a, b);
        return result;
    }

    /// <summary>Writes the result shape (…batch, m, n) into <paramref name="shape"/>, or throws an ArgumentException naming both shapes.</summary>
    private static void MatmulShape(int[] a, int[] b, Span<int> shape)
    {
        if (a.Length < 2 || b.Length < 2)
        {
            throw new ArgumentException(
                $"Matmul: {Shapes.Format(a)} × {Shapes.Format(b)}: both operands need rank ≥ 2, shaped (…, m, k) × (…, k, n); " +
                "1-D vectors are not supported (reshape to (1, k) or (k, 1)).");
        }
        if (a[^1] != b[^2])
        {
            throw new ArgumentException($"Matmul: {Shapes.Format(a)} × {Shapes.Format(b)}: inner dimensions {a[^1]} and {b[^2]} differ");
        }
        int rank = shape.Length;
        for (int axis = 0; axis < rank - 2; axis++)
        {
            // Batch axes align from the right, just before the two matrix axes; a missing axis counts as size 1.
            int ia = axis - (rank - a.Length), ib = axis - (rank - b.Length);
            int da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException(
                    $"Matmul: {Shapes.Format(a)} × {Shapes.Format(b)}: batch dimensions {Shapes.Format(a.AsSpan(0, a.Length - 2))} and " +
                    $"{Shapes.Format(b.AsSpan(0, b.Length - 2))} cannot be broadcast: sizes {da} and {db} at axis {axis - rank}; expected equal sizes or 1.");
            }
            shape[axis] = da == 1 ? db : da;
        }
        shape[rank - 2] = a[^2];
        shape[rank - 1] = b[^1];
        Shapes.Count(shape, "Matmul");
    }

    /// <summary>
    /// <c>C[t] = op(A)[t]·op(B)[t] + beta·C[t]</c> for every batch index t of <paramref name="batch"/>, with
    /// op(A) m×k, op(B) k×n, C m×n. An operand broadcast on a batch axis reuses its matrix (offset stride 0), which
    /// for C is only meaningful when accumulating (beta = 1).
    /// </summary>
    private static void MultiplyBatched(ReadOnlySpan<int> batch, in MatrixOperand a, in MatrixOperand b, in MatrixOperand c,
        int m, int n, int k, float beta)
    {
        int batchCount = Shapes.Count(batch);
        if (batchCount == 0 || m == 0 || n == 0)
        {
            return;
        }
        // Fewer, larger products when one factor is the same matrix in every batch (x (batch, seq, in) · W (in, out)):
        // stacking the batches' rows of A and C makes one (batch·m)×k · k×n product; stacking the rows of Aᵀ's
        // storage and of B makes the inner dimension batch·k, which also sums into a shared C.
        int calls = batchCount;
        if (batchCount > 1 && b.IsBatchInvariant && !a.IsTransposed && a.StacksRows(batchCount) && c.StacksRows(batchCount))
        {
            m *= batchCount;
            calls = 1;
        }
        else if (batchCount > 1 && c.IsBatchInvariant && a.IsTransposed && !b.IsTransposed && a.StacksRows(batchCount) && b.StacksRows(batchCount))
        {
            k *= batchCount;
            calls = 1;
        }
        for (int t = 0; t < calls; t++)
        {
            Gemm.Multiply(a.IsTransposed, b.IsTransposed, m, n, k, 1f,
                a.Buffer, a.BatchOffset(t, batch), a.LeadingDimension,
                b.Buffer, b.BatchOffset(t, batch), b.LeadingDimension,
                beta, c.Buffer, c.BatchOffset(t, batch), c.LeadingDimension);
        }
    }

    /// <summary>
    /// A tensor of rank ≥ 2 seen as a stack of matrices the GEMM reads in place: the last two axes must be row-major
    /// (row stride ≥ row length, unit column stride) or a transpose of that; the batch axes may have any strides.
    /// </summary>
    private readonly struct MatrixOperand
    {
        private readonly int[] _shape;
        private readonly int[] _strides;
        private readonly int _offset;
        private readonly int _storedRows;

        private MatrixOperand(Tensor t, bool transposed, int leadingDimension, int storedRows)
        {
            Buffer = t.Buffer;
            _shape = t.ShapeArray;
            _strides = t.StrideArray;
            _offset = t._offset;
            IsTransposed = transposed;
            LeadingDimension = leadingDimension;
            _storedRows = storedRows;
        }

        private MatrixOperand(in MatrixOperand source, bool transposed)
        {
            this = source;
            IsTransposed = transposed;
        }

        public float[] Buffer { get; }

        /// <summary>The GEMM's trans flag: element (i, j) of the matrix is at j·ld + i rather than i·ld + j.</summary>
        public bool IsTransposed { get; }

        public int LeadingDimension { get; }

        /// <summary>True when every batch index reads the same matrix (the tensor has no batch axis of size &gt; 1).</summary>
        public bool IsBatchInvariant
        {
            get
            {
                for (int axis = 0; axis < _shape.Length - 2; axis++)
                {
                    if (_shape[axis] != 1)
                    {
                        return false;
                    }
                }
                return true;
            }
        }

        public static MatrixOperand Create(Tensor t) => TryCreate(t, out MatrixOperand operand)
            ? operand
            : throw new InvalidOperationException($"Matmul: tensor {t.ShapeText} with strides {Shapes.Format(t.StrideArray)} is not a GEMM operand.");

        public static bool TryCreate(Tensor t, out MatrixOperand operand)
        {
            int rank = t.Rank;
            int rows = t.ShapeArray[rank - 2], cols = t.ShapeArray[rank - 1];
            int rowStride = t.StrideArray[rank - 2], colStride = t.StrideArray[rank - 1];
            // A size-1 axis is never stepped along, so its stride does not matter.
            if ((cols <= 1 || colStride == 1) && (rows <= 1 || rowStride >= Math.Max(cols, 1)))
            {
                operand = new MatrixOperand(t, transposed: false, rows <= 1 ? Math.Max(cols, 1) : rowStride, rows);
                return true;
            }
            if ((rows <= 1 || rowStride == 1) && (cols <= 1 || colStride >= Math.Max(rows, 1)))
            {
                operand = new MatrixOperand(t, transposed: true, cols <= 1 ? Math.Max(rows, 1) : colStride, cols);
                return true;
            }
            operand = default;
            return false;
        }

        /// <summary>The same memory read as the transposed matrix.</summary>
        public MatrixOperand Transposed() => new(this, !IsTransposed);

        /// <summary>Where matrix number <paramref name="t"/> (row-major over <paramref name="batch"/>) starts.</summary>
        public int BatchOffset(int t, ReadOnlySpan<int> batch)
        {
            int offset = _offset;
            int shift = batch.Length - (_shape.Length - 2);
            for (int axis = batch.Length - 1; axis >= 0 && t > 0; axis--)
            {
                int index = t % batch[axis];
                t /= batch[axis];
                int own = axis - shift;
                if (own >= 0 && _shape[own] != 1) // a missing or size-1 axis was broadcast: same matrix for every index
                {
                    offset += index * _strides[own];
                }
            }
            return offset;
        }

        /// <summary>
        /// True when all <paramref name="batchCount"/> batch matrices lie one after another at the leading dimension,
        /// so they read as one matrix with batchCount times the stored rows.
        /// </summary>
        public bool StacksRows(int batchCount)
        {
            long expected = (long)_storedRows * LeadingDimension;
            long count = 1;
            for (int axis = _shape.Length - 3; axis >= 0; axis--)
            {
                if (_shape[axis] == 1)
                {
                    continue;
                }
                if (_strides[axis] != expected)
                {
                    return false;
                }
                expected *= _shape[axis];
                count *= _shape[axis];
            }
            return count == batchCount;
        }
    }
}
