using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Eigenvalues and eigenvectors of a real symmetric matrix, for ZCA whitening: Householder reduction to a
/// tridiagonal matrix, then the implicit QL algorithm with Wilkinson shifts. These are EISPACK's <c>tred2</c> and
/// <c>tql2</c> as given in JAMA (the public-domain Java matrix package of NIST and MathWorks), O(n³) in double
/// precision. A cyclic Jacobi method would be shorter but needs about ten O(n³) sweeps, too slow at n = 3072.
/// </summary>
/// <remarks>
/// The matrix is stored column-major (element (row r, column c) at <c>c·n + r</c>), which makes every inner loop
/// of both algorithms run down a column, i.e. over contiguous memory; the eigenvectors come out as columns, so
/// eigenvector j is the contiguous slice <c>[j·n, (j+1)·n)</c>.
/// </remarks>
internal static class SymmetricEigen
{
    /// <summary>
    /// Decomposes the symmetric n × n matrix <paramref name="matrix"/> (symmetric, so row- and column-major are the
    /// same array) in place: on return it holds the unit eigenvectors, eigenvector j in <c>[j·n, (j+1)·n)</c>, and
    /// <paramref name="eigenvalues"/> (length n) the matching eigenvalues in ascending order.
    /// </summary>
    public static void Decompose(double[] matrix, int n, double[] eigenvalues)
    {
        if (matrix.Length != n * n || eigenvalues.Length != n || n <= 0)
        {
            throw new ArgumentException($"SymmetricEigen: a {matrix.Length}-element matrix and {eigenvalues.Length} eigenvalues for n = {n}; expected n² and n.");
        }
        var offDiagonal = new double[n];
        Tridiagonalize(matrix, n, eigenvalues, offDiagonal);
        DiagonalizeTridiagonal(matrix, n, eigenvalues, offDiagonal);
        SortAscending(matrix, n, eigenvalues);
    }

    // tred2: Householder reduction of V (initially the matrix) to tridiagonal form T = QᵀAQ, leaving Q in V, T's
    // diagonal in d and its sub-diagonal in e[1..n).
    private static void Tridiagonalize(double[] v, int n, double[] d, double[] e)
    {
        Span<double> Column(int c) => v.AsSpan(c * n, n);

        for (int j = 0; j < n; j++)
        {
            d[j] = v[j * n + (n - 1)]; // row n − 1
        }
        for (int i = n - 1; i > 0; i--)
        {
            // Scale the row to avoid under/overflow, and form the Householder vector in d[0..i).
            double scale = 0;
            double h = 0;
            for (int k = 0; k < i; k++)
            {
                scale += Math.Abs(d[k]);
            }
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = v[j * n + (i - 1)];
                    v[j * n + i] = 0;
                    v[i * n + j] = 0;
                }
            }
            else
            {
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0)
                {
                    g = -g;
                }
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                Array.Clear(e, 0, i);

                // Apply the similarity transformation to the remaining columns: e = A·u (lower triangle only).
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[i * n + j] = f;
                    Span<double> columnJ = Column(j);
                    g = e[j] + columnJ[j] * f;
                    if (j + 1 < i)
                    {
                        Span<double> below = columnJ[(j + 1)..i];
                        g += TensorPrimitives.Dot<double>(below, d.AsSpan((j + 1)..i));
                        TensorPrimitives.MultiplyAdd<double>(below, f, e.AsSpan((j + 1)..i), e.AsSpan((j + 1)..i));
                    }
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++)
                {
                    e[j] -= hh * d[j];
                }
                // A ← A − u·eᵀ − e·uᵀ on the lower triangle.
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    Span<double> part = Column(j)[j..i];
                    TensorPrimitives.MultiplyAdd<double>(e.AsSpan(j..i), -f, part, part);
                    TensorPrimitives.MultiplyAdd<double>(d.AsSpan(j..i), -g, part, part);
                    d[j] = v[j * n + (i - 1)];
                    v[j * n + i] = 0;
                }
            }
            d[i] = h;
        }

        // Accumulate the transformations into Q.
        for (int i = 0; i < n - 1; i++)
        {
            v[i * n + (n - 1)] = v[i * n + i];
            v[i * n + i] = 1;
            double h = d[i + 1];
            Span<double> next = Column(i + 1)[..(i + 1)];
            if (h != 0)
            {
                for (int k = 0; k <= i; k++)
                {
                    d[k] = next[k] / h;
                }
                for (int j = 0; j <= i; j++)
                {
                    Span<double> columnJ = Column(j)[..(i + 1)];
                    double g = TensorPrimitives.Dot<double>(next, columnJ);
                    TensorPrimitives.MultiplyAdd<double>(d.AsSpan(0, i + 1), -g, columnJ, columnJ);
                }
            }
            next.Clear();
        }
        for (int j = 0; j < n; j++)
        {
            d[j] = v[j * n + (n - 1)];
            v[j * n + (n - 1)] = 0;
        }
        v[(n - 1) * n + (n - 1)] = 1;
        e[0] = 0;
    }

    // tql2: the symmetric tridiagonal QL algorithm with implicit shifts; accumulates the rotations into V, so V's
    // columns become the eigenvectors of the original matrix and d its eigenvalues.
    private static void DiagonalizeTridiagonal(double[] v, int n, double[] d, double[] e)
    {
        for (int i = 1; i < n; i++)
        {
            e[i - 1] = e[i];
        }
        e[n - 1] = 0;

        double f = 0;
        double largest = 0;
        double eps = Math.Pow(2, -52);
        for (int l = 0; l < n; l++)
        {
            // Find a small sub-diagonal element: it splits the matrix, and d[l] is then converged.
            largest = Math.Max(largest, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n && Math.Abs(e[m]) > eps * largest)
            {
                m++;
            }
            if (m > l)
            {
                int iterations = 0;
                do
                {
                    if (++iterations > 100)
                    {
                        throw new ArithmeticException($"SymmetricEigen: the QL iteration for eigenvalue {l} of {n} did not converge.");
                    }
                    // The Wilkinson shift.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = Hypot(p, 1);
                    if (p < 0)
                    {
                        r = -r;
                    }
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++)
                    {
                        d[i] -= h;
                    }
                    f += h;

                    // The implicit QL step: a chase of Givens rotations from m − 1 up to l.
                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1;
                    double el1 = e[l + 1];
                    double s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        Rotate(v.AsSpan(i * n, n), v.AsSpan((i + 1) * n, n), c, s);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > eps * largest);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    // (left, right) ← (c·left − s·right, s·left + c·right): one Givens rotation of two columns.
    private static void Rotate(Span<double> left, Span<double> right, double c, double s)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; k <= left.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                var l = new Vector<double>(left[k..]);
                var r = new Vector<double>(right[k..]);
                (vc * l - vs * r).CopyTo(left[k..]);
                (vs * l + vc * r).CopyTo(right[k..]);
            }
        }
        for (; k < left.Length; k++)
        {
            double l = left[k];
            double r = right[k];
            left[k] = c * l - s * r;
            right[k] = s * l + c * r;
        }
    }

    // √(a² + b²) without overflow.
    private static double Hypot(double a, double b)
    {
        double x = Math.Abs(a), y = Math.Abs(b);
        if (x < y)
        {
            (x, y) = (y, x);
        }
        if (x == 0)
        {
            return 0;
        }
        double t = y / x;
        return x * Math.Sqrt(1 + t * t);
    }

    // Selection sort of the eigenvalues, swapping the eigenvector columns along (n swaps of n values: O(n²)).
    private static void SortAscending(double[] v, int n, double[] d)
    {
        var swap = new double[n];
        for (int i = 0; i < n - 1; i++)
        {
            int smallest = i;
            for (int j = i + 1; j < n; j++)
            {
                if (d[j] < d[smallest])
                {
                    smallest = j;
                }
            }
            if (smallest != i)
            {
                (d[i], d[smallest]) = (d[smallest], d[i]);
                v.AsSpan(i * n, n).CopyTo(swap);
                v.AsSpan(smallest * n, n).CopyTo(v.AsSpan(i * n, n));
                swap.CopyTo(v.AsSpan(smallest * n, n));
            }
        }
    }
}
