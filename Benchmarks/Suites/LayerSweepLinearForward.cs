namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Linear sweep, forward only (recorded on the tape, as in training; the tape is then reset). Run alone with
/// <c>-- bench --filter '*LayerSweepLinearForward*'</c>.
/// </summary>
public class LayerSweepLinearForward : LayerSweepLinear
{
    /// <inheritdoc/>
    protected override bool IncludesBackward => false;
}
