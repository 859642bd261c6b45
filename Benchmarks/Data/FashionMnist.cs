using System.IO;

namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul &amp; Vollgraf, 2017; © Zalando SE, MIT licence): 28 × 28 grey-scale images of
/// clothing in ten classes, 60 000 for training and 10 000 for testing, in the IDX format of MNIST.
/// </summary>
public static class FashionMnist
{
    /// <summary>The folder, under the program's own directory, that holds the subset shipped with NeuralCore.</summary>
    public const string DefaultSubsetFolder = "Data/fashion-mnist-subset";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the full set.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The ten class names, in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// The subset that ships with NeuralCore, so the runner works offline: 8 000 training images (the first 800
    /// of each class in file order) and 1 000 test images (the first 100 of each class), made by
    /// <c>Benchmarks/Data/make_subset.py</c> and copied beside the program at build time. Shape (N, 1, 28, 28),
    /// pixel values 0–255.
    /// </summary>
    /// <exception cref="FileNotFoundException">The subset was not copied beside the program (a broken build).</exception>
    /// <exception cref="InvalidDataException">A file of the subset is damaged.</exception>
    public static DataSplit LoadDefault() => Load(Path.Combine(AppContext.BaseDirectory, DefaultSubsetFolder));

    /// <summary>
    /// Loads the training and test sets from <paramref name="directory"/>, e.g. <see cref="DebianFolder"/> or a
    /// download of the original files; file names as in <see cref="IdxReader.LoadSplit"/> (gzipped or raw).
    /// Shape (N, 1, 28, 28), pixel values 0–255.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is invalid.</exception>
    public static DataSplit Load(string directory) => IdxReader.LoadSplit(directory, ClassNames);
}
