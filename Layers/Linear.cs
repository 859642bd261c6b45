using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

// STAND-IN: a minimal Linear with the public API the weight-norm work provides, so that Sequential, folding and
// their tests build in this worktree. The lead replaces this file by the real Linear.cs.

/// <summary>A fully connected layer, <c>y = x·Wᵀ + b</c> (<c>torch.nn.Linear</c>).</summary>
public sealed class Linear : Module
{
    private readonly Tensor _weight;
    private readonly Tensor? _bias;

    /// <summary>A layer with PyTorch's default init: W, b ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5).</summary>
    /// <exception cref="ArgumentException">A size is not positive.</exception>
    public Linear(int inFeatures, int outFeatures, bool bias = true, RandomGenerator? random = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new ArgumentException($"Linear({inFeatures}→{outFeatures}): sizes must be positive.");
        }
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));     // (out, in)
        Init.KaimingUniform(_weight, MathF.Sqrt(5f), random: random);
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(inFeatures);
            _bias = RegisterParameter("bias", Init.Uniform(Tensor.Zeros(outFeatures), -bound, bound, random));
        }
    }

    /// <summary>The number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight, (out, in).</summary>
    public Tensor Weight => _weight;

    /// <summary>The bias, (out), or null.</summary>
    public Tensor? Bias => _bias;

    /// <summary>A layer holding copies of <paramref name="weight"/> (out, in) and <paramref name="bias"/> (out).</summary>
    /// <exception cref="ArgumentException">The shapes do not fit.</exception>
    public static Linear FromWeights(Tensor weight, Tensor? bias)
    {
        if (weight.Rank != 2 || (bias is not null && (bias.Rank != 1 || bias.Size(0) != weight.Size(0))))
        {
            throw new ArgumentException($"Linear.FromWeights: weight {weight.ShapeText} and bias {bias?.ShapeText ?? "none"}; expected (out, in) and (out).");
        }
        var linear = new Linear(weight.Size(1), weight.Size(0), bias is not null, new RandomGenerator(0));
        using (Tape.NoGrad())
        {
            weight.CopyTo(linear._weight.AsSpan());
            bias?.CopyTo(linear._bias!.AsSpan());
        }
        return linear;
    }

    /// <summary>(*, in) → (*, out). Differentiable in the input, weight and bias.</summary>
    /// <exception cref="ArgumentException">The last axis is not <see cref="InFeatures"/>.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 0 || input.Size(-1) != InFeatures)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText}, expected (*, {InFeatures}).");
        }
        Tensor y = input.Matmul(_weight.Transpose(0, 1));
        return _bias is null ? y : y + _bias;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Linear({InFeatures}→{OutFeatures})";
}
