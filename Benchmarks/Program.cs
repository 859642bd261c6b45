using BenchmarkDotNet.Running;

namespace NeuralCore.Benchmarks;

/// <summary>
/// The command-line runner. <c>bench</c> hands the rest of the command line to BenchmarkDotNet
/// (e.g. <c>-- bench --filter '*Gemm*'</c>); the paper's comparison (<c>compare</c>, the default) arrives with
/// the layers and optimizers.
/// </summary>
public static class Program
{
    /// <summary>Entry point; returns 0 on success, 2 on a usage error.</summary>
    public static int Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "help";
        switch (command)
        {
            case "bench":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
                return 0;
            case "help":
            case "--help":
            case "-h":
                Console.WriteLine("""
                    NeuralCore runner

                    usage: dotnet run -c Release --project Benchmarks -- <command> [options]

                    commands:
                      bench [BenchmarkDotNet options]   run the BenchmarkDotNet suites, e.g. bench --filter '*Mlp*'
                      help                              this text

                    The paper's comparison (plain vs weight norm vs batch norm) becomes the default command once the
                    layers and optimizers land (issues 4-6).
                    """);
                return 0;
            default:
                Console.Error.WriteLine($"unknown command '{command}'; run with --help for the list.");
                return 2;
        }
    }
}
