using System.Globalization;
using BenchmarkDotNet.Attributes;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// <see cref="Gemm.Multiply"/> on square sizes 64..2048 and the MLP's shapes, on 1 and 2 threads. GFLOP/s is
/// 2·m·n·k / time; the memory column must read 0 B (no managed allocation per call after warm-up).
/// </summary>
/// <remarks>
/// Run with <c>dotnet run -c Release --project Benchmarks -- bench --filter '*Gemm*'</c>. The PyTorch twin is
/// <c>Benchmarks/peers/pytorch_gemm.py</c>; recorded comparisons are in <c>Benchmarks/results/gemm-*.md</c>.
/// </remarks>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private bool _transA;
    private bool _transB;
    private int _m;
    private int _n;
    private int _k;
    private int _savedThreads;

    /// <summary>
    /// The case, as "form m×n×k": C (m, n) = op(A) (m, k) · op(B) (k, n), with N for a matrix used as stored and T
    /// for one used transposed. The MLP cases are a 784-1000-1000 network on a batch of 100: the forward products
    /// x·Wᵀ, and the backward products δᵀ·x (weight gradient) and δ·W (input gradient).
    /// </summary>
    [Params(
        "NN 64x64x64", "NN 128x128x128", "NN 256x256x256", "NN 512x512x512", "NN 1024x1024x1024", "NN 2048x2048x2048",
        "NT 100x1000x784", "NT 100x1000x1000", "TN 1000x784x100", "NN 100x784x1000")]
    public string Case { get; set; } = "NN 64x64x64";

    /// <summary>The value of <see cref="Gemm.MaxThreads"/> during the run.</summary>
    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    /// <summary>Parses the case and fills A and B with values in [-0.5, 0.5).</summary>
    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Case.Split(' ');
        _transA = parts[0][0] == 'T';
        _transB = parts[0][1] == 'T';
        int[] sizes = Array.ConvertAll(parts[1].Split('x'), s => int.Parse(s, CultureInfo.InvariantCulture));
        (_m, _n, _k) = (sizes[0], sizes[1], sizes[2]);
        _a = Fill(_m * _k, 1);
        _b = Fill(_k * _n, 2);
        _c = new float[_m * _n];
        _savedThreads = Gemm.MaxThreads;
        Gemm.MaxThreads = Threads;
    }

    /// <summary>Puts the thread setting back.</summary>
    [GlobalCleanup]
    public void Cleanup() => Gemm.MaxThreads = _savedThreads;

    /// <summary>One product, <c>C = op(A)·op(B)</c>.</summary>
    [Benchmark]
    public void Multiply() =>
        Gemm.Multiply(_transA, _transB, _m, _n, _k, 1f,
            _a, 0, _transA ? _m : _k, _b, 0, _transB ? _k : _n, 0f, _c, 0, _n);

    private static float[] Fill(int length, uint seed)
    {
        // A fixed linear congruential sequence: the values do not matter to the speed, only that they are not zero.
        float[] values = new float[length];
        uint state = seed;
        for (int i = 0; i < values.Length; i++)
        {
            state = (state * 1664525u) + 1013904223u;
            values[i] = ((state >> 8) / 16777216f) - 0.5f;
        }
        return values;
    }
}
