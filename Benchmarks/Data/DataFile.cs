using System.IO;
using System.IO.Compression;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Opening and reading untrusted data files: gzip or raw (told apart by the gzip magic bytes 1f 8b), with every
/// read bounded. A header may claim any size; we never allocate more than the stream has actually delivered
/// (times two, as a growing buffer), and never more than <see cref="MaxBytes"/>.
/// </summary>
internal static class DataFile
{
    /// <summary>The largest payload we accept from one file: 1 GiB (the full CIFAR-10 training set is 150 MB).</summary>
    public const long MaxBytes = 1L << 30;

    // The first buffer is at most this large; it doubles as data arrives, so a lying header in a small file costs
    // at most 1 MiB before the truncation is found.
    private const int InitialBufferBytes = 1 << 20;

    /// <summary>Opens <paramref name="path"/>, decompressing on the fly if it starts with the gzip magic.</summary>
    public static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        int first = file.ReadByte();
        int second = file.ReadByte();
        file.Position = 0;
        return first == 0x1f && second == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>
    /// Reads until <paramref name="buffer"/> is full or the stream ends; returns the number of bytes read.
    /// A corrupt gzip stream becomes an <see cref="InvalidDataException"/> that names the file.
    /// </summary>
    public static int ReadAtMost(Stream stream, Span<byte> buffer, string path)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int read = stream.Read(buffer[total..]);
                if (read == 0)
                {
                    break;
                }
                total += read;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': the gzip data is corrupt ({e.Message}).", e);
        }
        return total;
    }

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes of <paramref name="what"/>, then checks that the file ends there.
    /// </summary>
    /// <exception cref="InvalidDataException">The count exceeds <see cref="MaxBytes"/>, the file ends early, or bytes follow.</exception>
    public static byte[] ReadExactly(Stream stream, long count, string path, string what)
    {
        if (count > MaxBytes)
        {
            throw new InvalidDataException(
                $"'{path}': the header declares {count:N0} bytes of {what}; the reader accepts at most {MaxBytes:N0} (1 GiB).");
        }
        // A raw file tells its length up front: reject a lying header before allocating anything.
        if (stream is FileStream file && file.Length - file.Position < count)
        {
            throw new InvalidDataException(
                $"'{path}' is truncated: the header declares {count:N0} bytes of {what}, but only {file.Length - file.Position:N0} follow.");
        }
        var buffer = new byte[Math.Min(count, InitialBufferBytes)];
        long filled = 0;
        while (true)
        {
            filled += ReadAtMost(stream, buffer.AsSpan((int)filled), path);
            if (filled < buffer.Length)
            {
                throw new InvalidDataException(
                    $"'{path}' is truncated: the header declares {count:N0} bytes of {what}, but the data ends after {filled:N0}.");
            }
            if (filled == count)
            {
                break;
            }
            Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
        }
        ExpectEnd(stream, path, what, count);
        return buffer;
    }

    /// <summary>Reads the whole stream, refusing more than <paramref name="maxBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static byte[] ReadToEnd(Stream stream, long maxBytes, string path)
    {
        var buffer = new byte[Math.Clamp(maxBytes, 1, InitialBufferBytes)];
        Span<byte> probe = stackalloc byte[1];
        long filled = 0;
        while (true)
        {
            filled += ReadAtMost(stream, buffer.AsSpan((int)filled), path);
            if (filled < buffer.Length)
            {
                break;
            }
            if (filled >= maxBytes)
            {
                // One more byte would go past the limit: look for it before giving up.
                if (ReadAtMost(stream, probe, path) == 0)
                {
                    break;
                }
                throw new InvalidDataException($"'{path}' holds more than {maxBytes:N0} bytes; the reader accepts at most that.");
            }
            Array.Resize(ref buffer, (int)Math.Min(maxBytes, 2L * buffer.Length));
        }
        Array.Resize(ref buffer, (int)filled);
        return buffer;
    }

    private static void ExpectEnd(Stream stream, string path, string what, long count)
    {
        if (ReadAtMost(stream, stackalloc byte[1], path) != 0)
        {
            throw new InvalidDataException(
                $"'{path}': bytes follow the {count:N0} bytes of {what} the header declares; expected the file to end there.");
        }
    }
}
