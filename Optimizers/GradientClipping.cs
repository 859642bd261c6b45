using NeuralCore.Engine;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NeuralCore.Optimizers;

/// <summary>
/// Gradient clipping between <c>Backward()</c> and <c>Step()</c>: by the global L2 norm of all gradients
/// (PyTorch's <c>clip_grad_norm_</c>) or elementwise by value (<c>clip_grad_value_</c>). Both return the global
/// norm before clipping, the number to log when watching for exploding gradients.
/// </summary>
/// <remarks>
/// Parameters without a gradient are skipped. The overloads taking a list or an optimizer allocate nothing.
/// </remarks>
/// <example><code>
/// loss.Backward();
/// float norm = GradientClipping.ClipByGlobalNorm(optimizer, maxNorm: 1.0);
/// optimizer.Step();
/// </code></example>
public static class GradientClipping
{
    /// <summary>
    /// The L2 norm of all gradients taken as one vector, <c>√Σ‖g‖²</c> (each tensor's norm in float by
    /// <see cref="TensorPrimitives.Norm"/>, the sum of their squares in double).
    /// </summary>
    public static float GlobalNorm(IReadOnlyList<Tensor> parameters) => (float)Math.Sqrt(SumOfSquares(parameters));

    /// <summary>The global gradient norm of all of <paramref name="optimizer"/>'s parameters.</summary>
    public static float GlobalNorm(Optimizer optimizer)
    {
        double sumOfSquares = 0;
        for (int k = 0; k < optimizer.Groups.Count; k++)
        {
            sumOfSquares += SumOfSquares(optimizer.Groups[k].ParameterArray);
        }
        return (float)Math.Sqrt(sumOfSquares);
    }

    /// <summary>
    /// Scales all gradients by <c>maxNorm / (norm + 1e-6)</c> when that is below 1, so that their global norm is at
    /// most <paramref name="maxNorm"/> (PyTorch's rule and ε); the direction of the update is unchanged.
    /// </summary>
    /// <returns>The global norm before clipping.</returns>
    /// <exception cref="ArgumentException"><paramref name="maxNorm"/> is negative or not finite.</exception>
    public static float ClipByGlobalNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        Check.NonNegative(nameof(ClipByGlobalNorm), "maxNorm", maxNorm);
        float norm = GlobalNorm(parameters);
        float scale = (float)(maxNorm / (norm + 1e-6));
        if (scale < 1)
        {
            Scale(parameters, scale);
        }
        return norm;
    }

    /// <summary>Clips the gradients of all of <paramref name="optimizer"/>'s parameters by their global norm.</summary>
    /// <inheritdoc cref="ClipByGlobalNorm(IReadOnlyList{Tensor}, double)"/>
    public static float ClipByGlobalNorm(Optimizer optimizer, double maxNorm)
    {
        Check.NonNegative(nameof(ClipByGlobalNorm), "maxNorm", maxNorm);
        float norm = GlobalNorm(optimizer);
        float scale = (float)(maxNorm / (norm + 1e-6));
        if (scale < 1)
        {
            for (int k = 0; k < optimizer.Groups.Count; k++)
            {
                Scale(optimizer.Groups[k].ParameterArray, scale);
            }
        }
        return norm;
    }

    /// <summary>Clamps every gradient element into [−<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    /// <returns>The global norm before clipping.</returns>
    /// <exception cref="ArgumentException"><paramref name="clipValue"/> is negative or not finite.</exception>
    public static float ClipByValue(IReadOnlyList<Tensor> parameters, double clipValue)
    {
        Check.NonNegative(nameof(ClipByValue), "clipValue", clipValue);
        float norm = GlobalNorm(parameters);
        Clamp(parameters, (float)clipValue);
        return norm;
    }

    /// <summary>Clamps the gradients of all of <paramref name="optimizer"/>'s parameters.</summary>
    /// <inheritdoc cref="ClipByValue(IReadOnlyList{Tensor}, double)"/>
    public static float ClipByValue(Optimizer optimizer, double clipValue)
    {
        Check.NonNegative(nameof(ClipByValue), "clipValue", clipValue);
        float norm = GlobalNorm(optimizer);
        for (int k = 0; k < optimizer.Groups.Count; k++)
        {
            Clamp(optimizer.Groups[k].ParameterArray, (float)clipValue);
        }
        return norm;
    }

    // Index loops over the lists (not foreach), so no enumerator is allocated per step.
    private static double SumOfSquares(IReadOnlyList<Tensor> parameters)
    {
        double sumOfSquares = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Grad is Tensor gradient)
            {
                double norm = TensorPrimitives.Norm<float>(gradient.AsSpan());
                sumOfSquares += norm * norm;
            }
        }
        return sumOfSquares;
    }

    private static void Scale(IReadOnlyList<Tensor> parameters, float scale)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Grad is Tensor gradient)
            {
                TensorPrimitives.Multiply(gradient.AsSpan(), scale, gradient.AsSpan());
            }
        }
    }

    private static void Clamp(IReadOnlyList<Tensor> parameters, float limit)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Grad is Tensor gradient)
            {
                Span<float> values = gradient.AsSpan();
                TensorPrimitives.Min(values, limit, values);
                TensorPrimitives.Max(values, -limit, values);
            }
        }
    }
}
