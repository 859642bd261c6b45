using System.Globalization;
using System.IO;
using System.Xml.Linq;
using NeuralCore.Benchmarks.Reporting;
using NUnit.Framework;

namespace NeuralCore.Tests.Reporting;

[TestFixture]
public sealed class SvgChartTests
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    private static SvgChart ThreeCurves()
    {
        var chart = new SvgChart("Training loss <Fashion-MNIST & MLP>", "iteration", "loss");
        for (int v = 0; v < 3; v++)
        {
            double[] loss = Enumerable.Range(0, 300).Select(t => 2.3 * Math.Exp(-t / (60.0 + 30 * v)) + 0.04).ToArray();
            chart.AddSeries(v == 0 ? "plain" : v == 1 ? "wn" : "wn + mean-only BN", SvgChart.Smooth(loss));
        }
        return chart;
    }

    private static string[] Labels(XDocument document, string cssClass) =>
        document.Descendants(s_svg + "text").Where(t => (string?)t.Attribute("class") == cssClass).Select(t => t.Value).ToArray();

    [Test]
    public void IsWellFormedSvgWithOnePathPerSeries()
    {
        string svg = ThreeCurves().ToSvg();
        XDocument document = XDocument.Parse(svg);

        Assert.That(document.Root!.Name, Is.EqualTo(s_svg + "svg"));
        XElement[] paths = document.Descendants(s_svg + "path").ToArray();
        Assert.That(paths, Has.Length.EqualTo(3));
        Assert.That(paths.Select(p => (string?)p.Attribute("data-name")), Is.EqualTo(new[] { "plain", "wn", "wn + mean-only BN" }));
        foreach (XElement path in paths)
        {
            Assert.That((string?)path.Attribute("d"), Does.Match(@"^M\d+(\.\d+)?,\d+(\.\d+)?( L\d+(\.\d+)?,\d+(\.\d+)?){299}$"));
        }
        Assert.That(document.Descendants(s_svg + "text").Select(t => t.Value), Does.Contain("Training loss <Fashion-MNIST & MLP>"),
            "the title survives escaping");
        Assert.That(document.Descendants(s_svg + "text").Select(t => t.Value), Does.Contain("wn + mean-only BN"), "legend");
    }

    [Test]
    public void LogAxisHasALabelledTickAtEveryDecade()
    {
        XDocument document = ThreeCurves().ToDocument(); // losses from 2.34 down to ~0.05
        Assert.That(Labels(document, "y-tick"), Is.EqualTo(new[] { "0.01", "0.1", "1", "10" }));

        // The decades are evenly spaced, top to bottom from 10 to 0.01.
        double[] ys = document.Descendants(s_svg + "text").Where(t => (string?)t.Attribute("class") == "y-tick")
            .Select(t => double.Parse((string)t.Attribute("y")!, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(ys, Is.Ordered.Descending);
        Assert.That(ys[0] - ys[1], Is.EqualTo(ys[2] - ys[3]).Within(0.02));
    }

    [Test]
    public void DecadeTicksEncloseTheRange()
    {
        Assert.That(SvgChart.DecadeTicks(0.3, 2.3), Is.EqualTo(new[] { 0.1, 1, 10 }).Within(1e-12));
        Assert.That(SvgChart.DecadeTicks(1.5, 1.7), Is.EqualTo(new[] { 1, 10 }).Within(1e-12));
        Assert.That(SvgChart.DecadeTicks(0.001, 100), Has.Length.EqualTo(6));
    }

    [Test]
    public void XAxisHasNiceTicks()
    {
        XDocument document = ThreeCurves().ToDocument(); // iterations 1..300
        Assert.That(Labels(document, "x-tick"), Is.EqualTo(new[] { "50", "100", "150", "200", "250", "300" }));
        Assert.That(SvgChart.NiceTicks(0, 1, 5), Is.EqualTo(new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 }).Within(1e-12));
    }

    [Test]
    public void NumbersUseTheInvariantCultureWhateverTheLocale()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var chart = new SvgChart("t", "x", "y") { LogY = false };
            chart.AddSeries("s", [0.5, 1.5, 2.5], [0.25, 0.125, 1.75]);
            XDocument document = XDocument.Parse(chart.ToSvg());
            foreach (XAttribute attribute in document.Descendants().Attributes().Where(a => a.Name.LocalName is "x" or "y" or "x1" or "y2"))
            {
                Assert.That(attribute.Value, Does.Match(@"^-?\d+(\.\d+)?$"));
            }
            Assert.That(Labels(document, "x-tick"), Does.Contain("0.5"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Test]
    public void UndrawablePointsBreakTheLineInsideOnePath()
    {
        var chart = new SvgChart("t", "x", "y");
        chart.AddSeries("s", [1.0, 0.5, double.NaN, 0.2, -1, 0.1]);
        XElement path = XDocument.Parse(chart.ToSvg()).Descendants(s_svg + "path").Single();
        string d = (string)path.Attribute("d")!;
        Assert.That(d.Count(c => c == 'M'), Is.EqualTo(3), "three pieces: (1, 0.5), (0.2), (0.1)");
        Assert.That(d.Count(c => c == 'L'), Is.EqualTo(1));
    }

    [Test]
    public void SmoothingIsABiasCorrectedMovingAverage()
    {
        Assert.That(SvgChart.Smooth([2, 2, 2, 2]), Is.EqualTo(new[] { 2.0, 2, 2, 2 }).Within(1e-12), "no pull toward 0");
        double[] smoothed = SvgChart.Smooth([0, 10], beta: 0.5);
        // s₂ = (β·(1 − β)·0 + (1 − β)·10) / (1 − β²) = 5 / 0.75.
        Assert.That(smoothed[1], Is.EqualTo(5.0 / 0.75).Within(1e-12));
        Assert.That(SvgChart.Smooth([1, double.NaN, 1])[1], Is.EqualTo(1.0).Within(1e-12));
    }

    [Test]
    public void SaveWritesTheFileAndNoTemporary()
    {
        string directory = Path.Combine(Path.GetTempPath(), "neuralcore-svg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "compare.svg");
            ThreeCurves().Save(path);
            ThreeCurves().Save(path); // overwrites
            Assert.That(XDocument.Load(path).Descendants(s_svg + "path").Count(), Is.EqualTo(3));
            Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(1));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void AChartWithNothingToDrawThrows()
    {
        var chart = new SvgChart("t", "x", "y");
        chart.AddSeries("s", [0.0, -1]);
        Assert.Throws<InvalidOperationException>(() => chart.ToSvg());
        Assert.Throws<ArgumentException>(() => chart.AddSeries("bad", [1.0], [1.0, 2.0]));
    }
}
