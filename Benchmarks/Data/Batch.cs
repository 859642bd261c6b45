using NeuralCore.Engine;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// One mini-batch from a <see cref="DataLoader"/>. The loader reuses a batch's memory for the next batch: use (or
/// copy) it before asking for the next one.
/// </summary>
public sealed class Batch
{
    private readonly int[] _labels;
    private readonly int[] _indices;

    internal Batch(Tensor images, int size)
    {
        Images = images;
        _labels = new int[size];
        _indices = new int[size];
    }

    /// <summary>The images, shape (B, C, H, W), or (B, C·H·W) with <see cref="DataLoaderOptions.Flatten"/>; normalized and augmented. Not differentiable.</summary>
    public Tensor Images { get; }

    /// <summary>The number of examples, B.</summary>
    public int Count => _labels.Length;

    /// <summary>The class of each example, shape (B): what <c>Losses.CrossEntropy</c> takes.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>Where each example sits in the dataset, shape (B).</summary>
    public ReadOnlySpan<int> Indices => _indices;

    internal Span<int> WritableLabels => _labels;

    internal Span<int> WritableIndices => _indices;
}
