using System.IO;
using System.Text;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Samples.Classify;
using NeuralCore.Tests.Data;
using NUnit.Framework;

namespace NeuralCore.Tests.Samples;

// The sample's own IDX and PGM readers (samples/Classify/ImageFiles.cs): untrusted input, so every malformed file
// must give an InvalidDataException that names the file and the problem.
[TestFixture]
public sealed class ImageFilesTests : TemporaryDirectoryFixture
{
    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(TestDirectory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Pgm(string header, byte[] pixels) => [.. Encoding.ASCII.GetBytes(header), .. pixels];

    private static byte[] Pixels(int count) => Enumerable.Range(0, count).Select(i => (byte)(i * 7)).ToArray();

    [Test]
    public void ShippedTestSetReadsTheSameAsTheRunnersIndependentReader()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, FashionMnist.DefaultSubsetFolder);
        GreyImages images = ImageFiles.ReadImages(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"));
        byte[] labels = ImageFiles.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"));
        Dataset expected = FashionMnist.LoadDefault().Test;

        Assert.That((images.Count, images.Height, images.Width), Is.EqualTo((expected.Count, expected.Height, expected.Width)));
        Assert.That(images.Pixels.Select(p => (float)p), Is.EqualTo(expected.Images.ToArray()));
        Assert.That(labels.Select(l => (int)l), Is.EqualTo(expected.Labels.ToArray()));
    }

    [Test]
    public void PgmWithCommentsIsReadRowByRow()
    {
        byte[] pixels = Pixels(3 * 2);
        GreyImages image = ImageFiles.ReadImages(Write("a.pgm", Pgm("P5\n# made by a test\n3 2\n# another\n255\n", pixels)));

        Assert.That((image.Count, image.Height, image.Width), Is.EqualTo((1, 2, 3)));
        Assert.That(image.Pixels, Is.EqualTo(pixels));
    }

    [Test]
    public void PgmWithASmallerMaxvalIsScaledTo255()
    {
        GreyImages image = ImageFiles.ReadImages(Write("a.pgm", Pgm("P5 2 1 15\n", [0, 15])));

        Assert.That(image.Pixels, Is.EqualTo(new byte[] { 0, 255 }));
    }

    [TestCase("P5 28 28 65535\n", 784, "maxval 65535")]
    [TestCase("P5 28 28 0\n", 784, "maxval 0")]
    [TestCase("P5 28 28 255\n", 700, "ends after 700 of the 784 bytes")]
    [TestCase("P5 0 28 255\n", 0, "sides of 1 to")]
    [TestCase("P5 100000 28 255\n", 0, "images of 28 × 100000")]
    [TestCase("P5 1234567890 1 255\n", 0, "more than 9 digits")]
    [TestCase("P5 28 x 255\n", 0, "expected the height")]
    [TestCase("P5 28 28", 0, "ends inside the PGM header")]
    [TestCase("P5 28 28 255x", 784, "followed by 'x'")]
    public void MalformedPgmIsRejectedWithTheReason(string header, int pixels, string reason)
    {
        string path = Write("bad.pgm", Pgm(header, Pixels(pixels)));

        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.ReadImages(path));
        Assert.That(error!.Message, Does.StartWith("bad.pgm: ").And.Contain(reason));
    }

    [Test]
    public void EndlessPgmCommentIsRejectedAtTheHeaderBound()
    {
        string path = Write("bad.pgm", Pgm("P5\n#" + new string('x', 10_000), []));

        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.ReadImages(path));
        Assert.That(error!.Message, Does.Contain("header is longer than"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void IdxImagesRawAndGzippedAreRead(bool gzip)
    {
        byte[] pixels = Pixels(2 * 3 * 4);
        byte[] file = IdxReaderTests.Idx(0x803, [2, 3, 4], pixels);
        GreyImages images = ImageFiles.ReadImages(Write(gzip ? "i.gz" : "i", gzip ? IdxReaderTests.Gzip(file) : file));

        Assert.That((images.Count, images.Height, images.Width), Is.EqualTo((2, 3, 4)));
        Assert.That(images.Pixels, Is.EqualTo(pixels));
    }

    [TestCase(0x801u, new[] { 1, 28, 28 }, 784, "magic number 0x00000801")]
    [TestCase(0x803u, new[] { 0, 28, 28 }, 0, "0 images")]
    [TestCase(0x803u, new[] { 1, 28, -1 }, 0, "images of 28 × -1")]
    [TestCase(0x803u, new[] { 2, 28, 28 }, 784, "ends after 784 of the 1568 bytes")]
    [TestCase(0x803u, new[] { 1_000_000, 28, 28 }, 10, "ends after 10 of the 784000000 bytes")]
    [TestCase(0x803u, new[] { 1_000_000, 4096, 4096 }, 10, "is more than")]
    public void MalformedIdxImagesAreRejectedWithTheReason(uint magic, int[] sizes, int pixels, string reason)
    {
        byte[] file = IdxReaderTests.Idx(magic, sizes, Pixels(pixels));
        foreach (bool gzip in new[] { false, true })
        {
            string name = gzip ? "bad.gz" : "bad";
            string path = Write(name, gzip ? IdxReaderTests.Gzip(file) : file);

            var error = Assert.Throws<InvalidDataException>(() => ImageFiles.ReadImages(path));
            Assert.That(error!.Message, Does.StartWith(name + ": ").And.Contain(reason));
        }
    }

    [Test]
    public void DamagedGzipIsAnInvalidDataException()
    {
        byte[] file = IdxReaderTests.Gzip(IdxReaderTests.Idx(0x803, [4, 28, 28], Pixels(4 * 784)));
        for (int i = 10; i < file.Length - 8; i++)
        {
            file[i] ^= 0x5A; // scramble the deflate data, keep the gzip header
        }
        string path = Write("bad.gz", file);

        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.ReadImages(path));
        Assert.That(error!.Message, Does.StartWith("bad.gz: "));
    }

    [Test]
    public void LabelsFileWithTheImagesMagicIsRejected()
    {
        string path = Write("labels", IdxReaderTests.Idx(0x803, [1, 1, 1], [0]));

        var error = Assert.Throws<InvalidDataException>(() => ImageFiles.ReadLabels(path));
        Assert.That(error!.Message, Does.Contain("magic number 0x00000803").And.Contain("labels"));
    }
}
