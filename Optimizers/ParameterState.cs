using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>
/// What an optimizer remembers about one parameter: how many updates it has had and its moment buffers
/// (e.g. Adam's <c>exp_avg</c> and <c>exp_avg_sq</c>), each the parameter's shape, created at its first update.
/// </summary>
internal sealed class ParameterState
{
    public ParameterState(int bufferCount) => Buffers = new Tensor?[bufferCount];

    /// <summary>The number of updates this parameter has received (PyTorch's per-parameter <c>state['step']</c>).</summary>
    public long Step { get; set; }

    /// <summary>One slot per name in the optimizer's buffer list; null until first needed.</summary>
    public Tensor?[] Buffers { get; }

    /// <summary>Buffer <paramref name="slot"/>, created as zeros of <paramref name="parameter"/>'s shape the first time.</summary>
    public Span<float> Buffer(int slot, Tensor parameter) => (Buffers[slot] ??= parameter.ZerosLike()).AsSpan();

    /// <summary>True when buffer <paramref name="slot"/> exists (SGD's momentum buffer starts as a copy of the gradient).</summary>
    public bool HasBuffer(int slot) => Buffers[slot] is not null;
}
