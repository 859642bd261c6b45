namespace NeuralCore.Samples.Classify;

/// <summary>
/// A batch of 8-bit grey-scale images as read from a file: <see cref="Count"/> images of <see cref="Height"/> ×
/// <see cref="Width"/> pixels, row by row, one byte (0 black – 255 white) per pixel.
/// </summary>
public sealed class GreyImages
{
    /// <summary>Wraps <paramref name="pixels"/> (Count × Height × Width bytes, not copied).</summary>
    /// <exception cref="ArgumentException">The sizes are not positive, or the pixel count is not their product.</exception>
    public GreyImages(byte[] pixels, int count, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (count < 1 || height < 1 || width < 1 || pixels.LongLength != (long)count * height * width)
        {
            throw new ArgumentException(
                $"GreyImages: {pixels.LongLength} pixels for {count} images of {height} × {width}; expected positive sizes and their product.");
        }
        Pixels = pixels;
        Count = count;
        Height = height;
        Width = width;
    }

    /// <summary>The pixels, image after image, each row by row: (Count, Height, Width).</summary>
    public byte[] Pixels { get; }

    /// <summary>The number of images.</summary>
    public int Count { get; }

    /// <summary>Rows per image.</summary>
    public int Height { get; }

    /// <summary>Columns per image.</summary>
    public int Width { get; }
}
