using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using NeuralCore.Benchmarks.Data;
using NUnit.Framework;

namespace NeuralCore.Tests.Data;

[TestFixture]
public sealed class IdxReaderTests : TemporaryDirectoryFixture
{
    // An IDX file: big-endian magic, the sizes, then the data.
    internal static byte[] Idx(uint magic, int[] sizes, byte[] data)
    {
        var bytes = new byte[4 + 4 * sizes.Length + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, magic);
        for (int d = 0; d < sizes.Length; d++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * d), (uint)sizes[d]);
        }
        data.CopyTo(bytes, 4 + 4 * sizes.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }
        return output.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(TestDirectory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Pixels(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 7 % 256)).ToArray();

    [TestCase(false)]
    [TestCase(true)]
    public void ReadsImagesAndLabelsRawOrGzipped(bool gzipped)
    {
        byte[] pixels = Pixels(3 * 4 * 5);
        byte[] images = Idx(IdxReader.ImagesMagic, [3, 4, 5], pixels);
        byte[] labels = Idx(IdxReader.LabelsMagic, [3], [2, 0, 9]);
        string imagesPath = Write("images", gzipped ? Gzip(images) : images);
        string labelsPath = Write("labels", gzipped ? Gzip(labels) : labels);

        IdxImages read = IdxReader.ReadImages(imagesPath);
        Assert.That((read.Count, read.Rows, read.Columns), Is.EqualTo((3, 4, 5)));
        Assert.That(read.Pixels, Is.EqualTo(pixels));

        Dataset dataset = IdxReader.Load(imagesPath, labelsPath, Mnist.ClassNames);
        Assert.That((dataset.Count, dataset.Channels, dataset.Height, dataset.Width), Is.EqualTo((3, 1, 4, 5)));
        Assert.That(dataset.Labels.ToArray(), Is.EqualTo(new[] { 2, 0, 9 }));
        Assert.That(dataset.Images.ToArray(), Is.EqualTo(pixels.Select(p => (float)p).ToArray()));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TruncatedImageDataIsRejectedNamingTheFile(bool gzipped)
    {
        byte[] images = Idx(IdxReader.ImagesMagic, [3, 4, 5], Pixels(3 * 4 * 5 - 1));
        string path = Write("short-images", gzipped ? Gzip(images) : images);

        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("truncated").And.Contain("60"));
    }

    [Test]
    public void TruncatedHeaderIsRejected()
    {
        string path = Write("tiny", [0, 0, 8, 3, 0, 0]);
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("header"));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(Write("empty", [])));
    }

    [Test]
    public void TrailingBytesAreRejected()
    {
        string path = Write("long-labels", Idx(IdxReader.LabelsMagic, [2], [1, 2, 3]));
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("follow"));
    }

    [Test]
    public void WrongMagicIsRejected()
    {
        // A label file where an image file is expected, and the reverse.
        string labels = Write("labels", Idx(IdxReader.LabelsMagic, [2], [1, 2]));
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(labels))!;
        Assert.That(error.Message, Does.Contain(labels).And.Contain("0x00000801").And.Contain("0x00000803"));

        string images = Write("images", Idx(IdxReader.ImagesMagic, [1, 1, 1], [0]));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(images, 10));

        // Right dimension count, wrong element type (0x0D = float32).
        string floats = Write("floats", Idx(0x00000D03, [1, 1, 1], [0, 0, 0, 0]));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(floats));
    }

    [Test]
    public void ImageAndLabelCountsMustAgree()
    {
        string images = Write("images", Idx(IdxReader.ImagesMagic, [3, 2, 2], Pixels(12)));
        string labels = Write("labels", Idx(IdxReader.LabelsMagic, [2], [0, 1]));
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.Load(images, labels, Mnist.ClassNames))!;
        Assert.That(error.Message, Does.Contain("3 images").And.Contain("2 labels"));
    }

    [Test]
    public void LabelOutOfRangeIsRejected()
    {
        string path = Write("labels", Idx(IdxReader.LabelsMagic, [3], [0, 10, 1]));
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("label 10 at index 1"));
    }

    [Test]
    public void ZeroSizedImagesAreRejected()
    {
        string path = Write("images", Idx(IdxReader.ImagesMagic, [2, 0, 28], []));
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
    }

    [TestCase(int.MaxValue)]  // 2³¹ − 1 images of 28 × 28: over the 1 GiB cap, rejected from the header alone
    [TestCase(1_000_000)]     // 784 MB: under the cap, so the reader must find the truncation as it reads
    public void LyingHeaderInATinyGzipFileFailsWithoutAHugeAllocation(int count)
    {
        string path = Write("liar.gz", Gzip(Idx(IdxReader.ImagesMagic, [count, 28, 28], Pixels(1000))));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path))!;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(error.Message, Does.Contain(path));
        Assert.That(allocated, Is.LessThan(4 << 20), "bytes allocated while rejecting the file");
    }

    [Test]
    public void HeaderClaiming2To31ImagesIsRejected()
    {
        // 2³¹ does not fit an int: the size itself is refused.
        string path = Write("huge", Idx(IdxReader.ImagesMagic, [0, 28, 28], []));
        byte[] bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 1u << 31);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path))!;
        Assert.That(error.Message, Does.Contain("2147483648"));
    }

    [Test]
    public void CorruptGzipIsAnInvalidDataExceptionNamingTheFile()
    {
        byte[] gzip = Gzip(Idx(IdxReader.LabelsMagic, [100], new byte[100]));
        for (int i = 12; i < gzip.Length - 8; i++)
        {
            gzip[i] ^= 0x5A;
        }
        string path = Write("corrupt.gz", gzip);
        var error = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path, 10))!;
        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void LoadSplitAcceptsGzippedAndRawNames()
    {
        Write("train-images-idx3-ubyte.gz", Gzip(Idx(IdxReader.ImagesMagic, [2, 2, 2], Pixels(8))));
        Write("train-labels-idx1-ubyte", Idx(IdxReader.LabelsMagic, [2], [3, 4]));
        Write("t10k-images.idx3-ubyte", Idx(IdxReader.ImagesMagic, [1, 2, 2], Pixels(4)));
        Write("t10k-labels-idx1-ubyte.gz", Gzip(Idx(IdxReader.LabelsMagic, [1], [5])));

        DataSplit split = FashionMnist.Load(TestDirectory);
        Assert.That(split.Train.Count, Is.EqualTo(2));
        Assert.That(split.Test.Labels.ToArray(), Is.EqualTo(new[] { 5 }));
        Assert.That(split.Train.ClassNames[3], Is.EqualTo("Dress"));
    }

    [Test]
    public void LoadSplitNamesTheMissingFile()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(TestDirectory))!;
        Assert.That(error.Message, Does.Contain("train-images-idx3-ubyte"));
    }
}
