using System.Globalization;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Argument validation shared by <see cref="Gemm"/> and <see cref="GemmReference"/>, so both reject the same calls
/// with the same messages. Extents are computed in <c>long</c>: <c>lda · rows</c> can pass <c>int.MaxValue</c>.
/// </summary>
internal static class GemmChecks
{
    public static void Validate(bool transA, bool transB, int m, int n, int k,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float[] c, int cOffset, int ldc, in GemmEpilogue epilogue)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentException(Format("Gemm: sizes m={0}, n={1}, k={2} must not be negative", m, n, k), nameof(m));
        }

        // op(A) is m×k. Stored, A is m×k (row length k), or k×m when transposed (row length m).
        CheckMatrix("A", "lda", "transA", transA, transA ? k : m, transA ? m : k, a, aOffset, lda, nameof(a));
        CheckMatrix("B", "ldb", "transB", transB, transB ? n : k, transB ? k : n, b, bOffset, ldb, nameof(b));
        CheckMatrix("C", "ldc", null, false, m, n, c, cOffset, ldc, nameof(c));
        CheckColumnVector("ColumnScale", epilogue.ColumnScale, epilogue.ColumnScaleOffset, n, nameof(epilogue));
        CheckColumnVector("ColumnBias", epilogue.ColumnBias, epilogue.ColumnBiasOffset, n, nameof(epilogue));
        CheckColumnVector("ColumnSquaresOfB", epilogue.ColumnSquaresOfB, epilogue.ColumnSquaresOfBOffset, n, nameof(epilogue));
        if (epilogue.ColumnSquaresOfB is { } squares && (ReferenceEquals(squares, c) || ReferenceEquals(squares, a) || ReferenceEquals(squares, b)
            || ReferenceEquals(squares, epilogue.ColumnScale) || ReferenceEquals(squares, epilogue.ColumnBias)))
        {
            throw new ArgumentException("Gemm: epilogue ColumnSquaresOfB must be an array of its own (it is written while A, B and C are read)", nameof(epilogue));
        }
        if (epilogue.Activation is not (GemmActivation.None or GemmActivation.Relu))
        {
            throw new ArgumentException(Format("Gemm: unknown activation {0}", (int)epilogue.Activation), nameof(epilogue));
        }
    }

    private static void CheckMatrix(string name, string ldName, string? transName, bool trans, int rows, int cols,
        float[] data, int offset, int ld, string paramName)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentException(Format("{0}: {1} must be ≥ {2}", Describe(), ldName, Math.Max(1, cols)), paramName);
        }
        if (offset < 0)
        {
            throw new ArgumentException(Describe() + ": offset must not be negative", paramName);
        }
        long needed = rows == 0 || cols == 0 ? offset : offset + ((long)rows - 1) * ld + cols;
        if (needed > data.Length)
        {
            throw new ArgumentException(Format("{0}: needs {1} elements, the array has {2}", Describe(), needed, data.Length), paramName);
        }

        // Built only when a check fails: a valid call allocates nothing.
        string Describe() => transName is null
            ? Format("Gemm: {0} is {1}×{2} ({3}={4}, offset={5})", name, rows, cols, ldName, ld, offset)
            : Format("Gemm: {0} is {1}×{2} ({3}={4}, {5}={6}, offset={7})",
                name, rows, cols, transName, trans ? "true" : "false", ldName, ld, offset);
    }

    private static void CheckColumnVector(string name, float[]? data, int offset, int n, string paramName)
    {
        if (data is null)
        {
            return;
        }
        if (offset < 0 || (long)offset + n > data.Length)
        {
            throw new ArgumentException(
                Format("Gemm: epilogue {0} needs {1} elements from offset {2}, the array has {3}", name, n, offset, data.Length),
                paramName);
        }
    }

    private static string Format(string format, params object[] args) =>
        string.Format(CultureInfo.InvariantCulture, format, args);
}
