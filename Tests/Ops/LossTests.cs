using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NUnit.Framework;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// Cross-entropy and mean squared error: values and gradients against double-precision references (including
/// logits of ±1e4, where finite differences are useless), one tape entry per loss, and bad-input messages.
/// </summary>
[TestFixture]
public sealed class LossTests
{
    [Test]
    public void CrossEntropyMatchesDoubleReference()
    {
        Tensor logits = Tensor.RandomNormal(new RandomGenerator(21), [5, 17], std: 2f).RequireGrad();
        int[] labels = [0, 16, 3, 3, 9];

        Tensor loss = Losses.CrossEntropy(logits, labels);
        loss.Backward();

        (double expectedLoss, double[] expectedGrad) = CrossEntropyReference(logits.ToArray(), 17, labels);
        Assert.That(loss.Rank, Is.Zero);
        // Loss O(1) with float32 rounding ~1e-7 relative; gradient entries are O(1/N) with rounding ~1e-8.
        Assert.That(loss.Item(), Is.EqualTo(expectedLoss).Within(1e-5));
        Assert.That(logits.Grad!.ToArray(), Is.EqualTo(expectedGrad).Within(1e-6));
    }

    [Test]
    public void CrossEntropyIsStableForHugeLogits()
    {
        // Logits of ±1e4: exp overflows float32 at 88.7, so an unshifted softmax gives inf/inf = NaN. Rows include
        // a tie at the max, a label on the max, and a label 2e4 below it (loss 2e4).
        const int Rows = 8;
        const int Classes = 33;
        Tensor logits = Tensor.RandomUniform(new RandomGenerator(22), [Rows, Classes], -1e4f, 1e4f);
        Span<float> values = logits.AsSpan();
        values[0] = 1e4f;
        values[1] = 1e4f;            // row 0: two classes tie at the max
        values[Classes] = -1e4f;
        values[Classes + 1] = 1e4f;  // row 1: the label (0) is 2e4 below the max
        int[] labels = [1, 0, 5, 32, 7, 7, 0, 16];
        logits.RequiresGrad = true;

        Tensor loss = Losses.CrossEntropy(logits, labels);
        loss.Backward();
        float[] grad = logits.Grad!.ToArray();

        (double expectedLoss, double[] expectedGrad) = CrossEntropyReference(logits.ToArray(), Classes, labels);
        Assert.That(float.IsFinite(loss.Item()), Is.True);
        Assert.That(grad.All(float.IsFinite), Is.True);
        // The loss is ~1e4 (float32 ulp there is ~1e-3): 1e-6 relative is a few ulps.
        Assert.That(loss.Item(), Is.EqualTo(expectedLoss).Within(1e-6 * Math.Abs(expectedLoss)));
        // Gradient entries are (p − onehot)/N with |entry| ≤ 1/N. x − max is exact here (Sterbenz) or far below
        // −88 (p = 0 either way), so p carries only exp's and the division's rounding, ~1e-7 relative: 1e-6/N
        // absolute is a 10× margin, and a wrong rule (missing 1/N, wrong label column) is off by ~1/N.
        Assert.That(grad, Is.EqualTo(expectedGrad).Within(1e-6 / Rows));
        Assert.That(grad[0], Is.EqualTo(0.5 / Rows).Within(1e-6 / Rows), "tied max, not the label: half the probability");
    }

    [Test]
    public void CrossEntropyIsOneTapeEntry()
    {
        Tape.Current.Reset();
        Tensor logits = Tensor.RandomNormal(new RandomGenerator(23), [2, 3]).RequireGrad();

        Tensor loss = Losses.CrossEntropy(logits, [2, 1]);

        Assert.That(loss.RecordingTape!.OpNames().ToArray(), Is.EqualTo(Values("cross_entropy")));
    }

    [Test]
    public void CrossEntropyReadsNonContiguousLogits()
    {
        // A transposed view (4, 3) with strides (1, 4) over a (3, 4) buffer.
        Tensor source = Tensor.RandomNormal(new RandomGenerator(24), [3, 4]);
        var view = new Tensor(source, 0, [4, 3], [1, 4]);
        int[] labels = [2, 0, 1, 1];

        Assert.That(Losses.CrossEntropy(view, labels).Item(), Is.EqualTo(Losses.CrossEntropy(view.Copy(), labels).Item()));
    }

    [Test]
    public void CrossEntropyRejectsBadInputs()
    {
        Tensor logits = Tensor.Zeros(3, 4);

        Assert.That(() => Losses.CrossEntropy(Tensor.Zeros(4), [1]),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("rank 2"));
        Assert.That(() => Losses.CrossEntropy(Tensor.Zeros(2, 3, 4), [1, 2]),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("(2, 3, 4)"));
        Assert.That(() => Losses.CrossEntropy(logits, [1, 2]),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("2 labels"));
        Assert.That(() => Losses.CrossEntropy(logits, [0, 4, 1]),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("label 4 at row 1"));
        Assert.That(() => Losses.CrossEntropy(logits, [0, 1, -1]),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("label -1"));
        Assert.That(() => Losses.CrossEntropy(Tensor.Zeros(0, 4), []),
            Throws.ArgumentException.With.Message.Contains("CrossEntropy").And.Message.Contains("no rows"));
    }

    [Test]
    public void MeanSquaredErrorMatchesReferenceAndGradients()
    {
        Tensor a = Tensor.RandomNormal(new RandomGenerator(25), [3, 17]).RequireGrad();
        Tensor b = Tensor.RandomNormal(new RandomGenerator(26), [3, 17]).RequireGrad();

        Tensor loss = Losses.MeanSquaredError(a, b);
        loss.Backward(Tensor.Scalar(2f));

        float[] av = a.ToArray();
        float[] bv = b.ToArray();
        double expected = av.Zip(bv, (x, y) => ((double)x - y) * ((double)x - y)).Average();
        double[] expectedGrad = av.Zip(bv, (x, y) => 2.0 * 2.0 * ((double)x - y) / av.Length).ToArray();
        Assert.That(loss.Rank, Is.Zero);
        Assert.That(loss.Item(), Is.EqualTo(expected).Within(1e-6 * expected));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(expectedGrad).Within(1e-6));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(expectedGrad.Select(g => -g).ToArray()).Within(1e-6));
    }

    [Test]
    public void MeanSquaredErrorRefusesToBroadcast()
    {
        Assert.That(() => Losses.MeanSquaredError(Tensor.Zeros(3, 1), Tensor.Zeros(3)),
            Throws.ArgumentException.With.Message.Contains("MeanSquaredError").And.Message.Contains("(3, 1)").And.Message.Contains("(3)"));
        Assert.That(() => Losses.MeanSquaredError(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)),
            Throws.ArgumentException.With.Message.Contains("MeanSquaredError"));
    }

    // ---------------------------------------------------------------- references, in double

    private static T[] Values<T>(params T[] values) => values;

    /// <summary>Mean cross-entropy and its gradient (softmax − onehot)/N, in double with the max shifted out.</summary>
    private static (double Loss, double[] Grad) CrossEntropyReference(float[] logits, int classes, int[] labels)
    {
        int rows = labels.Length;
        var grad = new double[logits.Length];
        double loss = 0;
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = Math.Max(max, logits[i * classes + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                sum += Math.Exp(logits[i * classes + c] - max);
            }
            loss += Math.Log(sum) + max - logits[i * classes + labels[i]];
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(logits[i * classes + c] - max) / sum;
                grad[i * classes + c] = (p - (c == labels[i] ? 1 : 0)) / rows;
            }
        }
        return (loss / rows, grad);
    }
}
