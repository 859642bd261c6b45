using System.Numerics.Tensors;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// The companions of <see cref="Reduction.SumToShape"/> for reductions over sets of axes: a max written the same
/// way, and the reverse direction (a keepDim-shaped value stretched back over the reduced axes), which is what the
/// backward of every reduction needs.
/// </summary>
/// <remarks>
/// "Small" shapes here have the big shape's rank, with size 1 on the reduced axes (the keepDim shape). Walking
/// the big shape one innermost row at a time, the small tensor's stride is 0 on reduced axes, so a row either
/// meets a whole row of the small tensor (inner axis kept: a vector operation) or a single element (inner axis
/// reduced). The order of operations is fixed by the shapes alone, so results are deterministic.
/// </remarks>
internal static class AxisReduction
{
    /// <summary>Elements per block in <see cref="Sum"/> and <see cref="SumOfSquares"/>.</summary>
    private const int BlockLength = 1024;

    /// <summary>
    /// <c>Σ x</c> for long spans: each block of 1024 by TensorPrimitives.Sum, the block totals added in double.
    /// A single float running total of 10⁶ values in [0, 1) is off in the 5th digit (at 5·10⁵ one ulp is 0.03, and
    /// TensorPrimitives' scalar fallback is such a total); in blocks, rounding grows with the block, not the span.
    /// The order is fixed, so the result is deterministic.
    /// </summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int start = 0; start < x.Length; start += BlockLength)
        {
            total += TensorPrimitives.Sum(x.Slice(start, Math.Min(BlockLength, x.Length - start)));
        }
        return (float)total;
    }

    /// <summary><c>Σ x²</c>, blocked as <see cref="Sum"/>.</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int start = 0; start < x.Length; start += BlockLength)
        {
            total += TensorPrimitives.SumOfSquares(x.Slice(start, Math.Min(BlockLength, x.Length - start)));
        }
        return (float)total;
    }

    /// <summary>
    /// <c>target = max of x</c> over the axes where <paramref name="targetShape"/> has size 1 and
    /// <paramref name="xShape"/> does not. Same rank; every other size equal. NaN propagates (as in PyTorch).
    /// </summary>
    public static void MaxToShape(ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, Span<float> target, ReadOnlySpan<int> targetShape)
    {
        if (x.Length == target.Length)
        {
            x.CopyTo(target); // only size-1 axes were "reduced"
            return;
        }
        if (target.Length == 1)
        {
            target[0] = TensorPrimitives.Max(x);
            return;
        }
        target.Fill(float.NegativeInfinity);
        Reduction.MaxToShape(x, xShape, target, targetShape);
    }

    /// <summary>
    /// <c>target += scale · source</c>, with <paramref name="source"/> (shape <paramref name="sourceShape"/>, size 1
    /// on reduced axes) stretched over <paramref name="targetShape"/>: the backward of sum (scale 1) and mean (1/n).
    /// </summary>
    public static void AddBroadcast(ReadOnlySpan<float> source, ReadOnlySpan<int> sourceShape, Span<float> target, ReadOnlySpan<int> targetShape, float scale)
    {
        if (source.Length == target.Length)
        {
            TensorPrimitives.MultiplyAdd(source, scale, target, target);
            return;
        }
        int rank = targetShape.Length;
        Span<int> strides = stackalloc int[rank];
        SmallStrides(targetShape, sourceShape, strides);
        if (target.Length == 0)
        {
            return;
        }

        int rowLength = targetShape[rank - 1];
        bool innerKept = strides[rank - 1] != 0;
        Span<int> index = stackalloc int[rank];
        int at = 0;
        for (int write = 0; write < target.Length; write += rowLength)
        {
            Span<float> row = target.Slice(write, rowLength);
            if (innerKept)
            {
                TensorPrimitives.MultiplyAdd(source.Slice(at, rowLength), scale, row, row);
            }
            else
            {
                TensorPrimitives.Add(row, scale * source[at], row);
            }
            at = Strided.NextRow(index, targetShape, strides, at);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> (shape <paramref name="sourceShape"/>, size 1 on reduced axes) stretched
    /// over <paramref name="shape"/> into <paramref name="destination"/>: a saved mean or max laid beside x.
    /// </summary>
    public static void Broadcast(ReadOnlySpan<float> source, ReadOnlySpan<int> sourceShape, Span<float> destination, ReadOnlySpan<int> shape)
    {
        Span<int> strides = stackalloc int[shape.Length];
        SmallStrides(shape, sourceShape, strides);
        Strided.Gather(source, 0, shape, strides, destination);
    }

    /// <summary>Row-major strides of the small (keepDim) shape, with 0 on the axes the big shape stretches.</summary>
    private static void SmallStrides(ReadOnlySpan<int> bigShape, ReadOnlySpan<int> smallShape, Span<int> strides)
    {
        if (smallShape.Length != bigShape.Length)
        {
            throw new ArgumentException(
                $"AxisReduction: shapes {Shapes.Format(bigShape)} and {Shapes.Format(smallShape)} differ in rank; expected the keepDim shape.");
        }
        int stride = 1;
        for (int axis = bigShape.Length - 1; axis >= 0; axis--)
        {
            int small = smallShape[axis];
            if (small != 1 && small != bigShape[axis])
            {
                throw new ArgumentException(
                    $"AxisReduction: shape {Shapes.Format(smallShape)} does not match {Shapes.Format(bigShape)} on axis {axis}; expected size 1 or {bigShape[axis]}.");
            }
            strides[axis] = small == 1 && bigShape[axis] != 1 ? 0 : stride;
            stride *= small;
        }
    }
}
