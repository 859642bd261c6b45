using System.Buffers.Binary;
using System.IO;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), gzipped or raw.
/// </summary>
/// <remarks>
/// <para>
/// An IDX file is a big-endian header followed by the data. The header is a 4-byte magic number
/// <c>00 00 TT DD</c> (TT the element type, 0x08 = unsigned byte; DD the number of dimensions), then one 32-bit size
/// per dimension. Image files are <c>0x00000803</c> (count, rows, columns); label files are <c>0x00000801</c> (count).
/// </para>
/// <para>
/// Files are untrusted: the magic, every size, and the exact data length are checked, labels must be below the
/// number of classes, and a header's sizes never decide an allocation on their own (see the remarks on
/// <c>DataFile</c>: at most 1 GiB, and buffers grow only as the data actually arrives). Every problem is an
/// <see cref="InvalidDataException"/> that names the file and what was expected.
/// </para>
/// </remarks>
public static class IdxReader
{
    /// <summary>The magic number of an image file: unsigned bytes, 3 dimensions (count, rows, columns).</summary>
    public const uint ImagesMagic = 0x00000803;

    /// <summary>The magic number of a label file: unsigned bytes, 1 dimension (count).</summary>
    public const uint LabelsMagic = 0x00000801;

    /// <summary>Reads an image file (<c>*-images-idx3-ubyte</c>, gzipped or raw).</summary>
    /// <exception cref="InvalidDataException">The file is not a valid IDX image file (wrong magic, sizes or length).</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static IdxImages ReadImages(string path)
    {
        using Stream stream = DataFile.Open(path);
        int[] sizes = ReadHeader(stream, path, ImagesMagic, "images: count, rows, columns");
        int count = sizes[0], rows = sizes[1], columns = sizes[2];
        if (rows == 0 || columns == 0)
        {
            throw new InvalidDataException($"'{path}': images of {rows} × {columns} pixels; expected at least 1 × 1.");
        }
        byte[] pixels = DataFile.ReadExactly(stream, (long)count * rows * columns, path, $"pixels ({count} images of {rows} × {columns})");
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file (<c>*-labels-idx1-ubyte</c>, gzipped or raw); every label must be below <paramref name="classCount"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid IDX label file, or a label is out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is not in [1, 256].</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static byte[] ReadLabels(string path, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 256);
        using Stream stream = DataFile.Open(path);
        int count = ReadHeader(stream, path, LabelsMagic, "labels: count")[0];
        byte[] labels = DataFile.ReadExactly(stream, count, path, $"labels ({count})");
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classCount)
            {
                throw new InvalidDataException($"'{path}': label {labels[i]} at index {i}; expected a class in [0, {classCount}).");
            }
        }
        return labels;
    }

    /// <summary>
    /// Reads an image file and its label file into a <see cref="Dataset"/> of shape (N, 1, rows, columns), pixel
    /// values 0–255 as floats (normalize them with <see cref="Normalization"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">Either file is invalid, or their counts differ.</exception>
    /// <exception cref="IOException">A file cannot be opened or read.</exception>
    public static Dataset Load(string imagesPath, string labelsPath, IReadOnlyList<string> classNames)
    {
        IdxImages images = ReadImages(imagesPath);
        byte[] labels = ReadLabels(labelsPath, classNames.Count);
        if (labels.Length != images.Count)
        {
            throw new InvalidDataException(
                $"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Length} labels; expected one label per image.");
        }
        return Dataset.FromBytes(images.Pixels, labels, 1, images.Rows, images.Columns, classNames);
    }

    /// <summary>
    /// Loads the training and test sets from a folder in the MNIST layout: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each either
    /// with a <c>.gz</c> suffix (as distributed, and in Debian's packages) or raw; the raw names may also use a dot
    /// before <c>idx</c> (<c>train-images.idx3-ubyte</c>), as some unpackers write them.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message lists the names tried.</exception>
    /// <exception cref="InvalidDataException">A file is invalid.</exception>
    public static DataSplit LoadSplit(string directory, IReadOnlyList<string> classNames)
    {
        Dataset train = Load(Find(directory, "train-images-idx3-ubyte"), Find(directory, "train-labels-idx1-ubyte"), classNames);
        Dataset test = Load(Find(directory, "t10k-images-idx3-ubyte"), Find(directory, "t10k-labels-idx1-ubyte"), classNames);
        return new DataSplit(train, test);
    }

    private static string Find(string directory, string name)
    {
        string dotted = name.Replace("-idx", ".idx", StringComparison.Ordinal);
        string[] candidates = [name + ".gz", name, dotted, dotted + ".gz"];
        foreach (string candidate in candidates)
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new FileNotFoundException(
            $"IdxReader: no '{name}' in '{directory}'; tried {string.Join(", ", candidates)}.", Path.Combine(directory, name));
    }

    // Reads and checks the magic number and the sizes; returns the sizes.
    private static int[] ReadHeader(Stream stream, string path, uint expectedMagic, string layout)
    {
        int dimensions = (int)(expectedMagic & 0xFF);
        Span<byte> header = stackalloc byte[4 + 4 * dimensions];
        int read = DataFile.ReadAtMost(stream, header, path);
        if (read >= 4 && BinaryPrimitives.ReadUInt32BigEndian(header) != expectedMagic)
        {
            throw new InvalidDataException(
                $"'{path}' starts with magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(header):X8}; expected 0x{expectedMagic:X8} (IDX {layout}).");
        }
        if (read < header.Length)
        {
            throw new InvalidDataException($"'{path}' is truncated: {read} bytes, shorter than the {header.Length}-byte IDX header ({layout}).");
        }
        var sizes = new int[dimensions];
        for (int d = 0; d < dimensions; d++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * d)..]);
            if (size > int.MaxValue)
            {
                throw new InvalidDataException($"'{path}': size {size} in dimension {d} of the header; expected at most {int.MaxValue}.");
            }
            sizes[d] = (int)size;
        }
        return sizes;
    }
}
