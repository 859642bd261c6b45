namespace NeuralCore.Engine.Kernels;

/// <summary>The activation a <see cref="GemmEpilogue"/> applies to each output element, last.</summary>
public enum GemmActivation
{
    /// <summary>No activation: the output is the scaled and shifted product.</summary>
    None = 0,

    /// <summary><c>max(x, 0)</c>.</summary>
    Relu = 1,
}
