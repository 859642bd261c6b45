using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share (PyTorch's <c>_BatchNorm</c>): the affine
/// parameters <c>weight</c> (γ, ones) and <c>bias</c> (β, zeros), and the buffers <c>running_mean</c> (zeros),
/// <c>running_var</c> (ones) and <c>num_batches_tracked</c>, under PyTorch's state-dict names. The subclasses only
/// say which input ranks they accept.
/// </summary>
/// <remarks>
/// Training normalizes with the batch statistics and updates the running ones (see
/// <see cref="Normalization.BatchNorm"/>); evaluation uses the running statistics. <c>num_batches_tracked</c> is a
/// float scalar here (PyTorch stores int64), exact up to 2²⁴ steps.
/// </remarks>
public abstract class BatchNormBase : Module
{
    private readonly Tensor? _weight;
    private readonly Tensor? _bias;
    private readonly Tensor _runningMean;
    private readonly Tensor _runningVar;
    private readonly Tensor _numBatchesTracked;

    /// <summary>Creates the parameters and buffers for <paramref name="numFeatures"/> channels.</summary>
    /// <param name="numFeatures">C, the channel axis (axis 1) of the input.</param>
    /// <param name="eps">Added to the variance before the square root (PyTorch: 1e-5).</param>
    /// <param name="momentum">
    /// Weight of the batch statistics in the running ones, <c>running = (1 − m)·running + m·batch</c> (PyTorch: 0.1);
    /// null for a cumulative average, m = 1/num_batches_tracked.
    /// </param>
    /// <param name="affine">Learn γ and β (PyTorch's default); false leaves them out (γ = 1, β = 0).</param>
    /// <exception cref="ArgumentException">A non-positive size or eps, or a momentum outside [0, 1].</exception>
    protected BatchNormBase(int numFeatures, float eps, float? momentum, bool affine)
    {
        if (numFeatures <= 0 || !(eps > 0f) || float.IsInfinity(eps) || (momentum is float m && !(m is >= 0f and <= 1f)))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}({numFeatures}, eps={eps}, momentum={momentum}): expected numFeatures > 0, a finite eps > 0 and momentum in [0, 1] or null."));
        }
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        if (affine)
        {
            _weight = RegisterParameter("weight", Tensor.Ones(numFeatures));       // γ, (C)
            _bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));          // β, (C)
        }
        _runningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures)); // (C)
        _runningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));    // (C)
        _numBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
    }

    /// <summary>C, the number of channels.</summary>
    public int NumFeatures { get; }

    /// <summary>ε, added to the variance.</summary>
    public float Eps { get; }

    /// <summary>The running-average momentum, or null for a cumulative average.</summary>
    public float? Momentum { get; }

    /// <summary>γ, (C), or null when not affine.</summary>
    public Tensor? Weight => _weight;

    /// <summary>β, (C), or null when not affine.</summary>
    public Tensor? Bias => _bias;

    /// <summary>The running mean, (C); a buffer, updated in training.</summary>
    public Tensor RunningMean => _runningMean;

    /// <summary>The running (unbiased) variance, (C); a buffer, updated in training.</summary>
    public Tensor RunningVar => _runningVar;

    /// <summary>How many training batches have updated the running statistics.</summary>
    public int NumBatchesTracked => (int)_numBatchesTracked.Item();

    /// <summary>
    /// Normalizes per channel: batch statistics in training (and updates the running ones), running statistics in
    /// evaluation. Differentiable in the input, γ and β.
    /// </summary>
    /// <param name="input">The shapes the subclass accepts, with C = <see cref="NumFeatures"/> on axis 1.</param>
    /// <returns>The input's shape.</returns>
    /// <exception cref="ArgumentException">A wrong rank or channel count, or one value per channel in training.</exception>
    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        float momentum = 0f;
        if (IsTraining)
        {
            float tracked = _numBatchesTracked.Item() + 1f;
            momentum = Momentum ?? 1f / tracked;
            if (input.Count / NumFeatures < 2)
            {
                throw new ArgumentException($"{this}: input {input.ShapeText} has one value per channel; training needs more than 1 to estimate a variance.");
            }
            Tensor result = Normalization.BatchNorm(input, _runningMean, _runningVar, _weight, _bias, training: true, momentum, Eps);
            _numBatchesTracked.AsSpan()[0] = tracked;
            return result;
        }
        return Normalization.BatchNorm(input, _runningMean, _runningVar, _weight, _bias, training: false, momentum, Eps);
    }

    /// <summary>Throws when the input's rank or channel count does not fit the layer.</summary>
    /// <exception cref="ArgumentException">The message names the layer, the input's shape and the expected shapes.</exception>
    protected abstract void CheckInput(Tensor input);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({NumFeatures})";
}
