namespace NeuralCore.Engine.Autodiff;

/// <summary>One row of <see cref="Derivatives.All"/>: an op label and its gradient formula.</summary>
/// <param name="Op">The label the op records on the tape, e.g. <c>matmul</c>.</param>
/// <param name="Formula">The backward rule, in the notation of <see cref="Derivatives"/>.</param>
public sealed record Derivative(string Op, string Formula);
