namespace NeuralCore.Benchmarks;

/// <summary>The command-line runner. Later issues add the paper's comparison and the speed suites.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        System.Console.WriteLine("NeuralCore runner: nothing to run yet.");
        return 0;
    }
}
