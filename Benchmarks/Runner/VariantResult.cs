namespace NeuralCore.Benchmarks.Runner;

/// <summary>What training one <see cref="Variant"/> measured.</summary>
/// <param name="Variant">The parameterization.</param>
/// <param name="ParameterCount">Learnable values in the model.</param>
/// <param name="IterationLosses">The training loss of every mini-batch, in order (the paper's Figure 1, unsmoothed).</param>
/// <param name="EpochLosses">Per epoch, the mean of its mini-batch training losses.</param>
/// <param name="EpochTestAccuracies">Per epoch, the accuracy on the test set after it (0–1, evaluation mode).</param>
/// <param name="TestLoss">The test set's mean cross-entropy after the last epoch.</param>
/// <param name="EpochSeconds">Per epoch, the wall-clock seconds of training (forward, backward, update; evaluation not included).</param>
/// <param name="IterationsPerEpoch">Mini-batches per epoch.</param>
public sealed record VariantResult(
    Variant Variant,
    long ParameterCount,
    IReadOnlyList<double> IterationLosses,
    IReadOnlyList<double> EpochLosses,
    IReadOnlyList<double> EpochTestAccuracies,
    double TestLoss,
    IReadOnlyList<double> EpochSeconds,
    int IterationsPerEpoch)
{
    /// <summary>The mean training loss over the first epoch.</summary>
    public double TrainLossEpoch1 => EpochLosses[0];

    /// <summary>The mean training loss over the last epoch.</summary>
    public double TrainLossFinal => EpochLosses[^1];

    /// <summary>The test accuracy after the last epoch (0–1).</summary>
    public double TestAccuracy => EpochTestAccuracies[^1];

    /// <summary>
    /// The median training seconds per epoch: robust to the first epoch of the first variant, which also pays for
    /// compiling the code (the JIT), and to a spike from another process on a shared machine.
    /// </summary>
    public double SecondsPerEpoch
    {
        get
        {
            double[] sorted = [.. EpochSeconds];
            Array.Sort(sorted);
            int middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }
}
