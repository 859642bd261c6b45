using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Tests;

/// <summary>The README's example, verbatim, must train; and a steady-state step must allocate almost nothing.</summary>
[TestFixture]
public sealed class ReadmeExampleTests
{
    [Test]
    public void TwoLayerMlpLearnsXorWithPlainSgd()
    {
        // ---- README example, unchanged ----
        var random = new RandomGenerator(seed: 0);
        Tensor w1 = Tensor.RandomNormal(random, [2, 16], std: 0.5f).RequireGrad(), b1 = Tensor.Zeros(16).RequireGrad();
        Tensor w2 = Tensor.RandomNormal(random, [16, 2], std: 0.5f).RequireGrad(), b2 = Tensor.Zeros(2).RequireGrad();
        Tensor x = Tensor.FromArray(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });   // (4, 2)
        int[] labels = [0, 1, 1, 0];
        var losses = new List<float>();
        for (int step = 0; step < 300; step++)
        {
            Tensor logits = (x.Matmul(w1) + b1).Relu().Matmul(w2) + b2;                         // (4, 2)
            Tensor loss = Losses.CrossEntropy(logits, labels);
            foreach (Tensor p in (Tensor[])[w1, b1, w2, b2]) { p.ZeroGrad(); }
            loss.Backward();
            foreach (Tensor p in (Tensor[])[w1, b1, w2, b2])
            {
                Span<float> value = p.AsSpan(), grad = p.Grad!.AsSpan();
                for (int i = 0; i < value.Length; i++) { value[i] -= 0.5f * grad[i]; }       // plain SGD, lr 0.5
            }
            losses.Add(loss.Item());
        }
        // ---- end of the example ----

        // ln 2 ≈ 0.69 is the loss of a network that cannot tell the classes apart.
        Assert.That(losses[0], Is.GreaterThan(0.5f));
        Assert.That(losses[^1], Is.LessThan(0.05f), $"loss went from {losses[0]} to {losses[^1]}");
        using (Tape.NoGrad())
        {
            float[] logits = ((x.Matmul(w1) + b1).Relu().Matmul(w2) + b2).ToArray();
            for (int i = 0; i < 4; i++)
            {
                int predicted = logits[2 * i + 1] > logits[2 * i] ? 1 : 0;
                Assert.That(predicted, Is.EqualTo(labels[i]), $"XOR row {i}");
            }
        }
    }

    [Test]
    public void SteadyStateMlpStepAllocatesOnlyTensorHeaders()
    {
        // A 3-layer MLP, 784-256-256-10 at batch 64: each activation is 64·256·4 = 64 KiB, and one step makes
        // ~9 activations and as many gradients, about 1 MiB of float buffers. The tape's pool recycles all of them,
        // backward's temporary gradients and cross-entropy's saved probabilities reuse their headers, and results
        // share the tape's interned layouts. What remains is what a user may hold: one Tensor per recorded result (48 B;
        // 9 results). The 64 B of slack is less than one small array or header for each of two ops, so a per-op allocation anywhere breaks the bound (docs/autodiff.md, "Memory").
        var random = new RandomGenerator(1);
        Tensor w1 = Tensor.RandomNormal(random, [784, 256], std: 0.05f).RequireGrad(), b1 = Tensor.Zeros(256).RequireGrad();
        Tensor w2 = Tensor.RandomNormal(random, [256, 256], std: 0.05f).RequireGrad(), b2 = Tensor.Zeros(256).RequireGrad();
        Tensor w3 = Tensor.RandomNormal(random, [256, 10], std: 0.05f).RequireGrad(), b3 = Tensor.Zeros(10).RequireGrad();
        Tensor[] parameters = [w1, b1, w2, b2, w3, b3];
        Tensor x = Tensor.RandomNormal(random, [64, 784]);
        int[] labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();

        int results = 0;
        void Step()
        {
            Tensor h1 = (x.Matmul(w1) + b1).Relu();
            Tensor h2 = (h1.Matmul(w2) + b2).Relu();
            Tensor loss = Losses.CrossEntropy(h2.Matmul(w3) + b3, labels);
            results = Tape.Current.Count;
            foreach (Tensor p in parameters)
            {
                p.ZeroGrad();
            }
            loss.Backward();
            foreach (Tensor p in parameters)
            {
                TensorPrimitives.MultiplyAdd(p.Grad!.AsSpan(), -0.01f, p.AsSpan(), p.AsSpan());
            }
        }

        for (int i = 0; i < 5; i++)
        {
            Step(); // warm-up: fills the pools, grows the tape's entry list, JIT-compiles
        }
        const int Steps = 20;
        long perStep = AllocationWindows.QuietestWindow(Step, Steps) / Steps;

        long bound = (results * Autodiff.TapeMemoryTests.ResultHeaderBytes()) + 64;
        TestContext.Out.WriteLine($"managed bytes allocated per MLP step (784-256-256-10, batch 64): {perStep} ({results} results, bound {bound})");
        Assert.That(results, Is.EqualTo(9));
        Assert.That(perStep, Is.LessThanOrEqualTo(bound));
    }
}
