using NeuralCore.Engine;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Labelled images held in memory: <see cref="Images"/> is one float array of shape (N, C, H, W), row-major, and
/// <see cref="Labels"/> holds N class indices in [0, <see cref="ClassCount"/>).
/// </summary>
/// <remarks>
/// The readers give pixel values 0–255 as floats; a <see cref="Normalization"/> (in the <see cref="DataLoader"/>,
/// per batch, or once on the whole set) maps them to the range a network wants. A flat layout (N, C·H·W) is the
/// same array seen with another shape: see <see cref="ExampleSize"/> and <see cref="DataLoaderOptions.Flatten"/>.
/// </remarks>
public sealed class Dataset
{
    private readonly float[] _images; // (N, C, H, W)
    private readonly int[] _labels;   // (N)
    private readonly string[] _classNames;

    /// <summary>A dataset over <paramref name="images"/> (N·C·H·W values, not copied) and <paramref name="labels"/> (N, not copied).</summary>
    /// <exception cref="ArgumentException">
    /// A size is not positive, the array lengths do not match N examples of C × H × W, or a label is outside [0, classes).
    /// </exception>
    public Dataset(float[] images, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        if (channels <= 0 || height <= 0 || width <= 0 || classNames.Count == 0)
        {
            throw new ArgumentException(
                $"Dataset: images of {channels} × {height} × {width} with {classNames.Count} classes; expected positive sizes and at least one class.");
        }
        long exampleSize = (long)channels * height * width;
        if (images.Length != labels.Length * exampleSize)
        {
            throw new ArgumentException(
                $"Dataset: {images.Length} image values for {labels.Length} labels; expected {labels.Length} × {channels} × {height} × {width}.");
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Dataset: label {labels[i]} at index {i}; expected a class in [0, {classNames.Count}).");
            }
        }
        _images = images;
        _labels = labels;
        _classNames = [.. classNames];
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>A dataset from unsigned-byte pixels (N·C·H·W, (N, C, H, W) order) and byte labels, as the files store them.</summary>
    /// <exception cref="ArgumentException">As for the constructor.</exception>
    public static Dataset FromBytes(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int channels, int height, int width,
        IReadOnlyList<string> classNames)
    {
        var images = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            images[i] = pixels[i];
        }
        var intLabels = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            intLabels[i] = labels[i];
        }
        return new Dataset(images, intLabels, channels, height, width, classNames);
    }

    /// <summary>Number of examples, N.</summary>
    public int Count => _labels.Length;

    /// <summary>Channels per image, C (1 for grey-scale, 3 for colour).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels, H.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels, W.</summary>
    public int Width { get; }

    /// <summary>Values per example, C·H·W (the input width of an MLP).</summary>
    public int ExampleSize => Channels * Height * Width;

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>Number of classes.</summary>
    public int ClassCount => _classNames.Length;

    /// <summary>All image values, shape (N, C, H, W), row-major. Writable: preprocessing may transform it in place.</summary>
    public Span<float> Images => _images;

    /// <summary>All labels, shape (N).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The values of example <paramref name="index"/>, shape (C, H, W).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, N).</exception>
    public Span<float> Example(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _images.AsSpan(index * ExampleSize, ExampleSize);
    }

    /// <summary>How many examples each class has, indexed by label.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (int label in _labels)
        {
            counts[label]++;
        }
        return counts;
    }

    /// <summary>A new dataset holding copies of the examples at <paramref name="indices"/>, in that order (e.g. for a quick run).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, N).</exception>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var images = new float[indices.Length * ExampleSize];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Example(indices[i]).CopyTo(images.AsSpan(i * ExampleSize));
            labels[i] = _labels[indices[i]];
        }
        return new Dataset(images, labels, Channels, Height, Width, _classNames);
    }

    /// <summary>A deep copy (e.g. to keep the raw pixels while preprocessing the copy in place).</summary>
    public Dataset Clone() => new((float[])_images.Clone(), (int[])_labels.Clone(), Channels, Height, Width, _classNames);

    /// <summary>
    /// All images as one tensor sharing this dataset's memory: (N, C, H, W), or (N, C·H·W) when
    /// <paramref name="flatten"/>. Not differentiable (a leaf that does not require gradients).
    /// </summary>
    public Tensor ToTensor(bool flatten = false) =>
        flatten ? Tensor.Wrap(_images, Count, ExampleSize) : Tensor.Wrap(_images, Count, Channels, Height, Width);

    /// <inheritdoc/>
    public override string ToString() => $"Dataset({Count} × {Channels} × {Height} × {Width}, {ClassCount} classes)";
}
