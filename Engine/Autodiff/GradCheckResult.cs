using System.Text;

namespace NeuralCore.Engine.Autodiff;

/// <summary>What <see cref="GradCheck.Check"/> found, per input.</summary>
/// <param name="Inputs">One result per input, in order.</param>
/// <param name="Ops">The labels of the ops the function recorded, in order (to see what was exercised).</param>
public sealed record GradCheckResult(IReadOnlyList<InputGradCheck> Inputs, IReadOnlyList<string> Ops)
{
    /// <summary>True when every input's gradient agrees within the tolerance.</summary>
    public bool Passed
    {
        get
        {
            foreach (InputGradCheck input in Inputs)
            {
                if (!input.Passed)
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>One line per input: the worst relative error, where, and both values.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append("ops: ").AppendJoin(", ", Ops).AppendLine();
        foreach (InputGradCheck input in Inputs)
        {
            builder.AppendLine(input.ToString());
        }
        return builder.ToString();
    }
}
