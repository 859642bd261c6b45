using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NUnit.Framework;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Tests.Layers;

/// <summary>A training step through the normalization and stochastic layers allocates no activation-sized buffer.</summary>
[TestFixture]
public sealed class LayerAllocationTests
{
    [TearDown]
    public void ResetTape() => Tape.Current.Reset();

    [Test]
    public void SteadyStateStepWithBatchNormDropoutAndNoiseAllocatesOnlySmallObjects()
    {
        // Batch 64, width 256: every activation is 64 KiB. The step records ~14 ops; each makes one small object (its
        // Tensor, 48 B), under 1 KiB in all. The 16 KiB bound fails as soon as one activation-sized buffer (a dropout
        // mask, a noise tensor, a BN temporary) is allocated.
        // The noise sits after a Linear, on a recorded tensor: on the raw input (which requires no grad) nothing is
        // recorded, so like any unrecorded op it would allocate its noise and output (see GaussianNoise's remarks).
        var random = new RandomGenerator(95);
        var model = new Sequential(
            new Linear(128, 256, random: random), new GaussianNoise(0.15f, random), new BatchNorm1d(256), new ReLU(), new Dropout(0.5f, random),
            new Linear(256, 256, random: random), new MeanOnlyBatchNorm1d(256), new LeakyReLU(0.1f),
            new Linear(256, 10, random: random));
        Tensor[] parameters = model.Parameters().ToArray();
        Tensor x = Tensor.RandomNormal(random, [64, 128]);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
        var loss = new CrossEntropyLoss();

        void Step()
        {
            Tensor value = loss.Compute(model.Forward(x), labels);
            model.ZeroGrad();
            value.Backward();
            foreach (Tensor p in parameters)
            {
                TensorPrimitives.MultiplyAdd(p.Grad!.AsSpan(), -0.01f, p.AsSpan(), p.AsSpan());
            }
        }

        for (int i = 0; i < 5; i++)
        {
            Step();
        }
        const int Steps = 20;
        long perStep = AllocationWindows.QuietestWindow(Step, Steps) / Steps;

        TestContext.Out.WriteLine($"managed bytes allocated per step (noise, 3 Linear, BN, mean-only BN, dropout; batch 64): {perStep}");
        Assert.That(perStep, Is.LessThan(16 * 1024));
    }
}
