using System.Diagnostics;
using System.IO;
using System.Threading;
using NeuralCore.Benchmarks.Runner;
using NeuralCore.Engine;
using NeuralCore.Optimizers;
using NUnit.Framework;

namespace NeuralCore.Tests.Optimizers;

/// <summary>
/// The atomic write, tested the hard way: a child process (the runner's hidden <c>checkpoint-stress</c> command)
/// saves 6 MB checkpoints in a loop; it is killed at random moments, many times, and after every kill the
/// checkpoint must load intact and be a complete version at least as new as the last one the child reported done.
/// </summary>
[TestFixture]
[NonParallelizable] // it times its kills; other tests running beside it would only make it slower
public sealed class CheckpointKillTests
{
    private const int Kills = 24;
    private const int MaxDelayMilliseconds = 150;
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public void TheCheckpointSurvivesKillsAtRandomMomentsOfTheSave()
    {
        string directory = Path.Combine(Path.GetTempPath(), "neuralcore-kill-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(directory, CheckpointStressCommand.FileName);
        var random = new RandomGenerator(2024);
        int midSave = 0;
        long lastVersion = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            for (int kill = 0; kill < Kills; kill++)
            {
                long reported = RunAndKill(directory, random.NextInt(MaxDelayMilliseconds + 1));
                string[] leftovers = Directory.GetFiles(directory, ".*.tmp");
                midSave += leftovers.Length > 0 ? 1 : 0;

                long version = LoadAndVerify(path);
                Assert.That(version, Is.GreaterThanOrEqualTo(reported), $"kill {kill}: the checkpoint went back to an older version");
                Assert.That(version, Is.GreaterThan(lastVersion), $"kill {kill}: the child saved nothing new");
                Assert.That(leftovers, Has.Length.LessThanOrEqualTo(1), $"kill {kill}: temporary files pile up");
                lastVersion = version;
            }
            TestContext.Out.WriteLine(
                $"{Kills} kills in {clock.Elapsed.TotalSeconds:0.0} s, {midSave} of them with a save in progress; last version {lastVersion}.");
            // The point of the test: some kills interrupted a write (else it showed nothing about atomicity).
            Assert.That(midSave, Is.GreaterThan(0));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Starts the child, waits for its first save, kills it after <paramref name="delay"/> ms; returns the last version it reported saved.</summary>
    private static long RunAndKill(string directory, int delay)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(CheckpointStressCommand).Assembly.Location);
        start.ArgumentList.Add("checkpoint-stress");
        start.ArgumentList.Add(directory);
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the checkpoint-stress child");
        long reported = 0;
        using var ready = new ManualResetEventSlim();
        var errors = new System.Text.StringBuilder();
        child.OutputDataReceived += (_, e) =>
        {
            // "ready v" after the first save, "saved v" after each later one.
            if (e.Data is { } line && line.Split(' ') is [_, var number])
            {
                Interlocked.Exchange(ref reported, long.Parse(number, System.Globalization.CultureInfo.InvariantCulture));
                ready.Set();
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            // A loaded CI machine may take seconds to start the child: the clock starts at its first save.
            if (!ready.Wait(s_readyTimeout))
            {
                Assert.Fail($"the child wrote no checkpoint within {s_readyTimeout.TotalSeconds} s (exit: {(child.HasExited ? child.ExitCode : "running")}); stderr: {errors}");
            }
            Thread.Sleep(delay);
            long before = Interlocked.Read(ref reported);
            Assert.That(child.HasExited, Is.False, $"the child stopped by itself; stderr: {errors}");
            return before;
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
        }
    }

    /// <summary>Loads the checkpoint into fresh objects and checks it is one whole version; returns that version.</summary>
    private static long LoadAndVerify(string path)
    {
        (Tensor parameter, Adam optimizer, RandomGenerator random) = CheckpointStressCommand.Create();
        CheckpointProgress progress = Checkpoint.Load(path, new Dictionary<string, Tensor> { ["weight"] = parameter.Detach() }, optimizer, generators: [random]);
        long version = progress.Step;

        var expected = new float[parameter.Count];
        CheckpointStressCommand.Fill(expected, version);
        // 512 K floats: compared as one span (NUnit's element-by-element comparison would box each).
        Assert.That(parameter.AsSpan().SequenceEqual(expected), Is.True, $"version {version}: the parameter is not that version's");
        Assert.That(progress.Notes["version"], Is.EqualTo(version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(optimizer.StateDict().Scalars["state.0.step"], Is.EqualTo(version), "the optimizer state is of another version");
        var generator = new RandomGenerator(42);
        for (long i = 0; i < version; i++)
        {
            generator.NextUInt64();
        }
        Assert.That(random.GetState(), Is.EqualTo(generator.GetState()), "the generator state is of another version");
        return version;
    }

    // `dotnet test` names its own host in DOTNET_HOST_PATH; otherwise the one on PATH.
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        string? process = Environment.ProcessPath;
        return process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process : "dotnet";
    }
}
