using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// What <see cref="MeanOnlyBatchNorm1d"/> and <see cref="MeanOnlyBatchNorm2d"/> share: the paper's mean-only batch
/// normalization (Salimans &amp; Kingma 2016, §4), <c>y = x − μ + b</c> per channel, with no division by the
/// standard deviation. A learned <c>bias</c> b (zeros) and a <c>running_mean</c> buffer (zeros).
/// </summary>
/// <remarks>
/// Training subtracts the batch mean and updates <c>running_mean ← (1 − m)·running_mean + m·μ_batch</c> (m = 0.1:
/// the reference code's <c>avg ← 0.9·avg + 0.1·μ</c>); evaluation subtracts the running mean. Used after a
/// weight-normalized layer (whose own bias it makes redundant), it centres the pre-activations while weight norm
/// fixes their scale: the combination gave the paper's best CIFAR-10 error. In evaluation it is an affine map, so
/// <see cref="Folding"/> can fold it into the preceding layer.
/// </remarks>
public abstract class MeanOnlyBatchNormBase : Module
{
    private readonly Tensor _bias;
    private readonly Tensor _runningMean;

    /// <summary>Creates the bias and the running mean for <paramref name="numFeatures"/> channels.</summary>
    /// <param name="numFeatures">C, the channel axis (axis 1) of the input.</param>
    /// <param name="momentum">Weight of the batch mean in the running mean (the paper: 0.1).</param>
    /// <exception cref="ArgumentException">A non-positive size or a momentum outside [0, 1].</exception>
    protected MeanOnlyBatchNormBase(int numFeatures, float momentum)
    {
        if (numFeatures <= 0 || !(momentum is >= 0f and <= 1f))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}({numFeatures}, momentum={momentum}): expected numFeatures > 0 and momentum in [0, 1]."));
        }
        NumFeatures = numFeatures;
        Momentum = momentum;
        _bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));             // b, (C)
        _runningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures)); // (C)
    }

    /// <summary>C, the number of channels.</summary>
    public int NumFeatures { get; }

    /// <summary>The running-mean momentum.</summary>
    public float Momentum { get; }

    /// <summary>b, (C).</summary>
    public Tensor Bias => _bias;

    /// <summary>The running mean, (C); a buffer, updated in training.</summary>
    public Tensor RunningMean => _runningMean;

    /// <summary>
    /// <c>x − μ + b</c> per channel: the batch mean in training (and updates the running mean), the running mean in
    /// evaluation. Differentiable in the input and b.
    /// </summary>
    /// <param name="input">The shapes the subclass accepts, with C = <see cref="NumFeatures"/> on axis 1.</param>
    /// <returns>The input's shape.</returns>
    /// <exception cref="ArgumentException">A wrong rank or channel count, or an empty batch in training.</exception>
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        if (IsTraining && input.Count == 0)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText} is empty; the batch mean is undefined.");
        }
        return Normalization.MeanOnlyBatchNorm(input, _runningMean, _bias, IsTraining, Momentum);
    }

    /// <summary>Throws when the input's rank or channel count does not fit the layer.</summary>
    /// <exception cref="ArgumentException">The message names the layer, the input's shape and the expected shapes.</exception>
    protected abstract void CheckInput(Tensor input);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({NumFeatures})";
}
