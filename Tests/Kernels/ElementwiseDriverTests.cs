using System.Runtime.Intrinsics;
using NeuralCore.Engine;
using NeuralCore.Engine.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Kernels;

/// <summary>The SIMD drivers against their scalar twins, on sizes that hit each vector width and the remainder.</summary>
[TestFixture]
public sealed class ElementwiseDriverTests
{
    private static readonly int[] s_sizes = [1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 1003];

    // A non-linear operator whose vector forms could be wrong independently of the scalar one.
    private readonly struct AffineSquare : IUnaryOperator, IBinaryOperator
    {
        public float Invoke(float x) => x * x - 3f * x;

        public Vector512<float> Invoke(Vector512<float> x) => x * x - Vector512.Create(3f) * x;

        public Vector256<float> Invoke(Vector256<float> x) => x * x - Vector256.Create(3f) * x;

        public Vector128<float> Invoke(Vector128<float> x) => x * x - Vector128.Create(3f) * x;

        public float Invoke(float x, float y) => x * y - y;

        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y - y;

        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y - y;

        public Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x * y - y;
    }

    [TestCaseSource(nameof(s_sizes))]
    public void MapMatchesScalarTwinIncludingInPlace(int size)
    {
        float[] x = Values(size, 1);
        var vector = new float[size];
        var scalar = new float[size];

        Elementwise.Map<AffineSquare>(x, vector);
        Elementwise.MapScalar<AffineSquare>(x, scalar);
        Assert.That(vector, Is.EqualTo(scalar));

        Elementwise.Map<AffineSquare>(x, x);
        Assert.That(x, Is.EqualTo(scalar));
    }

    [TestCaseSource(nameof(s_sizes))]
    public void ZipAndZipAccumulateMatchScalarTwin(int size)
    {
        float[] x = Values(size, 2);
        float[] y = Values(size, 3);
        var vector = new float[size];
        var scalar = new float[size];

        Elementwise.Zip<AffineSquare>(x, y, vector);
        Elementwise.ZipScalar<AffineSquare>(x, y, scalar);
        Assert.That(vector, Is.EqualTo(scalar));

        float[] accumulator = Values(size, 4);
        float[] expected = accumulator.Select((a, i) => a + scalar[i]).ToArray();
        Elementwise.ZipAccumulate<AffineSquare>(x, y, accumulator);
        Assert.That(accumulator, Is.EqualTo(expected));
    }

    [Test]
    public void MismatchedLengthsThrow()
    {
        var error = Assert.Throws<ArgumentException>(() => Elementwise.Zip<AffineSquare>(new float[3], new float[4], new float[3]));
        Assert.That(error!.Message, Does.Contain("Zip").And.Contain("3").And.Contain("4"));
    }

    private static float[] Values(int size, ulong seed)
    {
        var values = new float[size];
        new RandomGenerator(seed).FillUniform(values, -4f, 4f);
        return values;
    }
}
