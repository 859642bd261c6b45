namespace NeuralCore.Tests.Optimizers;

/// <summary>
/// One torch.optim run from Tests/Fixtures/optimizer_reference.py: the optimizer, its settings
/// (<c>key=value;…</c>, PyTorch's names), the problem, the gradients PyTorch computed at each step (network only;
/// the quadratic's are recomputed) and all parameters, concatenated, after each step.
/// </summary>
internal sealed record OptimizerReferenceCase(string Optimizer, string Settings, string Problem, float[][] Gradients, float[][] Parameters)
{
    public override string ToString() => $"{Optimizer}({Settings}) on {Problem}";
}
