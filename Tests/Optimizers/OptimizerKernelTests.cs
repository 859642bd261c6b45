using NeuralCore.Optimizers.Kernels;
using NUnit.Framework;

namespace NeuralCore.Tests.Optimizers;

/// <summary>
/// Each fused kernel against its scalar twin, on sizes that exercise every vector width and the scalar tail,
/// for every flag combination; the results must be identical bit for bit (both use the same roundings).
/// </summary>
[TestFixture]
public sealed class OptimizerKernelTests
{
    private static readonly int[] s_sizes = [1, 7, 16, 17, 1003];

    private static float[] Values(int size, int seed, float low = -2f, float high = 2f)
    {
        var random = new NeuralCore.Engine.RandomGenerator((ulong)seed);
        var values = new float[size];
        random.FillUniform(values, low, high);
        return values;
    }

    [Test]
    public void AdamKernelMatchesScalarTwin([ValueSource(nameof(s_sizes))] int size, [Values] bool amsGrad, [Values] bool decoupled)
    {
        var c = new AdamKernel.Coefficients(0.01, 0.9, 0.999, 1e-8, 0.1, decoupled, step: 3);
        float[][] vector = [Values(size, 1), Values(size, 3, 0f, 1f), Values(size, 4, 0f, 1f), Values(size, 5, 0f, 1f)];
        float[][] scalar = [.. vector.Select(a => a.ToArray())];
        float[] gradient = Values(size, 2);
        for (int repeat = 0; repeat < 3; repeat++)
        {
            AdamKernel.Step(vector[0], gradient, vector[1], vector[2], amsGrad ? vector[3] : [], amsGrad, c);
            AdamKernel.StepScalar(scalar[0], gradient, scalar[1], scalar[2], amsGrad ? scalar[3] : [], amsGrad, c);
        }
        Assert.That(vector, Is.EqualTo(scalar));
    }

    [Test]
    public void SgdKernelMatchesScalarTwin([ValueSource(nameof(s_sizes))] int size, [Values] bool nesterov, [Values] bool firstStep)
    {
        var c = new SgdKernel.Coefficients(0.1, 0.9, nesterov ? 0 : 0.1, 0.01, nesterov, firstStep);
        float[] gradient = Values(size, 2);
        float[][] vector = [Values(size, 1), Values(size, 3)];
        float[][] scalar = [.. vector.Select(a => a.ToArray())];
        SgdKernel.Step(vector[0], gradient, vector[1], c);
        SgdKernel.StepScalar(scalar[0], gradient, scalar[1], c);
        SgdKernel.StepWithoutMomentum(vector[1], gradient, c);
        SgdKernel.StepWithoutMomentumScalar(scalar[1], gradient, c);
        Assert.That(vector, Is.EqualTo(scalar));
    }

    [Test]
    public void AdamaxKernelMatchesScalarTwin([ValueSource(nameof(s_sizes))] int size)
    {
        var c = new AdamaxKernel.Coefficients(0.002, 0.9, 0.999, 1e-8, 0.05, step: 2);
        float[] gradient = Values(size, 2);
        float[][] vector = [Values(size, 1), Values(size, 3), Values(size, 4, 0f, 1f)];
        float[][] scalar = [.. vector.Select(a => a.ToArray())];
        AdamaxKernel.Step(vector[0], gradient, vector[1], vector[2], c);
        AdamaxKernel.StepScalar(scalar[0], gradient, scalar[1], scalar[2], c);
        Assert.That(vector, Is.EqualTo(scalar));
    }

    [Test]
    public void RmsPropKernelMatchesScalarTwin([ValueSource(nameof(s_sizes))] int size, [Values] bool centered, [Values(0.0, 0.9)] double momentum)
    {
        var c = new RmsPropKernel.Coefficients(0.01, 0.99, 1e-8, 0.05, momentum, centered);
        float[] gradient = Values(size, 2);
        // square_avg ≥ grad_avg² keeps the centered variance non-negative, as it is in a real run.
        float[][] vector = [Values(size, 1), Values(size, 3, 4f, 5f), Values(size, 4, -1f, 1f), Values(size, 5)];
        float[][] scalar = [.. vector.Select(a => a.ToArray())];
        RmsPropKernel.Step(vector[0], gradient, vector[1], centered ? vector[2] : [], momentum > 0 ? vector[3] : [], c);
        RmsPropKernel.StepScalar(scalar[0], gradient, scalar[1], centered ? scalar[2] : [], momentum > 0 ? scalar[3] : [], c);
        Assert.That(vector, Is.EqualTo(scalar));
    }

    [Test]
    public void AveragingKernelMatchesScalarTwinAndSwapExchanges([ValueSource(nameof(s_sizes))] int size)
    {
        float[] parameter = Values(size, 2);
        float[] vector = Values(size, 1);
        float[] scalar = vector.ToArray();
        AveragingKernel.Update(vector, parameter, 0.99f, (float)(1 - 0.99));
        AveragingKernel.UpdateScalar(scalar, parameter, 0.99f, (float)(1 - 0.99));
        Assert.That(vector, Is.EqualTo(scalar));

        float[] before = parameter.ToArray();
        AveragingKernel.Swap(parameter, vector);
        Assert.That(parameter, Is.EqualTo(scalar));
        Assert.That(vector, Is.EqualTo(before));
    }

    [Test]
    public void KernelsRejectMismatchedLengths()
    {
        var c = new AdamKernel.Coefficients(0.01, 0.9, 0.999, 1e-8, 0, false, 1);
        Assert.Throws<ArgumentException>(() => AdamKernel.Step(new float[3], new float[2], new float[3], new float[3], [], false, c));
        Assert.Throws<ArgumentException>(() => AdamKernel.Step(new float[3], new float[3], new float[3], new float[3], [], true, c));
        Assert.Throws<ArgumentException>(() => SgdKernel.Step(new float[3], new float[3], new float[4], default));
        Assert.Throws<ArgumentException>(() => AveragingKernel.Update(new float[3], new float[4], 0.5f, 0.5f));
    }
}
