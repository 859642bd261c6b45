using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.Text;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;
using NUnit.Framework;

namespace NeuralCore.Tests.IO;

/// <summary>
/// <see cref="SafeTensors.LoadMapped"/> reads exactly what <see cref="SafeTensors.Load(string)"/> reads and rejects
/// exactly what it rejects (the per-rule rejections run through it in SafeTensorsTests.AssertRejected).
/// </summary>
[TestFixture]
public sealed class SafeTensorsMappedTests : TemporaryDirectoryFixture
{
    private static void AssertSame(Dictionary<string, Tensor> actual, Dictionary<string, Tensor> expected)
    {
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (name, tensor) in expected)
        {
            Assert.That(actual[name].Shape.ToArray(), Is.EqualTo(tensor.Shape.ToArray()), name);
            Assert.That(actual[name].ToArray(), Is.EqualTo(tensor.ToArray()), name);
        }
    }

    [Test]
    public void ReadsEveryPyTorchFixtureAsTheStreamPathDoes()
    {
        string[] files = Directory.GetFiles(PyTorchFixtures.Folder, "*.safetensors");
        Assert.That(files, Has.Length.EqualTo(3 * PyTorchFixtures.Names.Length));
        foreach (string file in files)
        {
            AssertSame(SafeTensors.LoadMapped(file), SafeTensors.Load(file));
        }
    }

    // A hand-built file: every dtype, an F32 tensor after an odd number of 2-byte values so its data starts at an
    // offset that is not a multiple of 4, and an empty tensor; scale 1000 makes tensors larger than the 64 KB decode chunk.
    private static byte[] MixedFile(RandomGenerator random, int scale)
    {
        (string Name, string DType, int Count, int Width)[] tensors =
        [
            ("half", "F16", 300 * scale + 1, 2), ("single", "F32", 700 * scale, 4), ("brain", "BF16", 50 * scale, 2),
            ("double", "F64", 90 * scale, 8), ("count", "I64", 3, 8), ("empty", "F32", 0, 4), ("tail", "F32", 17, 4),
        ];
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        var data = new MemoryStream();
        foreach (var (name, dtype, count, width) in tensors)
        {
            long begin = data.Length;
            var bytes = new byte[count * width];
            for (int i = 0; i < count; i++)
            {
                float value = (float)random.NextNormal();
                switch (dtype)
                {
                    case "F16": BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)value); break;
                    case "BF16": BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16)); break;
                    case "F64": BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), random.NextNormal()); break;
                    case "I64": BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), random.NextInt(1000) - 500); break;
                    default: BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), value); break;
                }
            }
            data.Write(bytes);
            header.Append(CultureInfo.InvariantCulture, $",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{count}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        header.Append('}');
        byte[] json = Encoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.ToArray().CopyTo(file, 8 + json.Length);
        return file;
    }

    [Test]
    public void ReadsAMultiMegabyteFileOfEveryDtypeAsTheOtherPathsDo()
    {
        byte[] bytes = MixedFile(new RandomGenerator(5), scale: 1000);
        Assert.That(bytes.Length, Is.GreaterThan(4_000_000));
        string path = Path.Combine(TestDirectory, "mixed.safetensors");
        File.WriteAllBytes(path, bytes);

        var mapped = SafeTensors.LoadMapped(path);

        AssertSame(mapped, SafeTensors.Load(bytes));
        AssertSame(mapped, SafeTensors.Load(path));
    }

    [Test]
    public void ReadsAFileWhoseTensorsAreAllEmpty()
    {
        string path = Path.Combine(TestDirectory, "empty.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["none"] = Tensor.Zeros(0, 3) });
        var loaded = SafeTensors.LoadMapped(path);
        Assert.That(loaded["none"].Shape.ToArray(), Is.EqualTo(new[] { 0, 3 }));
    }

    [TestCase(0)]
    [TestCase(3)]
    public void RejectsAFileTooShortForTheLengthField(int length)
    {
        string path = Path.Combine(TestDirectory, "short.safetensors");
        File.WriteAllBytes(path, new byte[length]);
        Assert.That(() => SafeTensors.LoadMapped(path), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("too short"));
    }

    [Test]
    public void MutatedFilesLoadOrFailAsInTheStreamPath()
    {
        byte[] valid = MixedFile(new RandomGenerator(6), scale: 1);
        var random = new RandomGenerator(20240602);
        string path = Path.Combine(TestDirectory, "mutated.safetensors");
        int loaded = 0, rejected = 0;
        for (int iteration = 0; iteration < 500; iteration++)
        {
            byte[] bytes = SafeTensorsFuzz.Mutate(valid, random);
            File.WriteAllBytes(path, bytes);
            Dictionary<string, Tensor>? expected = null;
            try
            {
                expected = SafeTensors.Load(bytes);
            }
            catch (InvalidDataException)
            {
            }

            if (expected is null)
            {
                Assert.That(() => SafeTensors.LoadMapped(path), Throws.InstanceOf<InvalidDataException>(), $"iteration {iteration}");
                rejected++;
            }
            else
            {
                AssertSame(SafeTensors.LoadMapped(path), expected);
                loaded++;
            }
        }
        Assert.That(rejected, Is.GreaterThan(0));
        Assert.That(loaded, Is.GreaterThan(0));
    }
}
