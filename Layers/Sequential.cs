using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// A chain of modules applied in order (<c>torch.nn.Sequential</c>). Children are registered as "0", "1", …, so a
/// parameter's name is e.g. <c>0.weight</c>, and a nested chain gives <c>features.3.weight_v</c>.
/// </summary>
public sealed class Sequential : Module
{
    // Kept beside the registration so Forward loops over an array-backed list (no enumerator allocation per step).
    private readonly List<Module> _layers = [];

    /// <summary>A chain of <paramref name="layers"/>, registered as "0", "1", … in order.</summary>
    /// <exception cref="ArgumentNullException">A layer is null.</exception>
    public Sequential(params Module[] layers)
    {
        foreach (Module layer in layers)
        {
            Add(layer);
        }
    }

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>The layer at <paramref name="index"/> (negative counts from the end, as in Python).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public Module this[int index]
    {
        get
        {
            int i = index < 0 ? index + _layers.Count : index;
            if ((uint)i >= (uint)_layers.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Sequential with {_layers.Count} layers: index {index} is out of range.");
            }
            return _layers[i];
        }
    }

    /// <summary>Appends <paramref name="layer"/>, registered under the next index.</summary>
    /// <returns>This chain, so calls can be chained.</returns>
    /// <exception cref="ArgumentNullException">The layer is null.</exception>
    public Sequential Add(Module layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        RegisterModule(_layers.Count.ToString(CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>Each layer's output is the next one's input. Differentiable as its layers are.</summary>
    /// <exception cref="ArgumentException">A layer rejects its input; the message names that layer.</exception>
    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            x = _layers[i].Forward(x);
        }
        return x;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Sequential({string.Join(", ", _layers)})";
}
