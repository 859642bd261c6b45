using System.IO;
using NeuralCore.Benchmarks.Data;
using NUnit.Framework;

namespace NeuralCore.Tests.Data;

[TestFixture]
public sealed class FashionMnistTests
{
    [Test]
    public void TheEmbeddedSubsetLoadsStratifiedByClass()
    {
        DataSplit split = FashionMnist.LoadDefault();

        Assert.That(split.Train.Count, Is.EqualTo(8000));
        Assert.That(split.Test.Count, Is.EqualTo(1000));
        Assert.That(split.Train.CountPerClass(), Is.All.EqualTo(800));
        Assert.That(split.Test.CountPerClass(), Is.All.EqualTo(100));
        Assert.That((split.Train.Channels, split.Train.Height, split.Train.Width), Is.EqualTo((1, 28, 28)));
        Assert.That(split.Train.ClassNames, Has.Count.EqualTo(10));
        float[] pixels = split.Train.Images.ToArray();
        Assert.That(pixels.Min(), Is.EqualTo(0f));
        Assert.That(pixels.Max(), Is.EqualTo(255f));
    }

    [Test]
    public void TheEmbeddedSubsetIsTheFirstExamplesOfEachClassOfTheFullSet()
    {
        if (!Directory.Exists(FashionMnist.DebianFolder))
        {
            Assert.Ignore($"{FashionMnist.DebianFolder} is not installed (apt-get install dataset-fashion-mnist).");
        }
        DataSplit full = FashionMnist.Load(FashionMnist.DebianFolder);
        Assert.That(full.Train.Count, Is.EqualTo(60000));
        Assert.That(full.Test.Count, Is.EqualTo(10000));

        // make_subset.py's rule, applied here independently: the first 100 test examples of each class, in file order.
        var kept = new int[10];
        var indices = new List<int>();
        for (int i = 0; i < full.Test.Count; i++)
        {
            if (kept[full.Test.Labels[i]]++ < 100)
            {
                indices.Add(i);
            }
        }
        Dataset expected = full.Test.Subset(indices.ToArray());
        Dataset subset = FashionMnist.LoadDefault().Test;
        Assert.That(subset.Labels.ToArray(), Is.EqualTo(expected.Labels.ToArray()));
        Assert.That(subset.Images.ToArray(), Is.EqualTo(expected.Images.ToArray()));
    }
}
