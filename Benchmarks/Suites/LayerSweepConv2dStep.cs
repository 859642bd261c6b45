namespace NeuralCore.Benchmarks.Suites;

/// <summary>
/// The Conv2d sweep, forward + backward (∂x and every parameter gradient). Backward alone is this minus
/// <see cref="LayerSweepConv2dForward"/> at the same size. Run alone with <c>-- bench --filter '*LayerSweepConv2dStep*'</c>.
/// </summary>
public class LayerSweepConv2dStep : LayerSweepConv2d
{
    /// <inheritdoc/>
    protected override bool IncludesBackward => true;
}
