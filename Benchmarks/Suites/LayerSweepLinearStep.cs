namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Linear sweep, forward + backward (∂x and every parameter gradient). Backward alone is this minus
/// <see cref="LayerSweepLinearForward"/> at the same size. Run alone with <c>-- bench --filter '*LayerSweepLinearStep*'</c>.
/// </summary>
public class LayerSweepLinearStep : LayerSweepLinear
{
    /// <inheritdoc/>
    protected override bool IncludesBackward => true;
}
