using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace NeuralCore.Benchmarks.Speed;

/// <summary>
/// The results of one <c>speed</c> run, or of a peer tool's run, as one JSON object that every tool writes alike:
/// <c>{"tool": "neuralcore", "threads": 2, "fma_peak_gflops": 205.2, "cases": [{"kind": "gemm", "name": "gemm
/// 1024x1024x1024 NN", "m": 1024, "n": 1024, "k": 1024, "median_ms": 10.4, "min_ms": 10.1, "max_ms": 11.0,
/// "gflops": 206.5}, ...]}</c>. Extra top-level fields (<c>machine</c>, <c>date_utc</c>, <c>peak_working_set_mb</c>) are
/// informative only.
/// </summary>
internal sealed class SpeedRun
{
    /// <summary>A run of <paramref name="tool"/> on <paramref name="threads"/> threads.</summary>
    public SpeedRun(string tool, int threads, double? fmaPeakGflops, IReadOnlyList<SpeedCaseResult> cases)
    {
        Tool = tool;
        Threads = threads;
        FmaPeakGflops = fmaPeakGflops;
        Cases = cases;
    }

    /// <summary><c>neuralcore</c>, <c>pytorch</c>, ...</summary>
    public string Tool { get; }

    /// <summary>The thread count the run was given.</summary>
    public int Threads { get; }

    /// <summary>Measured FMA peak of the threads used (per-thread peak × threads), or null if not measured.</summary>
    public double? FmaPeakGflops { get; }

    /// <summary>The cases, in the order they ran.</summary>
    public IReadOnlyList<SpeedCaseResult> Cases { get; }

    /// <summary>A free-text description of the machine and runtime, or null.</summary>
    public string? Machine { get; init; }

    /// <summary>When the run ended (UTC, ISO 8601), or null.</summary>
    public string? DateUtc { get; init; }

    /// <summary>The process's peak working set (MB) at the end of the run, or null if not measured.</summary>
    public double? PeakWorkingSetMb { get; init; }

    /// <summary>The run as indented JSON (numbers invariant, times rounded to 0.1 µs, GFLOP/s to 0.01).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("tool", Tool);
            writer.WriteNumber("threads", Threads);
            if (FmaPeakGflops is double peak)
            {
                writer.WriteNumber("fma_peak_gflops", Math.Round(peak, 2));
            }
            if (Machine is not null)
            {
                writer.WriteString("machine", Machine);
            }
            if (DateUtc is not null)
            {
                writer.WriteString("date_utc", DateUtc);
            }
            if (PeakWorkingSetMb is double workingSet)
            {
                writer.WriteNumber("peak_working_set_mb", Math.Round(workingSet, 1));
            }
            writer.WriteStartArray("cases");
            foreach (SpeedCaseResult result in Cases)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", result.Kind);
                writer.WriteString("name", result.Name);
                foreach ((string key, object value) in result.Fields)
                {
                    switch (value)
                    {
                        case int i:
                            writer.WriteNumber(key, i);
                            break;
                        case long l:
                            writer.WriteNumber(key, l);
                            break;
                        case double d:
                            writer.WriteNumber(key, d);
                            break;
                        default:
                            writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                            break;
                    }
                }
                writer.WriteNumber("median_ms", Math.Round(result.MedianMs, 4));
                writer.WriteNumber("min_ms", Math.Round(result.MinMs, 4));
                writer.WriteNumber("max_ms", Math.Round(result.MaxMs, 4));
                if (result.Gflops is double gflops)
                {
                    writer.WriteNumber("gflops", Math.Round(gflops, 2));
                }
                if (result.AllocBytes is long bytes)
                {
                    writer.WriteNumber("alloc_bytes", bytes);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes <see cref="ToJson"/> to a temporary file beside <paramref name="path"/>, then renames it.</summary>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string temporary = full + ".tmp";
        File.WriteAllText(temporary, ToJson());
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>Reads a run written by any tool in this schema; fields it does not know are skipped.</summary>
    /// <exception cref="InvalidDataException">The text is not JSON, or <c>tool</c>, <c>threads</c>, <c>cases</c> or
    /// a case's <c>kind</c>, <c>name</c> or <c>median_ms</c> is missing or of the wrong type.</exception>
    public static SpeedRun Parse(string json, string source)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"speed: {source} is not a JSON object.");
            }
            string tool = Required(root, "tool", JsonValueKind.String, source).GetString()!;
            int threads = Required(root, "threads", JsonValueKind.Number, source).GetInt32();
            double? peak = Optional(root, "fma_peak_gflops");
            var cases = new List<SpeedCaseResult>();
            foreach (JsonElement item in Required(root, "cases", JsonValueKind.Array, source).EnumerateArray())
            {
                string what = $"{source}, case {cases.Count}";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"speed: {what} is not a JSON object.");
                }
                string kind = Required(item, "kind", JsonValueKind.String, what).GetString()!;
                string name = Required(item, "name", JsonValueKind.String, what).GetString()!;
                double median = Required(item, "median_ms", JsonValueKind.Number, what).GetDouble();
                long? alloc = item.TryGetProperty("alloc_bytes", out JsonElement a) && a.ValueKind == JsonValueKind.Number ? a.GetInt64() : null;
                cases.Add(new SpeedCaseResult(kind, name, [], median, Optional(item, "min_ms") ?? median,
                    Optional(item, "max_ms") ?? median, Optional(item, "gflops"), alloc));
            }
            return new SpeedRun(tool, threads, peak, cases)
            {
                Machine = root.TryGetProperty("machine", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
                DateUtc = root.TryGetProperty("date_utc", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null,
                PeakWorkingSetMb = Optional(root, "peak_working_set_mb"),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"speed: {source} is not valid JSON: {e.Message}", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"speed: {source} has a number out of range: {e.Message}", e);
        }
    }

    private static JsonElement Required(JsonElement parent, string name, JsonValueKind kind, string source)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != kind)
        {
            throw new InvalidDataException($"speed: {source} needs \"{name}\" of type {kind.ToString().ToLowerInvariant()}.");
        }
        return value;
    }

    private static double? Optional(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
