namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// What a tensor knows about its gradient, behind one reference. A leaf (a parameter, an input) gets one the first
/// time it requires grad and keeps it: the flag and the gradient accumulated into it. An op result points at the
/// <see cref="TapeEntry"/> that made it, which is a holder too: the entry holds its output's gradient while backward
/// runs. A tensor that never required grad has none.
/// </summary>
/// <remarks>
/// Keeping the gradient, the flag and the link to the tape out of the tensor itself is what makes an op result a single
/// 48-byte object (docs/autodiff.md, "Memory of a step"): results are the only objects a training step allocates.
/// </remarks>
internal class GradientHolder
{
    /// <summary>Whether gradients flow to the tensor; always true for an op result.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The gradient accumulated so far (contiguous, the tensor's shape), or null before any arrived.</summary>
    public Tensor? Gradient { get; set; }
}
