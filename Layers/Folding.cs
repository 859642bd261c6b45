using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// Folds an evaluation-mode normalization layer into the Linear layer before it, for inference (DESIGN.md,
/// "Folding"): the returned plain Linear computes what <c>norm(linear(x))</c> computes in evaluation mode, with one
/// matmul and no per-channel pass. The inputs are not changed.
/// </summary>
/// <remarks>
/// Only the running statistics are used (the evaluation behaviour); in training a batch-norm layer depends on the
/// batch, which no fixed layer can reproduce. A weight-normalized Linear folds too: its <see cref="WeightNormalizableLayer.Weight"/>
/// is the effective weight g·v/‖v‖.
/// </remarks>
public static class Folding
{
    /// <summary>
    /// <c>BN(Wx + b)</c> in evaluation mode as one Linear: with <c>s = γ/√(running_var + ε)</c> per output,
    /// <c>W' = diag(s)·W</c> and <c>b' = s·(b − running_mean) + β</c>.
    /// </summary>
    /// <returns>A new Linear (in → out) with the folded weight and bias.</returns>
    /// <exception cref="ArgumentException">The batch norm's features differ from the Linear's outputs.</exception>
    public static Linear FoldBatchNorm(Linear linear, BatchNorm1d batchNorm)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentNullException.ThrowIfNull(batchNorm);
        CheckFeatures(linear, batchNorm.NumFeatures, batchNorm);
        int outFeatures = linear.OutFeatures, inFeatures = linear.InFeatures;
        float[] weight, bias;
        using (Tape.NoGrad())
        {
            weight = linear.Weight.ToArray();                                          // (out, in)
            bias = linear.Bias?.ToArray() ?? new float[outFeatures];                   // (out)
            float[] mean = batchNorm.RunningMean.ToArray(), variance = batchNorm.RunningVar.ToArray();
            float[]? gamma = batchNorm.Weight?.ToArray(), beta = batchNorm.Bias?.ToArray();
            for (int j = 0; j < outFeatures; j++)
            {
                // s_j = γ_j/√(var_j + ε), in double so the folded layer rounds no worse than the pair it replaces.
                double s = (gamma?[j] ?? 1.0) / Math.Sqrt(variance[j] + (double)batchNorm.Eps);
                for (int i = 0; i < inFeatures; i++)
                {
                    weight[(j * inFeatures) + i] = (float)(s * weight[(j * inFeatures) + i]);   // row j of diag(s)·W
                }
                bias[j] = (float)((s * (bias[j] - (double)mean[j])) + (beta?[j] ?? 0.0));
            }
        }
        return Linear.FromWeights(Tensor.Wrap(weight, outFeatures, inFeatures), Tensor.Wrap(bias, outFeatures));
    }

    /// <summary>
    /// <c>MeanOnlyBN(Wx + b)</c> in evaluation mode as one Linear: the weight is unchanged and
    /// <c>b' = b − running_mean + b_bn</c> (paper §4: the layer only shifts).
    /// </summary>
    /// <returns>A new Linear (in → out) with the folded weight and bias.</returns>
    /// <exception cref="ArgumentException">The batch norm's features differ from the Linear's outputs.</exception>
    public static Linear FoldBatchNorm(Linear linear, MeanOnlyBatchNorm1d batchNorm)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentNullException.ThrowIfNull(batchNorm);
        CheckFeatures(linear, batchNorm.NumFeatures, batchNorm);
        int outFeatures = linear.OutFeatures;
        float[] weight, bias;
        using (Tape.NoGrad())
        {
            weight = linear.Weight.ToArray();                                          // (out, in)
            bias = linear.Bias?.ToArray() ?? new float[outFeatures];                   // (out)
            float[] mean = batchNorm.RunningMean.ToArray(), shift = batchNorm.Bias.ToArray();
            for (int j = 0; j < outFeatures; j++)
            {
                bias[j] = (float)((double)bias[j] - mean[j] + shift[j]);
            }
        }
        return Linear.FromWeights(Tensor.Wrap(weight, outFeatures, linear.InFeatures), Tensor.Wrap(bias, outFeatures));
    }

    private static void CheckFeatures(Linear linear, int features, Module norm)
    {
        if (linear.OutFeatures != features)
        {
            throw new ArgumentException($"Folding {norm} into {linear}: the norm has {features} features, the layer {linear.OutFeatures} outputs; expected the same.");
        }
    }
}
