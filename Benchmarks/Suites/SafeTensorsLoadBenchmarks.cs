using System.IO;
using BenchmarkDotNet.Attributes;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// Loading a 100 MB safetensors file (25 M float32 in four tensors) three ways, with the memory diagnoser: the
/// stream path (a 64 KB chunk buffer), the memory-mapped path (values copied from the mapped view straight into their
/// arrays) and, for contrast, reading the whole file into a byte[] first. The tensors themselves are 100 MB of float
/// arrays in every case, so "Allocated" minus 100 MB is what each way of reading costs on top of its result.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class SafeTensorsLoadBenchmarks
{
    private const int Floats = 25_000_000;

    private string _path = "";

    /// <summary>Writes the file once, in the temporary folder.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "neuralcore-load-benchmark-" + Guid.NewGuid().ToString("N") + ".safetensors");
        var random = new RandomGenerator(3);
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < 4; i++)
        {
            tensors.Add($"layer{i}.weight", Tensor.RandomNormal(random, [Floats / 4 / 1000, 1000]));
        }
        SafeTensors.Save(_path, tensors);
    }

    /// <summary>Deletes the file.</summary>
    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    /// <summary>The stream path: header, then each tensor through a 64 KB chunk.</summary>
    [Benchmark(Baseline = true)]
    public int Stream() => SafeTensors.Load(_path).Count;

    /// <summary>The memory-mapped path.</summary>
    [Benchmark]
    public int Mapped() => SafeTensors.LoadMapped(_path).Count;

    /// <summary>The whole file as a byte[], then the span overload: twice the memory at the peak.</summary>
    [Benchmark]
    public int WholeFile() => SafeTensors.Load(File.ReadAllBytes(_path)).Count;
}
