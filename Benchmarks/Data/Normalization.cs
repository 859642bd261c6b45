using System.Globalization;
using System.Linq;
using System.Numerics.Tensors;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// A per-channel affine map of pixel values, <c>y = (x − mean[c]) / std[c]</c>, from the readers' 0–255 range to
/// the range a network trains well on. The <see cref="DataLoader"/> applies it to each batch (after augmentation, so
/// the padding of a random crop is black, as in torchvision); <see cref="Apply(Dataset)"/> applies it once to a
/// whole set instead.
/// </summary>
public sealed class Normalization
{
    private readonly float[] _mean; // (1) for every channel alike, or (C)
    private readonly float[] _std;

    private Normalization(float[] mean, float[] std, string name)
    {
        if (mean.Length != std.Length || mean.Length == 0)
        {
            throw new ArgumentException($"Normalization: {mean.Length} means and {std.Length} standard deviations; expected the same positive number.");
        }
        for (int c = 0; c < mean.Length; c++)
        {
            if (!float.IsFinite(mean[c]) || !float.IsFinite(std[c]) || std[c] <= 0)
            {
                throw new ArgumentException($"Normalization: channel {c} has mean {mean[c]} and std {std[c]}; expected finite values with std > 0.");
            }
        }
        _mean = mean;
        _std = std;
        Name = name;
    }

    /// <summary>The identity: values stay as they are.</summary>
    public static Normalization None { get; } = new([0f], [1f], "none");

    /// <summary><c>x / 255</c>: pixel values to [0, 1] (torchvision's <c>ToTensor</c>).</summary>
    public static Normalization UnitRange { get; } = new([0f], [255f], "[0, 1]");

    /// <summary><c>x / 127.5 − 1</c>: pixel values to [−1, 1].</summary>
    public static Normalization SymmetricRange { get; } = new([127.5f], [127.5f], "[-1, 1]");

    /// <summary>
    /// <c>(x − 127.5) / 128</c>: the weight-normalization paper's CIFAR-10 scaling (its code's
    /// <c>(x - 127.5) / 128.</c>), applied before ZCA whitening (see <see cref="ZcaWhitening"/>).
    /// </summary>
    public static Normalization PaperCifar { get; } = new([127.5f], [128f], "(x - 127.5) / 128");

    /// <summary>A readable description, e.g. for a run's report.</summary>
    public string Name { get; }

    /// <summary><c>(x − mean[c]) / std[c]</c> with the given values per channel (in the data's units, e.g. 0–255).</summary>
    /// <exception cref="ArgumentException">The spans differ in length or are empty, a value is not finite, or a std is not positive.</exception>
    public static Normalization PerChannel(ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        string name = "per-channel mean " + Format(mean) + ", std " + Format(std);
        return new Normalization(mean.ToArray(), std.ToArray(), name);
    }

    /// <summary>
    /// The per-channel mean and standard deviation of <paramref name="train"/> (computed in double precision), as a
    /// normalization that gives the training set zero mean and unit variance in each channel. Fit it on the training
    /// set only, and use it for the test set too.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is empty, or a channel is constant (zero variance).</exception>
    public static Normalization FitPerChannel(Dataset train)
    {
        if (train.Count == 0)
        {
            throw new ArgumentException("Normalization.FitPerChannel: the dataset is empty; expected at least one example.");
        }
        int channels = train.Channels;
        int plane = train.Height * train.Width;
        var sum = new double[channels];
        var sumOfSquares = new double[channels];
        ReadOnlySpan<float> images = train.Images;
        for (int n = 0; n < train.Count; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                foreach (float x in images.Slice((n * channels + c) * plane, plane))
                {
                    sum[c] += x;
                    sumOfSquares[c] += (double)x * x;
                }
            }
        }
        var mean = new float[channels];
        var std = new float[channels];
        double perChannel = (double)train.Count * plane;
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / perChannel;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(0, sumOfSquares[c] / perChannel - m * m));
        }
        return PerChannel(mean, std);
    }

    /// <summary>
    /// Normalizes <paramref name="images"/> in place: a whole number of examples of shape (C, H, W), with
    /// <paramref name="channels"/> = C and <paramref name="plane"/> = H·W.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The normalization has per-channel values for a different number of channels, or the span is not a whole number of examples.
    /// </exception>
    public void Apply(Span<float> images, int channels, int plane)
    {
        if (_mean.Length != 1 && _mean.Length != channels)
        {
            throw new ArgumentException($"Normalization ({Name}): values for {_mean.Length} channels; the images have {channels}.");
        }
        if (channels <= 0 || plane <= 0 || images.Length % (channels * plane) != 0)
        {
            throw new ArgumentException(
                $"Normalization ({Name}): {images.Length} values; expected a whole number of examples of {channels} × {plane}.");
        }
        for (int start = 0, c = 0; start < images.Length; start += plane, c = (c + 1) % channels)
        {
            int k = _mean.Length == 1 ? 0 : c;
            Span<float> values = images.Slice(start, plane);
            // (x − mean) / std, computed as x · (1/std) − mean/std: two vectorized passes.
            float scale = 1f / _std[k];
            TensorPrimitives.Multiply(values, scale, values);
            TensorPrimitives.Add(values, -_mean[k] * scale, values);
        }
    }

    /// <summary>Normalizes every image of <paramref name="dataset"/> in place; returns the same dataset.</summary>
    /// <exception cref="ArgumentException">The normalization has values for a different number of channels.</exception>
    public Dataset Apply(Dataset dataset)
    {
        Apply(dataset.Images, dataset.Channels, dataset.Height * dataset.Width);
        return dataset;
    }

    /// <summary>The mean subtracted from channel <paramref name="channel"/>.</summary>
    public float MeanOf(int channel) => _mean[_mean.Length == 1 ? 0 : channel];

    /// <summary>The standard deviation channel <paramref name="channel"/> is divided by.</summary>
    public float StdOf(int channel) => _std[_std.Length == 1 ? 0 : channel];

    /// <inheritdoc/>
    public override string ToString() => $"Normalization({Name})";

    private static string Format(ReadOnlySpan<float> values) =>
        "(" + string.Join(", ", values.ToArray().Select(v => v.ToString("0.###", CultureInfo.InvariantCulture))) + ")";
}
