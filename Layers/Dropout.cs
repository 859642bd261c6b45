using System.Globalization;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Layers;

/// <summary>
/// Inverted dropout (<c>torch.nn.Dropout</c>): in training each element is zeroed with probability p and the
/// survivors are scaled by 1/(1 − p), so the expected output equals the input; in evaluation it is the identity.
/// </summary>
/// <remarks>
/// The mask is drawn from a <see cref="RandomGenerator"/>: the one given to the constructor, or else
/// <see cref="Init.DefaultGenerator"/> at the time of each call, so <see cref="Init.ManualSeed"/> makes a run
/// repeatable. The output is <c>x ⊙ mask</c>, the engine's <c>mul</c> op, so ∂x = ∂y ⊙ mask; the mask lives in a
/// tape-owned buffer, so a training step allocates no mask array.
/// </remarks>
public sealed class Dropout : Module
{
    private readonly RandomGenerator? _random;

    /// <summary>A dropout layer zeroing with probability <paramref name="p"/> (PyTorch: 0.5).</summary>
    /// <param name="p">The drop probability, in [0, 1]; 1 zeroes everything.</param>
    /// <param name="random">The generator for the masks; null for <see cref="Init.DefaultGenerator"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="p"/> is outside [0, 1].</exception>
    public Dropout(float p = 0.5f, RandomGenerator? random = null)
    {
        if (!(p is >= 0f and <= 1f))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Dropout(p={p}): expected a probability in [0, 1]."));
        }
        P = p;
        _random = random;
    }

    /// <summary>The drop probability.</summary>
    public float P { get; }

    /// <summary>
    /// Training: <c>x ⊙ mask</c> with a fresh mask (entries 1/(1 − p) with probability 1 − p, else 0). Evaluation, or
    /// p = 0: the input itself. Any shape; differentiable.
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        if (!IsTraining || P == 0f)
        {
            return input;
        }
        Tape? tape = Tape.ForInputs(input);
        Tensor mask = Tensor.NewResult(tape, input.ShapeArray);     // the input's shape; tape-owned when recording
        Span<float> m = mask.AsSpan();
        (_random ?? Init.DefaultGenerator).FillUniform(m);        // u ~ U[0, 1)
        Elementwise.Map(m, m, new DropoutMaskOperator(P, P < 1f ? 1f / (1f - P) : 0f));
        return input * mask;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Dropout(p={P})");
}
