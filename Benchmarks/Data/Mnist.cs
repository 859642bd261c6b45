namespace NeuralCore.Benchmarks.Data;

/// <summary>MNIST (LeCun et al., 1998): 28 × 28 grey-scale handwritten digits, in the IDX format.</summary>
public static class Mnist
{
    /// <summary>The class names: the digits "0" to "9".</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// Loads the training and test sets from <paramref name="directory"/> (file names as in
    /// <see cref="IdxReader.LoadSplit"/>, gzipped or raw). Shape (N, 1, 28, 28), pixel values 0–255.
    /// </summary>
    /// <exception cref="System.IO.FileNotFoundException">A file is missing.</exception>
    /// <exception cref="System.IO.InvalidDataException">A file is invalid.</exception>
    public static DataSplit Load(string directory) => IdxReader.LoadSplit(directory, ClassNames);
}
