using System.Globalization;
using System.IO;
using NeuralCore.Engine;
using NeuralCore.Optimizers;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// The hidden <c>checkpoint-stress DIR</c> command, the child process of the kill-during-save test: it saves
/// checkpoints of a 2 MB parameter and its Adam state (6 MB per file) to <c>DIR/stress.checkpoint.safetensors</c>
/// in a loop, each version with different contents, until it is killed.
/// </summary>
/// <remarks>
/// Version v holds the parameter drawn uniformly from a generator seeded with v, an Adam state after v steps and
/// progress step v, so the test can check that whatever it loads is one complete version. On start the command
/// loads the checkpoint a previous (killed) run left, if any, and continues from its version. It prints
/// <c>ready v</c> after its first save and <c>saved v</c> after each later one.
/// </remarks>
internal static class CheckpointStressCommand
{
    /// <summary>The checkpoint's file name inside the folder.</summary>
    public const string FileName = "stress.checkpoint.safetensors";

    /// <summary>The parameter's shape: 512 × 1024 floats, 2 MB.</summary>
    public static readonly int[] Shape = [512, 1024];

    /// <summary>The parameter's contents at version <paramref name="version"/>.</summary>
    public static void Fill(Span<float> destination, long version) => new RandomGenerator((ulong)version).FillUniform(destination, -1f, 1f);

    /// <summary>A parameter, its optimizer (with a fixed gradient in place) and a generator, as the command and the test build them.</summary>
    public static (Tensor Parameter, Adam Optimizer, RandomGenerator Random) Create()
    {
        Tensor parameter = Tensor.Zeros(Shape);
        parameter.RequiresGrad = true;
        parameter.Backward(Tensor.Full(0.5f, Shape));
        return (parameter, new Adam([parameter], learningRate: 1e-3), new RandomGenerator(42));
    }

    /// <summary>Runs until killed; returns 2 on a usage error, 1 if the previous checkpoint does not load.</summary>
    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count != 1)
        {
            Console.Error.WriteLine("usage: checkpoint-stress DIR");
            return 2;
        }
        Directory.CreateDirectory(args[0]);
        string path = Path.Combine(args[0], FileName);
        (Tensor parameter, Adam optimizer, RandomGenerator random) = Create();
        var model = new Dictionary<string, Tensor> { ["weight"] = parameter.Detach() };
        long version = 0;
        if (File.Exists(path))
        {
            try
            {
                version = Checkpoint.Load(path, model, optimizer, generators: [random]).Step;
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"checkpoint-stress: the previous checkpoint does not load: {e.Message}");
                return 1;
            }
        }
        for (bool first = true; ; first = false)
        {
            version++;
            optimizer.Step();
            random.NextUInt64();
            Fill(parameter.AsSpan(), version);
            var progress = new CheckpointProgress(0, version) { Notes = new Dictionary<string, string> { ["version"] = version.ToString(CultureInfo.InvariantCulture) } };
            Checkpoint.Save(path, model, optimizer, progress, generators: [random]);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(first ? "ready" : "saved")} {version}"));
            Console.Out.Flush();
        }
    }
}
