using System.Buffers.Binary;
using System.Collections;
using System.IO;
using System.Text;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;
using NUnit.Framework;

namespace NeuralCore.Tests.IO;

[TestFixture]
public sealed class SafeTensorsTests : TemporaryDirectoryFixture
{
    // A safetensors file: the header length, the JSON header as given, then the data.
    private static byte[] File(string json, byte[] data)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["scalar"] = Tensor.Scalar(3.5f),
        ["empty"] = Tensor.Zeros(0, 3),
        ["matrix"] = Tensor.FromArray([1f, -2f, 3f, 4.25f, float.MaxValue, float.Epsilon], 2, 3),
        ["vector"] = Tensor.FromArray([0.1f, 0.2f, 0.3f, 0.4f]),
    };

    [Test]
    public void RoundTripKeepsNamesShapesValuesAndMetadata()
    {
        string path = Path.Combine(TestDirectory, "model.safetensors");
        var tensors = Sample();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };

        SafeTensors.Save(path, tensors, metadata);
        var loaded = SafeTensors.Load(path);

        Assert.That(loaded.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, tensor) in tensors)
        {
            Assert.That(loaded[name].Shape.ToArray(), Is.EqualTo(tensor.Shape.ToArray()), name);
            Assert.That(loaded[name].ToArray(), Is.EqualTo(tensor.ToArray()), name);
        }
        Assert.That(SafeTensors.LoadMetadata(path), Is.EquivalentTo(metadata));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(System.IO.File.ReadAllBytes(path)) % 8, Is.Zero);
    }

    [Test]
    public void StreamAndSpanOverloadsReadTheSameTensors()
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, Sample());
        byte[] bytes = stream.ToArray();

        var fromSpan = SafeTensors.Load(bytes);
        stream.Position = 0;
        var fromStream = SafeTensors.Load(stream);

        foreach (string name in Sample().Keys)
        {
            Assert.That(fromStream[name].ToArray(), Is.EqualTo(fromSpan[name].ToArray()), name);
            Assert.That(fromStream[name].Shape.ToArray(), Is.EqualTo(fromSpan[name].Shape.ToArray()), name);
        }
    }

    [Test]
    public void WrittenBytesMatchTheFormatExactly()
    {
        string path = Path.Combine(TestDirectory, "tiny.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray([1f, 2f]) });

        // 54 bytes of JSON padded with 2 spaces to 56 = 0x38.
        byte[] expected =
        [
            0x38, 0, 0, 0, 0, 0, 0, 0,
            .. Encoding.ASCII.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "),
            0x00, 0x00, 0x80, 0x3F,
            0x00, 0x00, 0x00, 0x40,
        ];
        Assert.That(System.IO.File.ReadAllBytes(path), Is.EqualTo(expected));
    }

    [Test]
    public void TensorsAreWrittenSortedByNameWithContiguousOffsets()
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["b"] = Tensor.Scalar(2f), ["a"] = Tensor.Zeros(2) });
        string header = Encoding.UTF8.GetString(stream.ToArray(), 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(stream.ToArray()));
        Assert.That(header.TrimEnd(), Is.EqualTo(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}"));
    }

    [Test]
    public void ReadsF16AsFloat32()
    {
        Half[] values = [(Half)1.5f, (Half)(-2f), (Half)0.1f];
        var data = new byte[6];
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), values[i]);
        }
        var loaded = SafeTensors.Load(File("{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}", data));
        Assert.That(loaded["h"].ToArray(), Is.EqualTo(new[] { 1.5f, -2f, (float)(Half)0.1f }));
    }

    [Test]
    public void ReadsBF16AsFloat32()
    {
        float[] values = [1f, -3.5f, 0.15625f, 1.0078125f];
        var data = new byte[8];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
        }
        var loaded = SafeTensors.Load(File("{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", data));
        Assert.That(loaded["b"].ToArray(), Is.EqualTo(values));
        Assert.That(loaded["b"].Shape.ToArray(), Is.EqualTo(new[] { 2, 2 }));
    }

    [Test]
    public void ReadsF64AsFloat32()
    {
        double[] values = [0.1, -1e10, 2.5];
        var data = new byte[24];
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), values[i]);
        }
        var loaded = SafeTensors.Load(File("{\"d\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]}}", data));
        Assert.That(loaded["d"].ToArray(), Is.EqualTo(new[] { 0.1f, -1e10f, 2.5f }));
    }

    [Test]
    public void ReadsI64AsFloat32Exactly()
    {
        long[] values = [3, -7, 1L << 24, -(1L << 24)];
        var data = new byte[32];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8 * i), values[i]);
        }
        var loaded = SafeTensors.Load(File("{\"n\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":[0,32]}}", data));
        Assert.That(loaded["n"].ToArray(), Is.EqualTo(new[] { 3f, -7f, 16777216f, -16777216f }));
    }

    [TestCase(16_777_217L)]
    [TestCase(-16_777_217L)]
    [TestCase(long.MinValue)]
    public void RejectsI64BeyondTheExactFloatRange(long value)
    {
        var data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), value);
        AssertRejected(File("{\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data), $"holds {value}");
    }

    [Test]
    public void ReadsMixedDtypesAndMetadata()
    {
        var data = new byte[6];
        BinaryPrimitives.WriteSingleLittleEndian(data, 7f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(4), (Half)0.5f);
        string json = "{\"__metadata__\":{\"k\":\"v\"},\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[4,6]},"
            + "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ";
        var loaded = SafeTensors.Load(File(json, data));
        Assert.That(loaded["f"].ToArray(), Is.EqualTo(new[] { 7f }));
        Assert.That(loaded["h"].Item(), Is.EqualTo(0.5f));
    }

    // ---- validation: one case per rule

    // Every read path (span, stream, memory-mapped file) must reject the bytes with the same reason.
    private void AssertRejected(byte[] bytes, string fragment)
    {
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(bytes));
        Assert.That(error!.Message, Does.Contain(fragment));
        using var stream = new MemoryStream(bytes);
        var streamError = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(stream));
        Assert.That(streamError!.Message, Does.Contain(fragment));
        string path = Path.Combine(TestDirectory, "rejected.safetensors");
        System.IO.File.WriteAllBytes(path, bytes);
        var mappedError = Assert.Throws<InvalidDataException>(() => SafeTensors.LoadMapped(path));
        Assert.That(mappedError!.Message, Does.Contain(fragment).And.Contain("rejected.safetensors"));
    }

    private const string A8 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [TestCase("[1]", 0, "not an object", TestName = "Rejects a header that is not an object")]
    [TestCase("{\"a\":", 0, "not valid JSON", TestName = "Rejects malformed JSON")]
    [TestCase("{\"__metadata__\":{\"k\":[[[[1]]]]}}", 0, "depth", TestName = "Rejects JSON nested too deeply")]
    [TestCase("{\"a\":1}", 0, "not an object", TestName = "Rejects an entry that is not an object")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype 'I32'", TestName = "Rejects an unknown dtype")]
    [TestCase("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is a JSON Number", TestName = "Rejects a dtype that is not a string")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "non-negative integer", TestName = "Rejects a negative dimension")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "non-negative integer", TestName = "Rejects a fractional dimension")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999],\"data_offsets\":[0,4]}}", 4, "non-negative integer", TestName = "Rejects a dimension beyond int")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[100000,100000,100000],\"data_offsets\":[0,4]}}", 4, "more than", TestName = "Rejects a shape whose element count overflows")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape is a JSON Number", TestName = "Rejects a shape that is not an array")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "begin after", TestName = "Rejects offsets that begin after they end")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "non-negative integers", TestName = "Rejects negative offsets")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "not an array [begin, end]", TestName = "Rejects offsets that are not a pair")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "run past", TestName = "Rejects offsets beyond the data")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12", TestName = "Rejects a byte count that differs from shape times dtype size")]
    [TestCase("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap", TestName = "Rejects overlapping tensors")]
    [TestCase("{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "gap", TestName = "Rejects a gap between tensors")]
    [TestCase("{" + A8 + "}", 12, "cover 8 bytes but the data section holds 12", TestName = "Rejects data not covered by tensors")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8, "unknown key 'extra'", TestName = "Rejects an unknown key in an entry")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "has no data_offsets", TestName = "Rejects an entry with a missing key")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "duplicate key 'dtype'", TestName = "Rejects a duplicate key in an entry")]
    [TestCase("{" + A8 + "," + A8 + "}", 8, "duplicate name 'a'", TestName = "Rejects duplicate tensor names")]
    [TestCase("{\"__metadata__\":{\"k\":1}}", 0, "not a string", TestName = "Rejects a metadata value that is not a string")]
    [TestCase("{\"__metadata__\":[]}", 0, "not an object of strings", TestName = "Rejects metadata that is not an object")]
    public void RejectsInvalidHeader(string json, int dataLength, string fragment) =>
        AssertRejected(File(json, new byte[dataLength]), fragment);

    [Test]
    public void RejectsAFileShorterThanTheLengthField() => AssertRejected([1, 0, 0], "too short");

    [Test]
    public void RejectsAHeaderLengthBeyondTheLimit()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 200_000_000);
        AssertRejected(bytes, "exceeds the limit");
    }

    [Test]
    public void RejectsAHeaderLengthBeyondTheFile()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 9);
        AssertRejected(bytes, "exceeds the 8 bytes after the length field");
    }

    [Test]
    public void RejectsAHugeHeaderLengthWithoutAllocating()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        AssertRejected(bytes, "exceeds the limit");
    }

    [Test]
    public void ErrorsNameTheFile()
    {
        string path = Path.Combine(TestDirectory, "broken.safetensors");
        System.IO.File.WriteAllBytes(path, File("{\"a\":1}", []));
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
        Assert.That(error!.Message, Does.Contain("broken.safetensors").And.Contain("not an object"));
    }

    [Test]
    public void SaveRejectsTheMetadataName() =>
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(Stream.Null, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Scalar(1f) }));

    // ---- atomic save

    private sealed class ThrowingDictionary : IReadOnlyDictionary<string, Tensor>
    {
        public Tensor this[string key] => throw new NotSupportedException();
        public IEnumerable<string> Keys => throw new NotSupportedException();
        public IEnumerable<Tensor> Values => throw new NotSupportedException();
        public int Count => 2;
        public bool ContainsKey(string key) => false;
        public bool TryGetValue(string key, out Tensor value) => throw new NotSupportedException();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
        {
            yield return new("w", Tensor.Ones(3));
            throw new InvalidOperationException("enumeration failed midway");
        }
    }

    [Test]
    public void FailedSaveLeavesThePreviousFileAndNoTemporaryFile()
    {
        string path = Path.Combine(TestDirectory, "model.safetensors");
        SafeTensors.Save(path, Sample());
        byte[] before = System.IO.File.ReadAllBytes(path);

        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, new ThrowingDictionary()));

        Assert.That(System.IO.File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(TestDirectory), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void FailedRenameLeavesNoTemporaryFile()
    {
        string path = Path.Combine(TestDirectory, "occupied");
        Directory.CreateDirectory(path);

        Assert.Catch<Exception>(() => SafeTensors.Save(path, Sample()));

        Assert.That(Directory.GetFiles(TestDirectory), Is.Empty);
        Assert.That(Directory.Exists(path), Is.True);
    }

    [Test]
    public void SaveOverwritesThePreviousFile()
    {
        string path = Path.Combine(TestDirectory, "model.safetensors");
        SafeTensors.Save(path, Sample());
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = Tensor.Scalar(9f) });
        Assert.That(SafeTensors.Load(path)["x"].Item(), Is.EqualTo(9f));
        Assert.That(Directory.GetFiles(TestDirectory), Has.Length.EqualTo(1));
    }

    // ---- fuzz

    [Test]
    public void MutatedFilesEitherLoadOrThrowInvalidData()
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, Sample(), new Dictionary<string, string> { ["format"] = "pt" });
        byte[] valid = stream.ToArray();
        var random = new RandomGenerator(20240601);
        int loaded = 0;
        int rejected = 0;

        for (int iteration = 0; iteration < 3000; iteration++)
        {
            byte[] bytes = SafeTensorsFuzz.Mutate(valid, random);

            try
            {
                SafeTensors.Load(bytes);
                using var copy = new MemoryStream(bytes);
                SafeTensors.Load(copy);
                loaded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }

        Assert.That(loaded + rejected, Is.EqualTo(3000));
        Assert.That(rejected, Is.GreaterThan(0));
        Assert.That(loaded, Is.GreaterThan(0));
    }
}
