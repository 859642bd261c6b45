using System.Globalization;

namespace NeuralCore.Engine.Autodiff;

/// <summary>The gradient check of one input.</summary>
/// <param name="Index">Which input.</param>
/// <param name="WorstError">The largest |analytic − numeric| relative to the gradient's scale.</param>
/// <param name="WorstAt">The flat index of that element (−1 for an empty input).</param>
/// <param name="Analytic">The analytic gradient there.</param>
/// <param name="Numeric">The numeric gradient there.</param>
/// <param name="Passed">Whether the worst error is within the tolerance.</param>
public sealed record InputGradCheck(int Index, double WorstError, int WorstAt, double Analytic, double Numeric, bool Passed)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"input {Index}: {(Passed ? "ok" : "MISMATCH")}, worst relative error {WorstError:G3} at element {WorstAt} (analytic {Analytic:G6}, numeric {Numeric:G6})");
}
