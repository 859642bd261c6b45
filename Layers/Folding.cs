using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// Folds an evaluation-mode normalization layer into the Linear or Conv2d layer before it, for inference (DESIGN.md,
/// "Folding"): the returned plain layer computes what <c>norm(layer(x))</c> computes in evaluation mode, with one
/// matmul (or convolution) and no per-channel pass. The inputs are not changed.
/// </summary>
/// <remarks>
/// Only the running statistics are used (the evaluation behaviour); in training a batch-norm layer depends on the
/// batch, which no fixed layer can reproduce. A weight-normalized layer folds too: its <see cref="WeightNormalizableLayer.Weight"/>
/// is the effective weight g·v/‖v‖. For a Conv2d each output channel is one unit: its weight (O, C, kh, kw) is seen as
/// the matrix (O, C·kh·kw) and scaled row by row.
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
        CheckFeatures(linear, linear.OutFeatures, batchNorm.NumFeatures, batchNorm);
        (float[] weight, float[] bias) = FoldScaleAndShift(linear, linear.OutFeatures, batchNorm);
        return Linear.FromWeights(Tensor.Wrap(weight, linear.OutFeatures, linear.InFeatures), Tensor.Wrap(bias, linear.OutFeatures));
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
        CheckFeatures(linear, linear.OutFeatures, batchNorm.NumFeatures, batchNorm);
        (float[] weight, float[] bias) = FoldShift(linear, linear.OutFeatures, batchNorm);
        return Linear.FromWeights(Tensor.Wrap(weight, linear.OutFeatures, linear.InFeatures), Tensor.Wrap(bias, linear.OutFeatures));
    }

    /// <summary>
    /// <c>BN(conv(x, W) + b)</c> in evaluation mode as one Conv2d: with <c>s_o = γ_o/√(running_var_o + ε)</c> per output
    /// channel, <c>W'[o] = s_o·W[o]</c> (every C·kh·kw entry of filter o) and <c>b'_o = s_o·(b_o − running_mean_o) + β_o</c>.
    /// </summary>
    /// <returns>A new plain Conv2d with the folded weight and bias and the same stride, padding and dilation.</returns>
    /// <exception cref="ArgumentException">The batch norm's features differ from the Conv2d's output channels.</exception>
    public static Conv2d FoldBatchNorm(Conv2d conv, BatchNorm2d batchNorm)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(batchNorm);
        CheckFeatures(conv, conv.OutChannels, batchNorm.NumFeatures, batchNorm);
        (float[] weight, float[] bias) = FoldScaleAndShift(conv, conv.OutChannels, batchNorm);
        return FoldedConv(conv, weight, bias);
    }

    /// <summary>
    /// <c>MeanOnlyBN(conv(x, W) + b)</c> in evaluation mode as one Conv2d: the weight is unchanged and
    /// <c>b'_o = b_o − running_mean_o + b_bn,o</c> (paper §4: the layer only shifts).
    /// </summary>
    /// <returns>A new plain Conv2d with the folded weight and bias and the same stride, padding and dilation.</returns>
    /// <exception cref="ArgumentException">The batch norm's features differ from the Conv2d's output channels.</exception>
    public static Conv2d FoldBatchNorm(Conv2d conv, MeanOnlyBatchNorm2d batchNorm)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(batchNorm);
        CheckFeatures(conv, conv.OutChannels, batchNorm.NumFeatures, batchNorm);
        (float[] weight, float[] bias) = FoldShift(conv, conv.OutChannels, batchNorm);
        return FoldedConv(conv, weight, bias);
    }

    /// <summary>The effective weight with row o scaled by s_o = γ_o/√(var_o + ε), and b' = s·(b − mean) + β.</summary>
    private static (float[] Weight, float[] Bias) FoldScaleAndShift(WeightNormalizableLayer layer, int units, BatchNormBase batchNorm)
    {
        float[] weight, bias;
        using (Tape.NoGrad())
        {
            weight = layer.Weight.ToArray();                                           // (out, rest): (out, in) or (O, C·kh·kw)
            bias = layer.Bias?.ToArray() ?? new float[units];                          // (out)
            int rowLength = weight.Length / units;
            float[] mean = batchNorm.RunningMean.ToArray(), variance = batchNorm.RunningVar.ToArray();
            float[]? gamma = batchNorm.Weight?.ToArray(), beta = batchNorm.Bias?.ToArray();
            for (int j = 0; j < units; j++)
            {
                // s_j = γ_j/√(var_j + ε), in double so the folded layer rounds no worse than the pair it replaces.
                double s = (gamma?[j] ?? 1.0) / Math.Sqrt(variance[j] + (double)batchNorm.Eps);
                for (int i = 0; i < rowLength; i++)
                {
                    weight[(j * rowLength) + i] = (float)(s * weight[(j * rowLength) + i]);   // row j of diag(s)·W
                }
                bias[j] = (float)((s * (bias[j] - (double)mean[j])) + (beta?[j] ?? 0.0));
            }
        }
        return (weight, bias);
    }

    /// <summary>The effective weight unchanged, and b' = b − running_mean + b_bn.</summary>
    private static (float[] Weight, float[] Bias) FoldShift(WeightNormalizableLayer layer, int units, MeanOnlyBatchNormBase batchNorm)
    {
        float[] weight, bias;
        using (Tape.NoGrad())
        {
            weight = layer.Weight.ToArray();                                           // (out, rest)
            bias = layer.Bias?.ToArray() ?? new float[units];                          // (out)
            float[] mean = batchNorm.RunningMean.ToArray(), shift = batchNorm.Bias.ToArray();
            for (int j = 0; j < units; j++)
            {
                bias[j] = (float)((double)bias[j] - mean[j] + shift[j]);
            }
        }
        return (weight, bias);
    }

    private static Conv2d FoldedConv(Conv2d conv, float[] weight, float[] bias) =>
        Conv2d.FromWeights(Tensor.Wrap(weight, conv.OutChannels, conv.InChannels, conv.KernelSize, conv.KernelSize),
            Tensor.Wrap(bias, conv.OutChannels), conv.Stride, conv.Padding, conv.Dilation);

    private static void CheckFeatures(Module layer, int outputs, int features, Module norm)
    {
        if (outputs != features)
        {
            throw new ArgumentException($"Folding {norm} into {layer}: the norm has {features} features, the layer {outputs} outputs; expected the same.");
        }
    }
}
