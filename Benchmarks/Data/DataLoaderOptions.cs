namespace NeuralCore.Benchmarks.Data;

/// <summary>How a <see cref="DataLoader"/> orders, groups, normalizes and augments examples.</summary>
public sealed class DataLoaderOptions
{
    /// <summary>Examples per batch (default 100).</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Visit the examples in a new random order each epoch (default true); false keeps the file order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The seed of the shuffling and augmentation draws: the same seed and epoch give the same batches.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Drop the last batch when it is smaller than <see cref="BatchSize"/> (default false: keep it, so an epoch
    /// visits every example).
    /// </summary>
    public bool DropLast { get; init; }

    /// <summary>Applied to each batch after augmentation (default <see cref="Normalization.None"/>).</summary>
    public Normalization Normalization { get; init; } = Normalization.None;

    /// <summary>Batches of shape (B, C·H·W) for an MLP instead of (B, C, H, W) (default false).</summary>
    public bool Flatten { get; init; }

    /// <summary>
    /// Random-crop augmentation: pad each image by this many zero pixels on every side and cut a random H × W window
    /// from it, i.e. shift it by up to this many pixels each way (default 0: off). CIFAR-10 training commonly uses 4.
    /// </summary>
    public int CropPadding { get; init; }

    /// <summary>Mirror each image left–right with probability ½ (default false).</summary>
    public bool HorizontalFlip { get; init; }
}
