using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>
/// A snapshot of an optimizer's, a scheduler's or an averager's state, as PyTorch's <c>state_dict()</c>: named
/// tensors (moments, averages) and named scalars (step counts, hyperparameters), so that training resumes bit for
/// bit after <c>LoadStateDict</c>.
/// </summary>
/// <remarks>
/// Keys follow PyTorch's layout flattened to strings: <c>state.3.exp_avg</c> is the first moment of the fourth
/// parameter (numbered across groups in order), <c>state.3.step</c> its step count, <c>group.0.lr</c> the first
/// group's learning rate. Tensors map to a safetensors file and scalars to its metadata (saving to disk is the
/// serialization layer's job). The snapshot owns copies: continuing to train does not change a saved state.
/// </remarks>
public sealed class TrainingState
{
    /// <summary>An empty state of the given kind.</summary>
    /// <param name="kind">What wrote it, e.g. <c>"Adam"</c>; <c>LoadStateDict</c> refuses a state of another kind.</param>
    public TrainingState(string kind) => Kind = kind;

    /// <summary>The type that wrote the state, e.g. <c>"Adam"</c>, <c>"Scheduler"</c>.</summary>
    public string Kind { get; }

    /// <summary>Named tensors, e.g. <c>state.0.exp_avg</c>.</summary>
    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Named scalars, e.g. <c>state.0.step</c>, <c>group.0.lr</c>; flags are stored as 0 or 1.</summary>
    public Dictionary<string, double> Scalars { get; } = new(StringComparer.Ordinal);

    /// <summary>The scalar under <paramref name="key"/>, or an exception naming <paramref name="reader"/>.</summary>
    internal double Scalar(string key, string reader) =>
        Scalars.TryGetValue(key, out double value)
            ? value
            : throw new ArgumentException($"{reader}.LoadStateDict: the state has no '{key}' entry (kind {Kind}).");
}
