using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml.Linq;

namespace NeuralCore.Benchmarks.Reporting;

/// <summary>
/// A small line chart written as SVG by our own code: several series on one plot, a logarithmic (default) or linear
/// y axis, ticks and labels on both axes, a legend, a title. Made for training curves: the paper's Figure 1 is
/// training loss per iteration, smoothed, on a log scale, one line per parameterization.
/// </summary>
/// <remarks>
/// The document is built with <see cref="System.Xml.Linq"/>, so it is always well-formed XML (names with
/// <c>&lt;</c> or <c>&amp;</c> are escaped), and every number is written with the invariant culture (a decimal
/// point, whatever the machine's locale). Each series is exactly one <c>&lt;path&gt;</c> element; points that
/// cannot be drawn (NaN, infinite, or ≤ 0 on a log axis) break the line into pieces within that path.
/// </remarks>
public sealed class SvgChart
{
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";

    // Matplotlib's "tab10" colours: distinct, and readable by most colour-blind viewers.
    private static readonly string[] s_colors =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    // Margins around the plot area, in pixels: room for tick labels (left, bottom), the title (top) and the legend (right).
    private const double MarginLeft = 72;
    private const double MarginRight = 170;
    private const double MarginTop = 44;
    private const double MarginBottom = 56;

    private readonly List<Series> _series = [];

    /// <summary>An empty chart with a title and axis labels.</summary>
    public SvgChart(string title, string xLabel, string yLabel)
    {
        Title = title;
        XLabel = xLabel;
        YLabel = yLabel;
    }

    /// <summary>The title above the plot.</summary>
    public string Title { get; }

    /// <summary>The label under the x axis.</summary>
    public string XLabel { get; }

    /// <summary>The label beside the y axis.</summary>
    public string YLabel { get; }

    /// <summary>Width of the image in pixels (default 760).</summary>
    public int Width { get; init; } = 760;

    /// <summary>Height of the image in pixels (default 440).</summary>
    public int Height { get; init; } = 440;

    /// <summary>A logarithmic y axis with a labelled tick at every power of ten (default true).</summary>
    public bool LogY { get; init; } = true;

    /// <summary>The number of series added so far.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Adds a series with x = 1, 2, …, n (e.g. iterations).</summary>
    public void AddSeries(string name, IReadOnlyList<double> y) =>
        AddSeries(name, Enumerable.Range(1, y.Count).Select(i => (double)i).ToArray(), y);

    /// <summary>Adds a series of points (x[i], y[i]).</summary>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    public void AddSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"SvgChart.AddSeries('{name}'): {x.Count} x values and {y.Count} y values; expected the same number.");
        }
        _series.Add(new Series(name, [.. x], [.. y]));
    }

    /// <summary>
    /// An exponential moving average, <c>s_t = β s_{t−1} + (1 − β) v_t</c>, divided by <c>1 − β^t</c> so the start
    /// is not pulled toward 0 (TensorBoard's "smoothing" and Adam's bias correction). Non-finite values are skipped
    /// (the previous smoothed value is repeated).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is outside [0, 1).</exception>
    public static double[] Smooth(IReadOnlyList<double> values, double beta = 0.9)
    {
        if (!(beta >= 0 && beta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "SvgChart.Smooth: expected a weight β in [0, 1).");
        }
        var result = new double[values.Count];
        double average = 0;
        double weight = 0; // 1 − β^t, the total weight of the values seen so far
        for (int t = 0; t < values.Count; t++)
        {
            if (double.IsFinite(values[t]))
            {
                average = beta * average + (1 - beta) * values[t];
                weight = beta * weight + (1 - beta);
            }
            result[t] = weight > 0 ? average / weight : double.NaN;
        }
        return result;
    }

    /// <summary>The chart as an SVG document.</summary>
    /// <exception cref="InvalidOperationException">No series has a point that can be drawn.</exception>
    public XDocument ToDocument()
    {
        double plotLeft = MarginLeft, plotTop = MarginTop;
        double plotWidth = Width - MarginLeft - MarginRight, plotHeight = Height - MarginTop - MarginBottom;

        // The data ranges, over the drawable points of all series.
        var points = _series.SelectMany(s => s.X.Zip(s.Y)).Where(p => Drawable(p.First, p.Second)).ToList();
        if (points.Count == 0)
        {
            throw new InvalidOperationException($"SvgChart '{Title}': no drawable points (finite, and positive on a log axis) in {_series.Count} series.");
        }
        (double xMin, double xMax) = Widen(points.Min(p => p.First), points.Max(p => p.First));
        double[] xTicks = NiceTicks(xMin, xMax, 8);
        double yLow, yHigh; // axis bounds, in log10 units when LogY
        double[] yTicks;
        if (LogY)
        {
            yTicks = DecadeTicks(points.Min(p => p.Second), points.Max(p => p.Second));
            yLow = Math.Log10(yTicks[0]);
            yHigh = Math.Log10(yTicks[^1]);
        }
        else
        {
            (yLow, yHigh) = Widen(points.Min(p => p.Second), points.Max(p => p.Second));
            yTicks = NiceTicks(yLow, yHigh, 6);
            yLow = Math.Min(yLow, yTicks[0]);
            yHigh = Math.Max(yHigh, yTicks[^1]);
        }

        double ToPixelX(double x) => plotLeft + plotWidth * (x - xMin) / (xMax - xMin);
        double ToPixelY(double y) => plotTop + plotHeight * (yHigh - (LogY ? Math.Log10(y) : y)) / (yHigh - yLow);

        var svg = new XElement(s_svg + "svg",
            new XAttribute("width", Width), new XAttribute("height", Height),
            new XAttribute("viewBox", $"0 0 {Width} {Height}"),
            new XAttribute("font-family", "sans-serif"), new XAttribute("font-size", 12),
            new XElement(s_svg + "rect", new XAttribute("width", Width), new XAttribute("height", Height), new XAttribute("fill", "white")),
            Text(Width / 2.0, 24, Title, "middle", 15));

        // Grid lines and tick labels.
        var axes = new XElement(s_svg + "g", new XAttribute("class", "axes"));
        foreach (double x in xTicks)
        {
            double px = ToPixelX(x);
            axes.Add(Line(px, plotTop, px, plotTop + plotHeight, "#e5e5e5"),
                Line(px, plotTop + plotHeight, px, plotTop + plotHeight + 5, "black"),
                Text(px, plotTop + plotHeight + 19, FormatTick(x), "middle", 12, "x-tick"));
        }
        foreach (double y in yTicks)
        {
            double py = ToPixelY(y);
            axes.Add(Line(plotLeft, py, plotLeft + plotWidth, py, "#d0d0d0"),
                Line(plotLeft - 5, py, plotLeft, py, "black"),
                Text(plotLeft - 8, py + 4, FormatTick(y), "end", 12, "y-tick"));
        }
        if (LogY)
        {
            // Unlabelled minor ticks at 2, 3, …, 9 times each power of ten.
            for (int i = 0; i < yTicks.Length - 1; i++)
            {
                for (int m = 2; m <= 9; m++)
                {
                    double py = ToPixelY(m * yTicks[i]);
                    axes.Add(Line(plotLeft + 0.5, py, plotLeft + plotWidth, py, "#f2f2f2"), Line(plotLeft - 3, py, plotLeft, py, "black"));
                }
            }
        }
        axes.Add(new XElement(s_svg + "rect",
            new XAttribute("x", Format(plotLeft)), new XAttribute("y", Format(plotTop)),
            new XAttribute("width", Format(plotWidth)), new XAttribute("height", Format(plotHeight)),
            new XAttribute("fill", "none"), new XAttribute("stroke", "black")));
        axes.Add(Text(plotLeft + plotWidth / 2, Height - 14, XLabel, "middle", 13));
        XElement yLabel = Text(18, plotTop + plotHeight / 2, YLabel, "middle", 13);
        yLabel.Add(new XAttribute("transform", $"rotate(-90 18 {Format(plotTop + plotHeight / 2)})"));
        axes.Add(yLabel);
        svg.Add(axes);

        // One path per series; a point that cannot be drawn ends the current piece ("M" starts the next).
        var legend = new XElement(s_svg + "g", new XAttribute("class", "legend"));
        for (int i = 0; i < _series.Count; i++)
        {
            Series series = _series[i];
            string color = s_colors[i % s_colors.Length];
            var d = new StringBuilder();
            bool penDown = false;
            for (int k = 0; k < series.X.Length; k++)
            {
                if (!Drawable(series.X[k], series.Y[k]))
                {
                    penDown = false;
                    continue;
                }
                d.Append(d.Length == 0 ? "" : " ").Append(penDown ? 'L' : 'M')
                    .Append(Format(ToPixelX(series.X[k]))).Append(',').Append(Format(ToPixelY(series.Y[k])));
                penDown = true;
            }
            svg.Add(new XElement(s_svg + "path",
                new XAttribute("class", "series"), new XAttribute("data-name", series.Name),
                new XAttribute("d", d.ToString()), new XAttribute("fill", "none"),
                new XAttribute("stroke", color), new XAttribute("stroke-width", 1.5), new XAttribute("stroke-linejoin", "round")));

            double legendY = plotTop + 14 + 20 * i;
            double legendX = plotLeft + plotWidth + 14;
            legend.Add(new XElement(s_svg + "line",
                    new XAttribute("x1", Format(legendX)), new XAttribute("y1", Format(legendY)),
                    new XAttribute("x2", Format(legendX + 22)), new XAttribute("y2", Format(legendY)),
                    new XAttribute("stroke", color), new XAttribute("stroke-width", 3)),
                Text(legendX + 28, legendY + 4, series.Name, "start", 12));
        }
        svg.Add(legend);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), svg);
    }

    /// <summary>The chart as SVG text.</summary>
    /// <exception cref="InvalidOperationException">No series has a point that can be drawn.</exception>
    public string ToSvg()
    {
        XDocument document = ToDocument();
        return document.Declaration + "\n" + document.ToString() + "\n";
    }

    /// <summary>
    /// Writes the chart to <paramref name="path"/>, through a temporary file renamed over it at the end, so a crash
    /// never leaves a half-written chart.
    /// </summary>
    /// <exception cref="InvalidOperationException">No series has a point that can be drawn.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, ToSvg(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// The powers of ten that enclose [<paramref name="min"/>, <paramref name="max"/>] (both &gt; 0), in ascending
    /// order: the log axis runs from the first to the last, so it always has at least two labelled ticks.
    /// </summary>
    internal static double[] DecadeTicks(double min, double max)
    {
        int low = (int)Math.Floor(Math.Log10(min));
        int high = (int)Math.Ceiling(Math.Log10(max));
        if (high == low)
        {
            high++;
        }
        return Enumerable.Range(low, high - low + 1).Select(k => Math.Pow(10, k)).ToArray();
    }

    /// <summary>
    /// Ticks at a "nice" step (1, 2 or 5 times a power of ten) giving at most about <paramref name="target"/> ticks
    /// inside [<paramref name="min"/>, <paramref name="max"/>].
    /// </summary>
    internal static double[] NiceTicks(double min, double max, int target)
    {
        double rough = (max - min) / Math.Max(1, target);
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double multiple = (rough / power) switch
        {
            <= 1 => 1,
            <= 2 => 2,
            <= 5 => 5,
            _ => 10,
        };
        double step = multiple * power;
        var ticks = new List<double>();
        for (double k = Math.Ceiling(min / step - 1e-9); k * step <= max + step * 1e-9; k++)
        {
            ticks.Add(Math.Abs(k * step) < step * 1e-9 ? 0 : k * step);
        }
        return [.. ticks];
    }

    private bool Drawable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogY || y > 0);

    // A range of zero width (one point, or a constant series) is widened so the mapping does not divide by zero.
    private static (double Min, double Max) Widen(double min, double max) =>
        max > min ? (min, max) : (min - Math.Max(1, Math.Abs(min) * 0.1), max + Math.Max(1, Math.Abs(max) * 0.1));

    // Tick labels: powers of ten between 10⁻⁴ and 10⁵ in plain notation (0.001, 100), others as 1e-6; 0.1 + 0.2
    // style noise removed by rounding to 10 significant digits.
    private static string FormatTick(double value)
    {
        double rounded = double.Parse(value.ToString("G10", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        double magnitude = Math.Abs(rounded);
        return magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e6)
            ? rounded.ToString("0.##e0", CultureInfo.InvariantCulture)
            : rounded.ToString("0.##########", CultureInfo.InvariantCulture);
    }

    // Coordinates with two decimals, invariant culture: "12.5", never "12,5".
    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static XElement Line(double x1, double y1, double x2, double y2, string stroke) =>
        new(s_svg + "line",
            new XAttribute("x1", Format(x1)), new XAttribute("y1", Format(y1)),
            new XAttribute("x2", Format(x2)), new XAttribute("y2", Format(y2)),
            new XAttribute("stroke", stroke));

    private static XElement Text(double x, double y, string content, string anchor, int size, string? cssClass = null)
    {
        var text = new XElement(s_svg + "text",
            new XAttribute("x", Format(x)), new XAttribute("y", Format(y)),
            new XAttribute("text-anchor", anchor), new XAttribute("font-size", size), content);
        if (cssClass is not null)
        {
            text.Add(new XAttribute("class", cssClass));
        }
        return text;
    }

    private sealed record Series(string Name, double[] X, double[] Y);
}
