namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// Checks analytic gradients against central finite differences, the way every differentiable op in
/// NeuralCore is tested (minitorch ships its checker in the library too; so do we, for users' own ops).
/// </summary>
/// <remarks>
/// <para>
/// The function's output <c>y</c> is reduced to a scalar <c>L = Σ r ⊙ y</c> with a fixed random <c>r</c>, so
/// every output element contributes and errors cannot cancel by symmetry. The analytic gradient comes from
/// <c>y.Backward(r)</c>; the numeric one perturbs each input element by ±h and evaluates <c>L</c> in double.
/// </para>
/// <para>
/// Tolerance for float32: the function itself rounds at relative ~6e-8 per element, so the difference quotient
/// carries noise of about 6e-8·|L|/h; with h = 1e-2 that is ~1e-5 relative, and the O(h²) truncation error of
/// the central difference is ~1e-4 times the third derivative. The default tolerance, 2e-3 relative to the
/// largest gradient entry, sits above both, and far below what a wrong rule gives (a missed factor, a
/// wrong sign, a wrong broadcast all produce errors of order 1). Keep inputs away from kinks (|x| = 0 for
/// relu/abs, ties for max), where a finite difference straddles two slopes.
/// </para>
/// </remarks>
public static class GradCheck
{
    /// <summary>The default finite-difference step.</summary>
    public const float DefaultStep = 1e-2f;

    /// <summary>The default tolerance, relative to the largest gradient entry.</summary>
    public const double DefaultTolerance = 2e-3;

    /// <summary>
    /// Compares analytic and numeric gradients of <paramref name="function"/> with respect to each input.
    /// Inputs must be leaves; they are set to require grad, and their <see cref="Tensor.Grad"/> is overwritten.
    /// </summary>
    /// <param name="function">The computation; must be deterministic and use only the given inputs' values.</param>
    /// <param name="inputs">The points at which to check.</param>
    /// <param name="seed">Seeds the projection <c>r</c>.</param>
    /// <param name="step">The finite-difference step h.</param>
    /// <param name="tolerance">Allowed |analytic − numeric|, relative to max(1e-3, the largest |numeric| of that input).</param>
    /// <returns>The per-input results; <see cref="GradCheckResult.Passed"/> tells whether all agree.</returns>
    /// <exception cref="ArgumentException">An input is not a leaf, or there are no inputs.</exception>
    public static GradCheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs, ulong seed = 1,
        float step = DefaultStep, double tolerance = DefaultTolerance)
    {
        if (inputs.Length == 0)
        {
            throw new ArgumentException("GradCheck: no inputs given; expected at least one tensor to differentiate with respect to.");
        }
        foreach (Tensor input in inputs)
        {
            if (!input.IsLeaf || !input.IsContiguous)
            {
                throw new ArgumentException($"GradCheck: input {input.ShapeText} must be a contiguous leaf tensor.");
            }
            input.RequiresGrad = true;
            input.ZeroGrad();
        }

        // Analytic: one backward with the projection as the seed gradient.
        Tensor output = function(inputs);
        float[] projection = new float[output.Count];
        new RandomGenerator(seed).FillUniform(projection, -1f, 1f);
        output.Backward(Tensor.FromArray(projection, output.ShapeArray));
        List<string> ops = [.. output.RecordingTape?.OpNames() ?? []];

        var results = new List<InputGradCheck>();
        for (int i = 0; i < inputs.Length; i++)
        {
            float[] analytic = inputs[i].Grad?.ToArray() ?? new float[inputs[i].Count];
            double[] numeric = NumericGradient(function, inputs, i, projection, step);
            results.Add(Compare(i, analytic, numeric, tolerance));
        }
        return new GradCheckResult(results, ops);
    }

    private static double[] NumericGradient(Func<Tensor[], Tensor> function, Tensor[] inputs, int which, float[] projection, float step)
    {
        Span<float> values = inputs[which].AsSpan();
        var numeric = new double[values.Length];
        using (Tape.NoGrad())
        {
            for (int j = 0; j < values.Length; j++)
            {
                float original = values[j];
                values[j] = original + step;
                double plus = Project(function(inputs), projection);
                values[j] = original - step;
                double minus = Project(function(inputs), projection);
                values[j] = original;
                // Divide by the step actually taken: x ± h is rounded to float.
                numeric[j] = (plus - minus) / ((double)(original + step) - (original - step));
            }
        }
        return numeric;
    }

    private static double Project(Tensor output, float[] projection)
    {
        float[] values = output.ToArray();
        double sum = 0;
        for (int k = 0; k < values.Length; k++)
        {
            sum += (double)values[k] * projection[k];
        }
        return sum;
    }

    private static InputGradCheck Compare(int index, float[] analytic, double[] numeric, double tolerance)
    {
        double scale = 1e-3;
        foreach (double n in numeric)
        {
            scale = Math.Max(scale, Math.Abs(n));
        }
        double worst = 0;
        int worstAt = -1;
        for (int j = 0; j < numeric.Length; j++)
        {
            double error = Math.Abs(analytic[j] - numeric[j]) / scale;
            if (error > worst || double.IsNaN(error))
            {
                worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                worstAt = j;
            }
        }
        return new InputGradCheck(index, worst, worstAt, worstAt >= 0 ? analytic[worstAt] : 0, worstAt >= 0 ? numeric[worstAt] : 0, worst <= tolerance);
    }
}
