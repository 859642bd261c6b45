using BenchmarkDotNet.Running;
using NeuralCore.Benchmarks.Runner;

namespace NeuralCore.Benchmarks;

/// <summary>
/// The command-line runner. <c>compare</c> (the default, also when the first argument is an option) trains the same
/// network as plain, weight-normalized, batch-normalized and weight-normalized + mean-only-batch-normalized and
/// compares them; <c>bench</c> hands the rest of the command line to BenchmarkDotNet
/// (e.g. <c>-- bench --filter '*Gemm*'</c>).
/// </summary>
public static class Program
{
    /// <summary>Entry point; returns 0 on success, 1 on a run-time error, 2 on a usage error.</summary>
    public static int Main(string[] args)
    {
        // No command, or an option first: the default command, compare.
        if (args.Length == 0 || (args[0].StartsWith("--", StringComparison.Ordinal) && args[0] != "--help"))
        {
            return CompareCommand.Run(args, Console.Out, Console.Error);
        }
        string command = args[0];
        switch (command)
        {
            case "compare":
                return CompareCommand.Run(args[1..], Console.Out, Console.Error);
            case "speed":
                return Speed.SpeedCommand.Run(args[1..]);
            case "checkpoint-stress": // hidden: the child process of the kill-during-save test
                return CheckpointStressCommand.Run(args[1..]);
            case "bench":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
                return 0;
            case "help":
            case "--help":
            case "-h":
                Console.WriteLine("""
                    NeuralCore runner

                    usage: dotnet run -c Release --project Benchmarks -- [command] [options]

                    commands:
                      compare [options]                 (the default) train one network as plain, weight norm, batch norm and
                                                        weight norm + mean-only batch norm, and compare them; compare --help
                                                        lists the options
                      speed [options]                   time the GEMM and Conv2d against the FMA peak and PyTorch (speed --help)
                      bench [BenchmarkDotNet options]   run the BenchmarkDotNet suites, e.g. bench --filter '*Mlp*'
                      help                              this text

                    """);
                Console.WriteLine(CompareOptions.HelpText);
                return 0;
            default:
                Console.Error.WriteLine($"unknown command '{command}'; run with --help for the list.");
                return 2;
        }
    }
}
