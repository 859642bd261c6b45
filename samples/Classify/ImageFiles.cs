using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace NeuralCore.Samples.Classify;

/// <summary>
/// Reads the two image formats the sample accepts, as untrusted input: IDX (MNIST's format: <c>*-images-idx3-ubyte</c>
/// and <c>*-labels-idx1-ubyte</c>, raw or gzipped) and binary PGM (<c>P5</c>, 8-bit). Every size in a header is
/// checked against a bound and against the bytes actually present before anything is allocated; a malformed file
/// throws <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class ImageFiles
{
    /// <summary>Most images one IDX file may hold (MNIST's training set has 60 000).</summary>
    public const int MaxImages = 1_000_000;

    /// <summary>Largest width or height accepted, in pixels.</summary>
    public const int MaxSide = 4096;

    /// <summary>Most pixels one file may hold in all (bounds what a tiny gzip file can make us allocate).</summary>
    public const long MaxPixels = 1L << 30;

    private const int ImagesMagic = 0x0000_0803; // unsigned bytes, 3 dimensions
    private const int LabelsMagic = 0x0000_0801; // unsigned bytes, 1 dimension
    private const int MaxPgmHeader = 4096;

    /// <summary>Reads an images file, IDX or PGM by its content (PGM starts with <c>P5</c>), gzipped if its name ends in <c>.gz</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid IDX images file or 8-bit binary PGM.</exception>
    public static GreyImages ReadImages(string path)
    {
        using Stream stream = Open(path);
        string name = Path.GetFileName(path);
        Span<byte> start = stackalloc byte[2];
        ReadExactly(stream, start, name, "the first two bytes (P5 or an IDX magic number)");
        return start[0] == (byte)'P' && start[1] == (byte)'5' ? ReadPgm(stream, name) : ReadIdxImages(stream, start, name);
    }

    /// <summary>Reads an IDX labels file (raw or <c>.gz</c>): one byte per image.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid IDX labels file.</exception>
    public static byte[] ReadLabels(string path)
    {
        using Stream stream = Open(path);
        string name = Path.GetFileName(path);
        Span<byte> header = stackalloc byte[8];
        ReadExactly(stream, header, name, "the 8-byte IDX labels header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != LabelsMagic)
        {
            throw Invalid(name, $"magic number 0x{magic:X8}; expected 0x{LabelsMagic:X8} (an IDX labels file, unsigned bytes, 1 dimension)");
        }
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 1 || count > MaxImages)
        {
            throw Invalid(name, $"{count} labels; expected 1 to {MaxImages}");
        }
        return ReadBlock(stream, count, name, $"{count} labels");
    }

    /// <summary>Reads IDX images from <paramref name="stream"/>, whose first bytes <paramref name="consumed"/> were already read.</summary>
    private static GreyImages ReadIdxImages(Stream stream, ReadOnlySpan<byte> consumed, string name)
    {
        Span<byte> header = stackalloc byte[16];
        consumed.CopyTo(header);
        ReadExactly(stream, header[consumed.Length..], name, "the 16-byte IDX images header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != ImagesMagic)
        {
            throw Invalid(name, $"magic number 0x{magic:X8}; expected 0x{ImagesMagic:X8} (IDX images: unsigned bytes, 3 dimensions) or a P5 PGM");
        }
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        CheckSizes(name, count, rows, columns);
        byte[] pixels = ReadBlock(stream, (long)count * rows * columns, name, $"{count} images of {rows} × {columns}");
        return new GreyImages(pixels, count, rows, columns);
    }

    /// <summary>Reads a binary PGM after its "P5" magic: width, height and maxval (≤ 255) as text, one whitespace, then the pixels.</summary>
    private static GreyImages ReadPgm(Stream stream, string name)
    {
        var reader = new PgmHeaderReader(stream, name);
        int width = reader.NextNumber("width");
        int height = reader.NextNumber("height");
        int maxValue = reader.NextNumber("maxval");
        if (maxValue is < 1 or > 255)
        {
            throw Invalid(name, $"maxval {maxValue}; expected 1 to 255 (8-bit grey)");
        }
        CheckSizes(name, 1, height, width);
        byte[] pixels = ReadBlock(stream, (long)height * width, name, $"{height} × {width} pixels");
        if (maxValue != 255)
        {
            // Rescale to 0–255, the range the model's normalization expects.
            for (int i = 0; i < pixels.Length; i++)
            {
                if (pixels[i] > maxValue)
                {
                    throw Invalid(name, $"pixel {i} is {pixels[i]}, above maxval {maxValue}");
                }
                pixels[i] = (byte)((pixels[i] * 255 + (maxValue / 2)) / maxValue);
            }
        }
        return new GreyImages(pixels, 1, height, width);
    }

    private static void CheckSizes(string name, int count, int rows, int columns)
    {
        if (count < 1 || count > MaxImages)
        {
            throw Invalid(name, $"{count} images; expected 1 to {MaxImages}");
        }
        if (rows < 1 || rows > MaxSide || columns < 1 || columns > MaxSide)
        {
            throw Invalid(name, $"images of {rows} × {columns}; expected sides of 1 to {MaxSide} pixels");
        }
        if ((long)count * rows * columns > MaxPixels)
        {
            throw Invalid(name, $"{count} images of {rows} × {columns} is more than {MaxPixels} pixels");
        }
    }

    private static Stream Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    // Reads `size` bytes (at most MaxPixels, checked by the caller). The buffer grows with the bytes actually present,
    // so a header that claims more than the file holds (a tiny gzip file can claim anything) costs no more than the file.
    private static byte[] ReadBlock(Stream stream, long size, string name, string what)
    {
        if (stream.CanSeek && stream.Length - stream.Position < size)
        {
            throw Invalid(name, $"the file ends after {stream.Length - stream.Position} of the {size} bytes of {what}");
        }
        var buffer = new byte[Math.Min(size, 1 << 20)];
        int filled = 0;
        while (true)
        {
            ReadExactly(stream, buffer.AsSpan(filled), name, what, filled, size);
            filled = buffer.Length;
            if (filled == size)
            {
                return buffer;
            }
            Array.Resize(ref buffer, (int)Math.Min(size, 2L * buffer.Length));
        }
    }

    // Reads exactly buffer.Length bytes; a short file, or a damaged gzip stream, is an InvalidDataException.
    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string what, long before = 0, long total = -1)
    {
        int read;
        try
        {
            read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw Invalid(name, $"the gzip data is damaged ({e.Message})");
        }
        if (read < buffer.Length)
        {
            throw Invalid(name, $"the file ends after {before + read} of the {(total < 0 ? buffer.Length : total)} bytes of {what}");
        }
    }

    internal static InvalidDataException Invalid(string name, string problem) => new($"{name}: {problem}.");

    // PGM's text header: numbers separated by whitespace, '#' comments to the end of the line, and exactly one
    // whitespace byte after the last number (the pixels may start with any byte, so no more may be read).
    private sealed class PgmHeaderReader(Stream stream, string name)
    {
        private int _consumed = 2; // "P5"

        public int NextNumber(string what)
        {
            int b = SkipWhitespaceAndComments(what);
            var digits = new StringBuilder();
            while (b is >= '0' and <= '9')
            {
                digits.Append((char)b);
                if (digits.Length > 9)
                {
                    throw Invalid(name, $"the PGM {what} has more than 9 digits");
                }
                b = Next(what);
            }
            if (digits.Length == 0)
            {
                throw Invalid(name, $"byte {_consumed - 1} of the PGM header is '{Printable(b)}'; expected the {what} (a decimal number)");
            }
            if (!IsWhitespace(b))
            {
                throw Invalid(name, $"the PGM {what} is followed by '{Printable(b)}'; expected whitespace");
            }
            return int.Parse(digits.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        }

        private int SkipWhitespaceAndComments(string what)
        {
            int b = Next(what);
            while (IsWhitespace(b) || b == '#')
            {
                if (b == '#')
                {
                    while (b is not '\n' and not '\r')
                    {
                        b = Next(what);
                    }
                }
                b = Next(what);
            }
            return b;
        }

        private int Next(string what)
        {
            if (_consumed >= MaxPgmHeader)
            {
                throw Invalid(name, $"the PGM header is longer than {MaxPgmHeader} bytes");
            }
            int b;
            try
            {
                b = stream.ReadByte();
            }
            catch (InvalidDataException e)
            {
                throw Invalid(name, $"the gzip data is damaged ({e.Message})");
            }
            _consumed++;
            return b >= 0 ? b : throw Invalid(name, $"the file ends inside the PGM header, before the {what}");
        }

        private static bool IsWhitespace(int b) => b is ' ' or '\t' or '\n' or '\r' or '\v' or '\f';

        private static string Printable(int b) => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"0x{b:X2}";
    }
}
