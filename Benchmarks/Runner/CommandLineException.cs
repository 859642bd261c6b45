namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// A usage error on the command line (an unknown option, a missing or bad value). The runner prints the message on
/// stderr and exits with code 2.
/// </summary>
public sealed class CommandLineException : Exception
{
    /// <summary>A usage error with a message naming the option and what was expected.</summary>
    public CommandLineException(string message)
        : base(message)
    {
    }

    /// <summary>A usage error without a message (prefer the constructor with one).</summary>
    public CommandLineException()
    {
    }

    /// <summary>A usage error caused by <paramref name="innerException"/>.</summary>
    public CommandLineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
