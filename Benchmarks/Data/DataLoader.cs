using NeuralCore.Engine;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Serves a <see cref="Dataset"/> as mini-batches, epoch by epoch: in a seeded random order, augmented, then
/// normalized. <c>foreach (Batch batch in loader.Epoch(e)) { … }</c>.
/// </summary>
/// <remarks>
/// <para>
/// Determinism: epoch <c>e</c> draws its order and augmentations from a <see cref="RandomGenerator"/> seeded by
/// (<see cref="DataLoaderOptions.Seed"/>, e) alone, so the same seed gives the same batches in every run, on every
/// machine, and a run resumed at epoch e sees what it would have seen; different epochs get different orders.
/// Every example appears exactly once per epoch (except those of a dropped last batch).
/// </para>
/// <para>
/// Memory: the loader owns two batches, one of the full size and one for a smaller last batch, and refills them;
/// after the first epoch it allocates nothing per batch. So a <see cref="Batch"/> (and its tensor) is only valid
/// until the next one is produced.
/// </para>
/// </remarks>
public sealed class DataLoader
{
    private readonly Dataset _dataset;
    private readonly DataLoaderOptions _options;
    private readonly int[] _order;     // (N): the visiting order of the current epoch
    private readonly float[] _scratch; // (C, H, W): one example, for augmentation
    private Batch? _fullBatch;
    private Batch? _lastBatch;

    /// <summary>A loader over <paramref name="dataset"/>; <paramref name="options"/> default to <see cref="DataLoaderOptions"/>'s defaults.</summary>
    /// <exception cref="ArgumentException">The batch size is not positive, the crop padding is negative, or the normalization does not fit the channels.</exception>
    public DataLoader(Dataset dataset, DataLoaderOptions? options = null)
    {
        options ??= new DataLoaderOptions();
        if (options.BatchSize <= 0)
        {
            throw new ArgumentException($"DataLoader: batch size {options.BatchSize}; expected a positive number.");
        }
        if (options.CropPadding < 0)
        {
            throw new ArgumentException($"DataLoader: crop padding {options.CropPadding}; expected 0 (off) or more.");
        }
        _dataset = dataset;
        _options = options;
        _order = new int[dataset.Count];
        _scratch = new float[dataset.ExampleSize];
        // Fail now, not in the middle of the first epoch, if the normalization is for another number of channels.
        options.Normalization.Apply(_scratch, dataset.Channels, dataset.Height * dataset.Width);
    }

    /// <summary>The dataset being served.</summary>
    public Dataset Dataset => _dataset;

    /// <summary>The options in use.</summary>
    public DataLoaderOptions Options => _options;

    /// <summary>Batches per epoch: ⌈N / B⌉, or ⌊N / B⌋ with <see cref="DataLoaderOptions.DropLast"/>.</summary>
    public int BatchCount => _options.DropLast
        ? _dataset.Count / _options.BatchSize
        : (_dataset.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> (0, 1, …), in order. Each batch is overwritten by the next.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Batches(epoch);
    }

    private IEnumerable<Batch> Batches(int epoch)
    {
        // One generator per epoch, seeded from (seed, epoch). RandomGenerator runs its seed through SplitMix64, so
        // nearby seeds still give unrelated sequences.
        var random = new RandomGenerator(_options.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1)));
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }
        if (_options.Shuffle)
        {
            random.Shuffle(_order.AsSpan());
        }

        int batchSize = _options.BatchSize;
        for (int start = 0; start < _order.Length; start += batchSize)
        {
            int size = Math.Min(batchSize, _order.Length - start);
            if (size < batchSize && _options.DropLast)
            {
                yield break;
            }
            Batch batch = size == batchSize ? (_fullBatch ??= NewBatch(size)) : (_lastBatch ??= NewBatch(size));
            Fill(batch, _order.AsSpan(start, size), random);
            yield return batch;
        }
    }

    private Batch NewBatch(int size)
    {
        var data = new float[size * _dataset.ExampleSize];
        Tensor images = _options.Flatten
            ? Tensor.Wrap(data, size, _dataset.ExampleSize)
            : Tensor.Wrap(data, size, _dataset.Channels, _dataset.Height, _dataset.Width);
        return new Batch(images, size);
    }

    // Copies the examples at `indices` into the batch, augments each, then normalizes the whole batch.
    private void Fill(Batch batch, ReadOnlySpan<int> indices, RandomGenerator random)
    {
        Span<float> images = batch.Images.AsSpan(); // (B, C, H, W)
        int exampleSize = _dataset.ExampleSize;
        bool augment = _options.CropPadding > 0 || _options.HorizontalFlip;
        for (int i = 0; i < indices.Length; i++)
        {
            Span<float> destination = images.Slice(i * exampleSize, exampleSize);
            if (augment)
            {
                int padding = _options.CropPadding;
                int shiftY = padding > 0 ? random.NextInt(2 * padding + 1) - padding : 0;
                int shiftX = padding > 0 ? random.NextInt(2 * padding + 1) - padding : 0;
                bool flip = _options.HorizontalFlip && random.NextInt(2) == 1;
                _dataset.Example(indices[i]).CopyTo(_scratch);
                CropAndFlip(_scratch, destination, _dataset.Channels, _dataset.Height, _dataset.Width, shiftY, shiftX, flip);
            }
            else
            {
                _dataset.Example(indices[i]).CopyTo(destination);
            }
            batch.WritableLabels[i] = _dataset.Labels[indices[i]];
            batch.WritableIndices[i] = indices[i];
        }
        _options.Normalization.Apply(images, _dataset.Channels, _dataset.Height * _dataset.Width);
    }

    /// <summary>
    /// Random-crop-with-padding and flip in one pass, for one image of shape (C, H, W): output pixel (y, x) is
    /// source pixel (y + shiftY, x + shiftX), or 0 where that falls outside the image (the zero padding), and with
    /// <paramref name="flip"/> the output row is written right to left. A crop of the image padded by p at offset
    /// (p + shiftY, p + shiftX) is exactly this, without building the padded image.
    /// </summary>
    internal static void CropAndFlip(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width,
        int shiftY, int shiftX, bool flip)
    {
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                Span<float> outRow = destination.Slice((c * height + y) * width, width);
                int sourceY = y + shiftY;
                if (sourceY < 0 || sourceY >= height)
                {
                    outRow.Clear();
                    continue;
                }
                ReadOnlySpan<float> inRow = source.Slice((c * height + sourceY) * width, width);
                for (int x = 0; x < width; x++)
                {
                    int sourceX = x + shiftX;
                    float value = sourceX >= 0 && sourceX < width ? inRow[sourceX] : 0f;
                    outRow[flip ? width - 1 - x : x] = value;
                }
            }
        }
    }
}
