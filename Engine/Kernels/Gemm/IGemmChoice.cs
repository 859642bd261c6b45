namespace NeuralCore.Engine.Kernels;

/// <summary>
/// A yes/no fixed at compile time, for specializing one generic kernel body: with a struct type argument the JIT
/// compiles a separate body in which <see cref="Yes"/> is a constant, so the branches it rules out disappear.
/// </summary>
internal interface IGemmChoice
{
    /// <summary>The choice.</summary>
    static abstract bool Yes { get; }
}

/// <summary>The <see cref="IGemmChoice"/> that says yes.</summary>
internal readonly struct GemmYes : IGemmChoice
{
    public static bool Yes => true;
}

/// <summary>The <see cref="IGemmChoice"/> that says no.</summary>
internal readonly struct GemmNo : IGemmChoice
{
    public static bool Yes => false;
}
