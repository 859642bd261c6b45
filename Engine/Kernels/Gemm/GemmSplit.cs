namespace NeuralCore.Engine.Kernels;

/// <summary>How a multi-threaded GEMM divides its work among threads.</summary>
internal enum GemmSplit
{
    /// <summary>Chosen from the shape: <see cref="SharedPanels"/> when C has enough rows to deal out, else <see cref="Parts"/>.</summary>
    Auto,

    /// <summary>C cut into one part per thread (<see cref="GemmPartition"/>, <see cref="GemmJob"/>), each packing its own operands.</summary>
    Parts,

    /// <summary>Each packed panel of B shared by all threads, blocks of C's rows dealt out (<see cref="GemmPanelJob"/>).</summary>
    SharedPanels,
}
