namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Conv2d sweep, forward only (recorded on the tape, as in training; the tape is then reset). Run alone with
/// <c>-- bench --filter '*LayerSweepConv2dForward*'</c>.
/// </summary>
public class LayerSweepConv2dForward : LayerSweepConv2d
{
    /// <inheritdoc/>
    protected override bool IncludesBackward => false;
}
