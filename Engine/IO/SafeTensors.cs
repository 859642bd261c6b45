using System.Buffers.Binary;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NeuralCore.Engine.IO;

/// <summary>
/// Reads and writes the safetensors format (the one PyTorch and Hugging Face use):
/// an 8-byte little-endian header length N, N bytes of UTF-8 JSON naming each tensor's
/// <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (plus an optional <c>__metadata__</c>
/// string map), then the raw little-endian data, each tensor's bytes contiguous.
/// </summary>
/// <remarks>
/// Files are untrusted input. Every length, offset, dtype and shape is checked against the
/// actual size of the file before anything is allocated; anything malformed throws
/// <see cref="InvalidDataException"/> naming the file and the problem. The reader never
/// allocates more than the file's size (twice the data for 16-bit dtypes, which widen to float32)
/// plus a small bound.
/// <para>
/// Read dtypes: F32, F16, BF16 and F64 (converted to float32; F64 rounds to nearest) and I64 (PyTorch's
/// <c>num_batches_tracked</c>), converted exactly: an I64 value beyond ±2²⁴ is not representable exactly as a float32
/// and makes the file invalid rather than being rounded silently. Writing is F32 only.
/// </para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>Largest header accepted, in bytes (the reference implementation's bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const int MaxJsonDepth = 4;
    private const int ChunkBytes = 1 << 16;

    // Largest magnitude up to which every integer is a float32: beyond it an I64 would be rounded.
    private const long MaxExactInteger = 1L << 24;

    private enum DType
    {
        F32,
        F16,
        BF16,
        F64,
        I64,
    }

    private readonly record struct Entry(string Name, DType DType, int[] Shape, int Count, long Begin, long End);

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="tensors"/> as float32 (F32) to <paramref name="path"/>, tensors sorted by name,
    /// with the optional string <paramref name="metadata"/> under <c>__metadata__</c>.
    /// The write is atomic: the file is written to a temporary file in the same folder, flushed to
    /// disk, then renamed over <paramref name="path"/>; a failed save leaves the previous file intact.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor name is empty or is <c>__metadata__</c>.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        string temp = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Write(stream, tensors, metadata);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes the safetensors bytes of <paramref name="tensors"/> (F32, sorted by name) to <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">A tensor name is empty or is <c>__metadata__</c>.</exception>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var sorted = new List<KeyValuePair<string, Tensor>>(tensors);
        sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (name, tensor) in sorted)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
            {
                throw new ArgumentException($"SafeTensors.Save: invalid tensor name '{name}'.", nameof(tensors));
            }
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
        }

        byte[] header = BuildHeader(sorted, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var (_, tensor) in sorted)
        {
            float[] values = tensor.ToArray();
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> bits = MemoryMarshal.Cast<float, int>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    // The JSON header, padded with spaces to a multiple of 8 bytes as the reference implementation does.
    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                var keys = new List<string>(metadata.Keys);
                keys.Sort(string.CompareOrdinal);
                json.WriteStartObject(MetadataKey);
                foreach (string key in keys)
                {
                    json.WriteString(key, metadata[key]);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in sorted)
            {
                long end = offset + 4L * tensor.Count;
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int size in tensor.Shape)
                {
                    json.WriteNumberValue(size);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        while (buffer.Length % 8 != 0)
        {
            buffer.WriteByte((byte)' ');
        }
        return buffer.ToArray();
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Reads every tensor of the safetensors file at <paramref name="path"/> as float32.</summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the file and the problem.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return Load(stream, Path.GetFileName(path));
    }

    /// <summary>
    /// Reads every tensor of the safetensors file at <paramref name="path"/> as float32 through a read-only memory
    /// mapping of the file: the header is validated exactly as <see cref="Load(string)"/> does, then each tensor's bytes
    /// are copied from the mapped view straight into its float array, with no whole-file or chunk buffer for F32 data.
    /// The result does not keep the mapping (or the file) open.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the file and the problem.</exception>
    public static Dictionary<string, Tensor> LoadMapped(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string source = Path.GetFileName(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        long available = stream.Length;
        if (available < 8)
        {
            // An empty file cannot be mapped at all; the shared check reports it as the stream path does.
            return Load(stream, source);
        }
        using var mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        List<Entry> entries;
        long dataStart;
        using (var headerView = mapping.CreateViewStream(0, available, MemoryMappedFileAccess.Read))
        {
            // The view may be longer than the file (rounded up to a page), so the file's length is what bounds it.
            (entries, _, dataStart) = ReadHeader(headerView, available, source);
        }
        var result = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        if (dataStart == available)
        {
            AddEmpty(entries, result);
            return result;
        }
        using MemoryMappedViewAccessor view = mapping.CreateViewAccessor(dataStart, available - dataStart, MemoryMappedFileAccess.Read);
        byte[]? chunk = null;
        foreach (Entry entry in entries)
        {
            var values = new float[entry.Count];
            if (entry.DType == DType.F32 && BitConverter.IsLittleEndian)
            {
                view.ReadArray(entry.Begin, values, 0, values.Length);
            }
            else
            {
                chunk ??= new byte[ChunkBytes];
                int width = Width(entry.DType);
                int written = 0;
                for (long position = entry.Begin; position < entry.End;)
                {
                    int take = (int)Math.Min(chunk.Length, entry.End - position);
                    view.ReadArray(position, chunk, 0, take);
                    Decode(chunk.AsSpan(0, take), entry, values.AsSpan(written, take / width), source);
                    written += take / width;
                    position += take;
                }
            }
            result.Add(entry.Name, Tensor.Wrap(values, entry.Shape));
        }
        return result;
    }

    // A data section of zero bytes cannot be viewed; every tensor in it is empty.
    private static void AddEmpty(List<Entry> entries, Dictionary<string, Tensor> result)
    {
        foreach (Entry entry in entries)
        {
            result.Add(entry.Name, Tensor.Wrap([], entry.Shape));
        }
    }

    /// <summary>Reads every tensor of a safetensors stream (from its current position to its end) as float32.</summary>
    /// <exception cref="InvalidDataException">The data is malformed.</exception>
    public static Dictionary<string, Tensor> Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(stream, "stream");
    }

    /// <summary>Reads every tensor of safetensors bytes held in memory as float32.</summary>
    /// <exception cref="InvalidDataException">The data is malformed.</exception>
    public static Dictionary<string, Tensor> Load(ReadOnlySpan<byte> bytes)
    {
        const string Source = "buffer";
        (List<Entry> entries, _, long dataStart) = ReadHeader(bytes, Source);
        var result = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        foreach (Entry entry in entries)
        {
            var values = new float[entry.Count];
            Decode(bytes.Slice((int)(dataStart + entry.Begin), (int)(entry.End - entry.Begin)), entry, values, Source);
            result.Add(entry.Name, Tensor.Wrap(values, entry.Shape));
        }
        return result;
    }

    /// <summary>The <c>__metadata__</c> map of the safetensors file at <paramref name="path"/> (empty when absent).</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    public static Dictionary<string, string> LoadMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        string source = Path.GetFileName(path);
        (_, Dictionary<string, string> metadata, _) = ReadHeader(stream, stream.Length, source);
        return metadata;
    }

    /// <summary>
    /// The <c>__metadata__</c> map of a seekable safetensors stream, read from its current position (empty when
    /// absent); the stream is left after the header. With <see cref="Load(Stream)"/> after seeking back, one open
    /// file gives both the metadata and the tensors of the same version of the file.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot seek.</exception>
    /// <exception cref="InvalidDataException">The header is malformed (the tensor data is not read).</exception>
    public static Dictionary<string, string> LoadMetadata(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("SafeTensors.LoadMetadata: the stream cannot seek; its length bounds the header.", nameof(stream));
        }
        (_, Dictionary<string, string> metadata, _) = ReadHeader(stream, stream.Length - stream.Position, "stream");
        return metadata;
    }

    private static Dictionary<string, Tensor> Load(Stream stream, string source)
    {
        if (!stream.CanSeek)
        {
            // Copying grows with the bytes actually present, so the size bound still holds.
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            return Load(copy, source);
        }
        long available = stream.Length - stream.Position;
        (List<Entry> entries, _, _) = ReadHeader(stream, available, source);
        var result = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        byte[] chunk = new byte[(int)Math.Min(ChunkBytes, Math.Max(8, available))];
        foreach (Entry entry in entries)
        {
            // Entries are sorted by offset and contiguous, so the stream is read front to back.
            var values = new float[entry.Count];
            int width = Width(entry.DType);
            long remaining = entry.End - entry.Begin;
            int written = 0;
            int capacity = chunk.Length / 8 * 8;
            while (remaining > 0)
            {
                int take = (int)Math.Min(capacity, remaining);
                ReadExactly(stream, chunk.AsSpan(0, take), source);
                Decode(chunk.AsSpan(0, take), entry, values.AsSpan(written, take / width), source);
                written += take / width;
                remaining -= take;
            }
            result.Add(entry.Name, Tensor.Wrap(values, entry.Shape));
        }
        return result;
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < 8)
        {
            throw Invalid(source, $"{bytes.Length} bytes is too short to hold the 8-byte header length");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        CheckHeaderLength(headerLength, bytes.Length, source);
        long dataLength = bytes.Length - 8 - (long)headerLength;
        var (entries, metadata) = ParseHeader(bytes.Slice(8, (int)headerLength).ToArray(), dataLength, source);
        return (entries, metadata, 8 + (long)headerLength);
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(Stream stream, long available, string source)
    {
        if (available < 8)
        {
            throw Invalid(source, $"{available} bytes is too short to hold the 8-byte header length");
        }
        Span<byte> length = stackalloc byte[8];
        ReadExactly(stream, length, source);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(length);
        CheckHeaderLength(headerLength, available, source);
        byte[] header = new byte[(int)headerLength];
        ReadExactly(stream, header, source);
        long dataLength = available - 8 - (long)headerLength;
        var (entries, metadata) = ParseHeader(header, dataLength, source);
        return (entries, metadata, 8 + (long)headerLength);
    }

    private static void CheckHeaderLength(ulong headerLength, long available, string source)
    {
        if (headerLength > MaxHeaderBytes)
        {
            throw Invalid(source, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        }
        if (headerLength > (ulong)(available - 8))
        {
            throw Invalid(source, $"header length {headerLength} exceeds the {available - 8} bytes after the length field");
        }
    }

    // Parses and validates the JSON header against a data section of dataLength bytes; entries come back sorted by offset.
    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(byte[] header, long dataLength, string source)
    {
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"header is not valid JSON ({e.Message})");
        }
        catch (ArgumentException e)
        {
            // Invalid UTF-8 surfaces as ArgumentException from some paths of the parser.
            throw Invalid(source, $"header is not valid JSON ({e.Message})");
        }
        using (document)
        {
            try
            {
                ReadProperties(document.RootElement, entries, metadata, names, dataLength, source);
            }
            catch (InvalidOperationException e)
            {
                // A name or string that is not valid UTF-8 fails when it is transcoded.
                throw Invalid(source, $"header holds text that is not valid UTF-8 ({e.Message})");
            }
        }

        // The ranges, sorted by start, must tile the data section exactly.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (Entry entry in entries)
        {
            if (entry.Begin != expected)
            {
                throw Invalid(source, entry.Begin < expected
                    ? $"tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] overlap the previous tensor (which ends at {expected})"
                    : $"tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] leave a gap after byte {expected}; data must be contiguous");
            }
            expected = entry.End;
        }
        if (expected != dataLength)
        {
            throw Invalid(source, $"tensors cover {expected} bytes but the data section holds {dataLength} bytes; data must be contiguous and cover it exactly");
        }
        return (entries, metadata);
    }

    private static void ReadProperties(
        JsonElement root, List<Entry> entries, Dictionary<string, string> metadata, HashSet<string> names, long dataLength, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"header is a JSON {root.ValueKind}, not an object");
        }
        foreach (JsonProperty property in root.EnumerateObject())
        {
            string name = property.Name;
            if (!names.Add(name))
            {
                throw Invalid(source, $"duplicate name '{name}' in the header");
            }
            if (name == MetadataKey)
            {
                ReadMetadata(property.Value, metadata, source);
                continue;
            }
            entries.Add(ReadEntry(name, property.Value, dataLength, source));
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"__metadata__ is a JSON {value.ValueKind}, not an object of strings");
        }
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(source, $"__metadata__ value of '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Invalid(source, $"duplicate __metadata__ key '{item.Name}'");
            }
        }
    }

    private static Entry ReadEntry(string name, JsonElement value, long dataLength, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"tensor '{name}' is a JSON {value.ValueKind}, not an object");
        }
        DType? dtype = null;
        int[]? shape = null;
        long begin = -1;
        long end = -1;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    dtype = ParseDType(name, field.Value, source);
                    break;
                case "shape" when shape is null:
                    shape = ParseShape(name, field.Value, source);
                    break;
                case "data_offsets" when begin < 0:
                    (begin, end) = ParseOffsets(name, field.Value, source);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Invalid(source, $"tensor '{name}' has a duplicate key '{field.Name}'");
                default:
                    throw Invalid(source, $"tensor '{name}' has an unknown key '{field.Name}'");
            }
        }
        if (dtype is null || shape is null || begin < 0)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Invalid(source, $"tensor '{name}' has no {missing}");
        }

        long count = 1;
        foreach (int size in shape)
        {
            count *= size;
            if (count > Array.MaxLength)
            {
                throw Invalid(source, $"tensor '{name}' shape {Shapes.Format(shape)} has more than {Array.MaxLength} elements");
            }
        }
        if (end > dataLength)
        {
            throw Invalid(source, $"tensor '{name}' data_offsets [{begin}, {end}] run past the {dataLength}-byte data section");
        }
        int width = Width(dtype.Value);
        if (end - begin != count * width)
        {
            throw Invalid(source, $"tensor '{name}' data_offsets [{begin}, {end}] span {end - begin} bytes but shape {Shapes.Format(shape)} of {dtype.Value} needs {count * width}");
        }
        return new Entry(name, dtype.Value, shape, (int)count, begin, end);
    }

    private static DType ParseDType(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid(source, $"tensor '{name}' dtype is a JSON {value.ValueKind}, not a string");
        }
        string text = value.GetString()!;
        return text switch
        {
            "F32" => DType.F32,
            "F16" => DType.F16,
            "BF16" => DType.BF16,
            "F64" => DType.F64,
            "I64" => DType.I64,
            _ => throw Invalid(source, $"tensor '{name}' has unsupported dtype '{text}' (supported: F32, F16, BF16, F64, I64)"),
        };
    }

    private static int[] ParseShape(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(source, $"tensor '{name}' shape is a JSON {value.ValueKind}, not an array");
        }
        int rank = value.GetArrayLength();
        var shape = new int[rank];
        int d = 0;
        foreach (JsonElement size in value.EnumerateArray())
        {
            if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out long dimension) || dimension < 0 || dimension > Array.MaxLength)
            {
                throw Invalid(source, $"tensor '{name}' shape dimension {d} ({size.GetRawText()}) is not a non-negative integer of at most {Array.MaxLength}");
            }
            shape[d++] = (int)dimension;
        }
        return shape;
    }

    private static (long Begin, long End) ParseOffsets(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2)
        {
            throw Invalid(source, $"tensor '{name}' data_offsets is not an array [begin, end]");
        }
        JsonElement first = value[0];
        JsonElement second = value[1];
        if (first.ValueKind != JsonValueKind.Number || !first.TryGetInt64(out long begin) || begin < 0
            || second.ValueKind != JsonValueKind.Number || !second.TryGetInt64(out long end) || end < 0)
        {
            throw Invalid(source, $"tensor '{name}' data_offsets {value.GetRawText()} are not non-negative integers");
        }
        if (begin > end)
        {
            throw Invalid(source, $"tensor '{name}' data_offsets [{begin}, {end}] begin after they end");
        }
        return (begin, end);
    }

    private static int Width(DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 => 4,
        _ => 2,
    };

    // Little-endian bytes of the entry's dtype -> float32 (F16 and BF16 widen exactly; F64 rounds to nearest; I64 must be exact).
    private static void Decode(ReadOnlySpan<byte> bytes, Entry entry, Span<float> destination, string source)
    {
        switch (entry.DType)
        {
            case DType.F32:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                }
                break;
            case DType.F16:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                }
                break;
            case DType.BF16:
                // A bfloat16 is the upper 16 bits of a float32.
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                }
                break;
            case DType.F64:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                }
                break;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    long value = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
                    if (value is > MaxExactInteger or < -MaxExactInteger)
                    {
                        throw Invalid(source, $"tensor '{entry.Name}' (I64) holds {value}, beyond ±{MaxExactInteger}, the range a float32 represents exactly");
                    }
                    destination[i] = value;
                }
                break;
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string source)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Invalid(source, "the file ended early");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private static InvalidDataException Invalid(string source, string reason) =>
        new($"safetensors '{source}': {reason}.");
}
