using System.IO;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Reads the CIFAR-10 binary format (https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 binary version"):
/// <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (training, 10 000 images each) and <c>test_batch.bin</c>.
/// </summary>
/// <remarks>
/// A file is a sequence of 3073-byte records with no header: 1 label byte (0–9), then a 32 × 32 colour image as
/// three planes, red then green then blue, each 1024 bytes row-major; so the pixels are already in (C, H, W) order.
/// The file length must be a positive multiple of 3073 and at most 1 GiB, and every label below 10; anything else
/// is an <see cref="InvalidDataException"/> naming the file. Gzipped files (<c>.bin.gz</c>) are read too.
/// </remarks>
public static class Cifar10Reader
{
    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 32;

    /// <summary>Colour channels per image (red, green, blue).</summary>
    public const int Channels = 3;

    /// <summary>Bytes per record: one label and 3 × 32 × 32 pixels.</summary>
    public const int RecordBytes = 1 + Channels * ImageSize * ImageSize;

    /// <summary>The ten class names, in label order (from the data set's <c>batches.meta.txt</c>).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads one batch file into a dataset of shape (N, 3, 32, 32) with pixel values 0–255.</summary>
    /// <exception cref="InvalidDataException">The length is not a positive multiple of 3073 bytes, or a label is above 9.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static Dataset ReadBatch(string path) => ReadBatches([path]);

    /// <summary>Reads several batch files, in order, into one dataset of shape (N, 3, 32, 32).</summary>
    /// <exception cref="InvalidDataException">A file is invalid, or all of them together exceed 1 GiB.</exception>
    /// <exception cref="IOException">A file cannot be opened or read.</exception>
    public static Dataset ReadBatches(IReadOnlyList<string> paths)
    {
        var files = new List<byte[]>(paths.Count);
        long total = 0;
        foreach (string path in paths)
        {
            byte[] bytes;
            using (Stream stream = DataFile.Open(path))
            {
                bytes = DataFile.ReadToEnd(stream, DataFile.MaxBytes - total, path);
            }
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            {
                throw new InvalidDataException(
                    $"'{path}' is {bytes.Length} bytes; expected a positive multiple of {RecordBytes} (CIFAR-10 records of 1 label byte + 3072 pixel bytes).");
            }
            for (int record = 0; record < bytes.Length / RecordBytes; record++)
            {
                byte label = bytes[record * RecordBytes];
                if (label >= ClassNames.Count)
                {
                    throw new InvalidDataException($"'{path}': label {label} in record {record}; expected a class in [0, {ClassNames.Count}).");
                }
            }
            files.Add(bytes);
            total += bytes.Length;
        }

        int count = (int)(total / RecordBytes);
        const int pixelsPerImage = RecordBytes - 1;
        var labels = new byte[count];
        var pixels = new byte[(long)count * pixelsPerImage];
        int n = 0;
        foreach (byte[] bytes in files)
        {
            for (int record = 0; record < bytes.Length / RecordBytes; record++, n++)
            {
                labels[n] = bytes[record * RecordBytes];
                bytes.AsSpan(record * RecordBytes + 1, pixelsPerImage).CopyTo(pixels.AsSpan(n * pixelsPerImage));
            }
        }
        return Dataset.FromBytes(pixels, labels, Channels, ImageSize, ImageSize, ClassNames);
    }

    /// <summary>
    /// Loads the training set (<c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>) and the test set
    /// (<c>test_batch.bin</c>) from <paramref name="directory"/> or from its <c>cifar-10-batches-bin</c> subfolder
    /// (the name the official archive unpacks to).
    /// </summary>
    /// <exception cref="FileNotFoundException">A batch file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is invalid.</exception>
    public static DataSplit Load(string directory)
    {
        string nested = Path.Combine(directory, "cifar-10-batches-bin");
        if (!File.Exists(Path.Combine(directory, "test_batch.bin")) && Directory.Exists(nested))
        {
            directory = nested;
        }
        var trainPaths = new List<string>();
        for (int i = 1; i <= 5; i++)
        {
            trainPaths.Add(Require(directory, $"data_batch_{i}.bin"));
        }
        return new DataSplit(ReadBatches(trainPaths), ReadBatch(Require(directory, "test_batch.bin")));
    }

    private static string Require(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Cifar10Reader: '{path}' not found; expected the CIFAR-10 binary version (data_batch_1..5.bin, test_batch.bin).", path);
        }
        return path;
    }
}
