using System.IO;
using NeuralCore.Benchmarks.Data;
using NUnit.Framework;

namespace NeuralCore.Tests.Data;

[TestFixture]
public sealed class Cifar10ReaderTests : TemporaryDirectoryFixture
{
    // Records: label, then the red, green and blue planes; pixel (c, y, x) of record r is (r + c + y + x) mod 256.
    private static byte[] Records(params byte[] labels)
    {
        var bytes = new byte[labels.Length * Cifar10Reader.RecordBytes];
        for (int r = 0; r < labels.Length; r++)
        {
            int start = r * Cifar10Reader.RecordBytes;
            bytes[start] = labels[r];
            for (int p = 0; p < 3072; p++)
            {
                int c = p / 1024, y = p / 32 % 32, x = p % 32;
                bytes[start + 1 + p] = (byte)((r + c + y + x) % 256);
            }
        }
        return bytes;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(TestDirectory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void ReadsRecordsAsChannelsHeightWidth()
    {
        Dataset dataset = Cifar10Reader.ReadBatch(Write("data_batch_1.bin", Records(3, 9)));

        Assert.That((dataset.Count, dataset.Channels, dataset.Height, dataset.Width), Is.EqualTo((2, 3, 32, 32)));
        Assert.That(dataset.Labels.ToArray(), Is.EqualTo(new[] { 3, 9 }));
        Assert.That(dataset.ClassNames[3], Is.EqualTo("cat"));
        // Record 1, channel 2 (blue), y = 5, x = 7.
        Assert.That(dataset.Example(1)[2 * 1024 + 5 * 32 + 7], Is.EqualTo(1 + 2 + 5 + 7));
    }

    [Test]
    public void ReadsGzippedBatches()
    {
        Dataset dataset = Cifar10Reader.ReadBatch(Write("test_batch.bin.gz", IdxReaderTests.Gzip(Records(1))));
        Assert.That(dataset.Count, Is.EqualTo(1));
    }

    [Test]
    public void LoadsTheSixBatchFilesFromTheArchiveFolder()
    {
        string nested = Path.Combine(TestDirectory, "cifar-10-batches-bin");
        Directory.CreateDirectory(nested);
        for (int i = 1; i <= 5; i++)
        {
            File.WriteAllBytes(Path.Combine(nested, $"data_batch_{i}.bin"), Records((byte)i, 0));
        }
        File.WriteAllBytes(Path.Combine(nested, "test_batch.bin"), Records(7));

        DataSplit split = Cifar10Reader.Load(TestDirectory);
        Assert.That(split.Train.Count, Is.EqualTo(10));
        Assert.That(split.Train.Labels.ToArray(), Is.EqualTo(new[] { 1, 0, 2, 0, 3, 0, 4, 0, 5, 0 }));
        Assert.That(split.Test.Labels.ToArray(), Is.EqualTo(new[] { 7 }));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(3072)]
    [TestCase(3074)]
    public void LengthNotAPositiveMultipleOfTheRecordIsRejected(int length)
    {
        string path = Write("bad.bin", new byte[length]);
        var error = Assert.Throws<InvalidDataException>(() => Cifar10Reader.ReadBatch(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("3073"));
    }

    [Test]
    public void LabelOutOfRangeIsRejected()
    {
        string path = Write("bad.bin", Records(1, 10));
        var error = Assert.Throws<InvalidDataException>(() => Cifar10Reader.ReadBatch(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("label 10 in record 1"));
    }

    [Test]
    public void MissingBatchIsNamed()
    {
        var error = Assert.Throws<FileNotFoundException>(() => Cifar10Reader.Load(TestDirectory))!;
        Assert.That(error.Message, Does.Contain("data_batch_1.bin"));
    }
}
