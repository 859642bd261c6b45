using NeuralCore.Engine;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// ZCA whitening (Bell &amp; Sejnowski, 1997), as the weight-normalization paper preprocesses CIFAR-10:
/// <c>x ← W (x − μ)</c> with <c>W = U diag(1/√(λ + ε)) Uᵀ</c>, where <c>Σ = U diag(λ) Uᵀ</c> is the covariance of
/// the training images (each flattened to C·H·W values) and ε the regularization (the paper's code uses 1e-5).
/// Whitened images have (nearly) identity covariance, yet stay images: of all whitening maps, ZCA is the one
/// closest to the identity.
/// </summary>
/// <remarks>
/// <para>
/// Cost, for CIFAR-10 (D = 3072, N = 50 000): the covariance is N·D² ≈ 5·10¹¹ multiply-adds (run by the engine's
/// matrix product), the eigendecomposition of the D × D matrix (<c>SymmetricEigen</c>, tred2 + tql2 in double
/// precision) about 10 D³ ≈ 3·10¹¹ flops, and whitening N·D² again: minutes on a small machine, and ~110 MB for the
/// matrices. So it runs only when asked (<see cref="Fit"/>), once, on the whole data set, never per batch.
/// </para>
/// <para>Fit on the training set only and apply the same map to the test set.</para>
/// </remarks>
public sealed class ZcaWhitening
{
    // Rows per chunk when streaming the data through the matrix products: (4096, 3072) floats is 48 MB.
    private const int ChunkRows = 4096;

    private readonly float[] _mean;   // (D)
    private readonly Tensor _whitening; // (D, D), symmetric

    private ZcaWhitening(float[] mean, Tensor whitening, double regularization)
    {
        _mean = mean;
        _whitening = whitening;
        Regularization = regularization;
    }

    /// <summary>The number of values per example the map works on, D = C·H·W.</summary>
    public int Dimension => _mean.Length;

    /// <summary>The ε added to every eigenvalue before the inverse square root.</summary>
    public double Regularization { get; }

    /// <summary>The training mean μ subtracted before whitening, shape (D).</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The whitening matrix W, shape (D, D), symmetric. Not differentiable.</summary>
    public Tensor Matrix => _whitening;

    /// <summary>Fits the whitening map to <paramref name="train"/> (its current values, e.g. after <see cref="Normalization.PaperCifar"/>).</summary>
    /// <exception cref="ArgumentException">The dataset is empty, or the regularization is not positive and finite.</exception>
    public static ZcaWhitening Fit(Dataset train, double regularization = 1e-5)
    {
        if (train.Count == 0)
        {
            throw new ArgumentException("ZcaWhitening.Fit: the dataset is empty; expected at least one example.");
        }
        if (!(regularization > 0) || !double.IsFinite(regularization))
        {
            throw new ArgumentException($"ZcaWhitening.Fit: regularization {regularization}; expected a positive, finite value.");
        }
        int n = train.Count;
        int d = train.ExampleSize;
        ReadOnlySpan<float> images = train.Images; // (N, D)

        // μ, in double precision.
        var meanSum = new double[d];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = images.Slice(i * d, d);
            for (int j = 0; j < d; j++)
            {
                meanSum[j] += row[j];
            }
        }
        var mean = new float[d];
        for (int j = 0; j < d; j++)
        {
            mean[j] = (float)(meanSum[j] / n);
        }

        // Σ = (1/N) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ, chunk by chunk: Σ += Xcᵀ·Xc with Xc (rows, D) centered; summed in double.
        var covariance = new double[d * d]; // (D, D)
        for (int start = 0; start < n; start += ChunkRows)
        {
            Tensor centered = CenteredChunk(images, start, Math.Min(ChunkRows, n - start), d, mean); // (rows, D)
            Tensor product = Tensor.Matmul(centered.T, centered); // (D, D)
            ReadOnlySpan<float> values = product.AsSpan();
            for (int k = 0; k < covariance.Length; k++)
            {
                covariance[k] += values[k];
            }
        }
        for (int k = 0; k < covariance.Length; k++)
        {
            covariance[k] /= n;
        }

        // Σ = U diag(λ) Uᵀ; eigenvector j is covariance[j·D, (j+1)·D) afterwards.
        var eigenvalues = new double[d];
        SymmetricEigen.Decompose(covariance, d, eigenvalues);

        // W = U diag(1/√(λ+ε)) Uᵀ = Fᵀ F with F = diag((λ+ε)^(−1/4)) Uᵀ, whose row j is eigenvector j scaled.
        // Rounding can leave the smallest λ slightly negative; they are clamped to 0 first.
        var f = new float[d * d]; // (D, D)
        for (int j = 0; j < d; j++)
        {
            double scale = Math.Pow(Math.Max(eigenvalues[j], 0) + regularization, -0.25);
            for (int k = 0; k < d; k++)
            {
                f[j * d + k] = (float)(covariance[j * d + k] * scale);
            }
        }
        Tensor factor = Tensor.Wrap(f, d, d);
        return new ZcaWhitening(mean, Tensor.Matmul(factor.T, factor), regularization);
    }

    /// <summary>Whitens every example of <paramref name="dataset"/> in place, <c>x ← W (x − μ)</c>; returns the same dataset.</summary>
    /// <exception cref="ArgumentException">The dataset's examples do not have <see cref="Dimension"/> values.</exception>
    public Dataset Apply(Dataset dataset)
    {
        int d = Dimension;
        if (dataset.ExampleSize != d)
        {
            throw new ArgumentException(
                $"ZcaWhitening.Apply: examples of {dataset.Channels} × {dataset.Height} × {dataset.Width} = {dataset.ExampleSize} values; the map was fitted to {d}.");
        }
        Span<float> images = dataset.Images; // (N, D)
        for (int start = 0; start < dataset.Count; start += ChunkRows)
        {
            Tensor centered = CenteredChunk(images, start, Math.Min(ChunkRows, dataset.Count - start), d, _mean); // (rows, D)
            // W is symmetric, so (W xᵢ)ᵀ for every row i of the chunk is Xc·W.
            Tensor whitened = Tensor.Matmul(centered, _whitening); // (rows, D)
            whitened.AsSpan().CopyTo(images[(start * d)..]);
        }
        return dataset;
    }

    /// <summary>
    /// The paper's CIFAR-10 preprocessing, in place on both parts: scale with <see cref="Normalization.PaperCifar"/>
    /// (<c>(x − 127.5)/128</c>), fit ZCA on the training part with regularization <paramref name="regularization"/>,
    /// and whiten both parts. Returns the fitted map. Slow (see the remarks on <see cref="ZcaWhitening"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The two parts have different image sizes.</exception>
    public static ZcaWhitening ApplyPaperPreprocessing(DataSplit split, double regularization = 1e-5)
    {
        Normalization.PaperCifar.Apply(split.Train);
        Normalization.PaperCifar.Apply(split.Test);
        ZcaWhitening zca = Fit(split.Train, regularization);
        zca.Apply(split.Train);
        zca.Apply(split.Test);
        return zca;
    }

    // Rows [start, start + rows) of an (N, D) array, copied and centered: Xc = X − μ, shape (rows, D).
    private static Tensor CenteredChunk(ReadOnlySpan<float> images, int start, int rows, int d, float[] mean)
    {
        var chunk = new float[rows * d];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> source = images.Slice((start + i) * d, d);
            Span<float> destination = chunk.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                destination[j] = source[j] - mean[j];
            }
        }
        return Tensor.Wrap(chunk, rows, d);
    }
}
