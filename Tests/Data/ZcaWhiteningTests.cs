using NeuralCore.Benchmarks.Data;
using NeuralCore.Engine;
using NUnit.Framework;

namespace NeuralCore.Tests.Data;

[TestFixture]
public sealed class ZcaWhiteningTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    [TestCase(40)]
    public void EigendecompositionReconstructsTheMatrix(int n)
    {
        // A = B + Bᵀ for a random B: symmetric, with eigenvalues of both signs.
        var random = new RandomGenerator(11);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                a[i * n + j] = a[j * n + i] = random.NextNormal();
            }
        }
        double[] original = (double[])a.Clone();
        var values = new double[n];
        SymmetricEigen.Decompose(a, n, values);

        Assert.That(values, Is.Ordered);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                // (U diag(λ) Uᵀ)[i, j] = Σₖ λₖ uₖ[i] uₖ[j], and UᵀU = I.
                double reconstructed = 0, dot = 0;
                for (int k = 0; k < n; k++)
                {
                    reconstructed += values[k] * a[k * n + i] * a[k * n + j];
                }
                for (int k = 0; k < n; k++)
                {
                    dot += a[i * n + k] * a[j * n + k];
                }
                Assert.That(reconstructed, Is.EqualTo(original[i * n + j]).Within(1e-10));
                Assert.That(dot, Is.EqualTo(i == j ? 1 : 0).Within(1e-10));
            }
        }
    }

    [Test]
    public void WhitenedDataHasIdentityCovariance()
    {
        // 3000 examples of 3 × 2 × 2 = 12 correlated values: x = M z with z standard normal.
        const int count = 3000, d = 12;
        var random = new RandomGenerator(5);
        var mix = new float[d * d];
        random.FillNormal(mix);
        var images = new float[count * d];
        var z = new float[d];
        for (int n = 0; n < count; n++)
        {
            random.FillNormal(z);
            for (int i = 0; i < d; i++)
            {
                float sum = 3f; // a non-zero mean, which whitening removes
                for (int k = 0; k < d; k++)
                {
                    sum += mix[i * d + k] * z[k];
                }
                images[n * d + i] = sum;
            }
        }
        var dataset = new Dataset(images, new int[count], 3, 2, 2, ["only"]);

        ZcaWhitening zca = ZcaWhitening.Fit(dataset, regularization: 1e-5);
        zca.Apply(dataset);

        float[] w = zca.Matrix.ToArray();
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                Assert.That(w[i * d + j], Is.EqualTo(w[j * d + i]).Within(1e-3f), "W is symmetric");
                double covariance = 0, meanI = 0, meanJ = 0;
                for (int n = 0; n < count; n++)
                {
                    meanI += images[n * d + i] / count;
                    meanJ += images[n * d + j] / count;
                }
                for (int n = 0; n < count; n++)
                {
                    covariance += (images[n * d + i] - meanI) * (images[n * d + j] - meanJ) / count;
                }
                Assert.That(meanI, Is.EqualTo(0).Within(1e-3));
                Assert.That(covariance, Is.EqualTo(i == j ? 1 : 0).Within(2e-3), $"covariance ({i}, {j})");
            }
        }
    }

    [Test]
    public void ApplyRejectsAnotherImageSize()
    {
        var train = new Dataset([1, 2, 3, 4, 2, 1, 0, 5], [0, 0], 1, 2, 2, ["only"]);
        ZcaWhitening zca = ZcaWhitening.Fit(train);
        Assert.Throws<ArgumentException>(() => zca.Apply(new Dataset([1, 2], [0], 1, 1, 2, ["only"])));
    }
}
