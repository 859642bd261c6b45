using System.IO;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;

namespace NeuralCore.Layers;

/// <summary>
/// Exchanges weights with PyTorch. A model built the same way in both (the same layers in the same order, so the same
/// dotted names: <c>0.weight</c>, <c>features.3.bias</c>) has the same names, shapes and memory layouts everywhere but
/// in its weight-normalized layers, whose <c>g</c> and <c>v</c> PyTorch names in two ways
/// (<see cref="PyTorchWeightNormNaming"/>); this class translates those names in both directions.
/// </summary>
/// <remarks>
/// <para>
/// The rule: <c>P.parametrizations.N.original0</c> is <c>P.N_g</c> and <c>P.parametrizations.N.original1</c> is
/// <c>P.N_v</c> (for a weight, <c>N</c> = <c>weight</c>). Every other name is kept.
/// </para>
/// <para>
/// Shapes need no conversion: <c>g</c> is (out, 1) for a Linear, (out, 1, 1, 1) for a Conv2d and a scalar for
/// dim = null, in PyTorch as here. A <c>g</c> whose shape does not fit its <c>v</c> (a scalar, or <c>v</c>'s rank with size 1 on every
/// axis but one, where it matches <c>v</c>) is rejected with both shapes in the message.
/// </para>
/// <para>
/// BatchNorm's <c>num_batches_tracked</c> is int64 in PyTorch: <see cref="SafeTensors"/> reads I64 into float32
/// exactly (up to 2²⁴) and the name is kept. Written back it is F32, which PyTorch's <c>load_state_dict</c> copies into
/// its int64 buffer.
/// </para>
/// </remarks>
/// <example><code>
/// var model = new Sequential(new Linear(12, 16).WithWeightNorm(), new ReLU(), new Linear(16, 3).WithWeightNorm());
/// PyTorchStateDict.Load(model, "from_pytorch.safetensors");   // weight_g/weight_v or parametrizations.weight.original0/1
/// PyTorchStateDict.Save(model, "to_pytorch.safetensors", PyTorchWeightNormNaming.Parametrizations);
/// </code></example>
public static class PyTorchStateDict
{
    private const string ParametrizationsSegment = "parametrizations";
    private const string MagnitudeName = "original0";
    private const string DirectionName = "original1";

    /// <summary>
    /// The state dict with PyTorch's parametrization names rewritten to NeuralCore's (<c>P.parametrizations.N.original0</c>
    /// → <c>P.N_g</c>, <c>original1</c> → <c>P.N_v</c>); other names, and every tensor, are kept (not copied).
    /// </summary>
    /// <param name="state">A PyTorch state dict under either naming, e.g. from <see cref="SafeTensors.Load(string)"/>.</param>
    /// <returns>A new dictionary for <see cref="Module.LoadStateDict"/>.</returns>
    /// <exception cref="ArgumentException">
    /// A parametrization that is not weight norm (one <c>original</c> tensor, as spectral_norm and orthogonal write, or
    /// a third one); an <c>original0</c> without its <c>original1</c> or the reverse; one layer under both namings;
    /// or a <c>g</c> whose shape does not fit its <c>v</c>.
    /// </exception>
    public static Dictionary<string, Tensor> FromPyTorch(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        const string Operation = "PyTorchStateDict.FromPyTorch";
        var result = new Dictionary<string, Tensor>(state.Count, StringComparer.Ordinal);
        var renamed = new List<string>();
        foreach (KeyValuePair<string, Tensor> entry in state)
        {
            string name = FromPyTorchName(entry.Key);
            if (!result.TryAdd(name, entry.Value))
            {
                throw new ArgumentException(
                    $"{Operation}: '{entry.Key}' and another key both mean '{name}'; a layer's g and v must use one naming, not both.", nameof(state));
            }
            if (name != entry.Key)
            {
                renamed.Add(name);
            }
        }
        foreach (string name in renamed)
        {
            // A rewritten g needs its v and the reverse: half a parametrization cannot be loaded.
            string partner = name[..^1] + (name[^1] == 'g' ? 'v' : 'g');
            if (!result.ContainsKey(partner))
            {
                throw new ArgumentException(
                    $"{Operation}: '{ToParametrizationName(name)}' has no '{ToParametrizationName(partner)}'; weight norm needs both g (original0) and v (original1).", nameof(state));
            }
        }
        CheckPairShapes(result, Operation);
        return result;
    }

    /// <summary>
    /// The state dict under PyTorch's names for <paramref name="naming"/>: with <see cref="PyTorchWeightNormNaming.WeightGV"/>
    /// the names are NeuralCore's own; with <see cref="PyTorchWeightNormNaming.Parametrizations"/> each pair
    /// <c>P.N_g</c>, <c>P.N_v</c> becomes <c>P.parametrizations.N.original0</c>, <c>original1</c>. Tensors are kept (not copied).
    /// </summary>
    /// <param name="state">A NeuralCore state dict (<see cref="Module.StateDict"/>).</param>
    /// <param name="naming">Which of PyTorch's weight-norm namings to write.</param>
    /// <returns>A new dictionary, e.g. for <see cref="SafeTensors.Save"/>.</returns>
    /// <exception cref="ArgumentException">A <c>g</c> whose shape does not fit its <c>v</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="naming"/> is not a defined value.</exception>
    public static Dictionary<string, Tensor> ToPyTorch(
        IReadOnlyDictionary<string, Tensor> state, PyTorchWeightNormNaming naming = PyTorchWeightNormNaming.WeightGV)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!Enum.IsDefined(naming))
        {
            throw new ArgumentOutOfRangeException(nameof(naming), naming, "PyTorchStateDict.ToPyTorch: expected WeightGV or Parametrizations.");
        }
        CheckPairShapes(state, "PyTorchStateDict.ToPyTorch");
        var result = new Dictionary<string, Tensor>(state.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, Tensor> entry in state)
        {
            bool rename = naming == PyTorchWeightNormNaming.Parametrizations && Partner(entry.Key) is string partner && state.ContainsKey(partner);
            result.Add(rename ? ToParametrizationName(entry.Key) : entry.Key, entry.Value);
        }
        return result;
    }

    /// <summary>
    /// Loads a safetensors file PyTorch wrote (a <c>state_dict()</c> under either weight-norm naming) into
    /// <paramref name="model"/>: <see cref="SafeTensors.Load(string)"/>, <see cref="FromPyTorch"/>, then
    /// <see cref="Module.LoadStateDict"/>.
    /// </summary>
    /// <param name="model">A model built like the PyTorch one (and weight-normalized where it was).</param>
    /// <param name="path">The .safetensors file.</param>
    /// <param name="strict">When true (the default), missing and unexpected names are errors.</param>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="ArgumentException">The names or shapes do not fit the model (see <see cref="FromPyTorch"/> and <see cref="Module.LoadStateDict"/>).</exception>
    public static void Load(Module model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.LoadStateDict(FromPyTorch(SafeTensors.Load(path)), strict);
    }

    /// <summary>
    /// Saves <paramref name="model"/>'s state dict under PyTorch's names (<see cref="ToPyTorch"/>) as a safetensors file
    /// (F32, metadata <c>format = pt</c>), atomically (<see cref="SafeTensors.Save"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="naming"/> is not a defined value.</exception>
    public static void Save(Module model, string path, PyTorchWeightNormNaming naming = PyTorchWeightNormNaming.WeightGV)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Save(path, ToPyTorch(model.StateDict(), naming), new Dictionary<string, string> { ["format"] = "pt" });
    }

    // "P.parametrizations.N.original0" → "P.N_g" (original1 → "P.N_v"); any name without a parametrizations segment is kept.
    private static string FromPyTorchName(string name)
    {
        string[] parts = name.Split('.');
        int at = Array.IndexOf(parts, ParametrizationsSegment);
        if (at < 0)
        {
            return name;
        }
        string last = parts[^1];
        if (at != parts.Length - 3 || last is not (MagnitudeName or DirectionName))
        {
            throw new ArgumentException(
                $"PyTorchStateDict.FromPyTorch: '{name}' is not a weight-norm parametrization (expected P.parametrizations.N.original0 or " +
                ".original1; a single 'original' comes from e.g. spectral_norm or orthogonal): remove it in PyTorch with " +
                "torch.nn.utils.parametrize.remove_parametrizations before saving.");
        }
        string prefix = string.Join('.', parts, 0, at);
        string tensor = parts[at + 1] + (last == MagnitudeName ? "_g" : "_v");
        return prefix.Length == 0 ? tensor : prefix + "." + tensor;
    }

    // "P.N_g" → "P.parametrizations.N.original0" ("_v" → "original1").
    private static string ToParametrizationName(string name)
    {
        int dot = name.LastIndexOf('.');
        string prefix = dot < 0 ? "" : name[..(dot + 1)];
        string last = name[(dot + 1)..];
        return prefix + ParametrizationsSegment + "." + last[..^2] + "." + (last.EndsWith("_g", StringComparison.Ordinal) ? MagnitudeName : DirectionName);
    }

    // The name of the other half of a g/v pair, or null when the last segment ends in neither.
    private static string? Partner(string name)
    {
        int dot = name.LastIndexOf('.');
        if (name.Length - dot - 1 <= 2)
        {
            return null; // "_g" alone names nothing
        }
        return name.EndsWith("_g", StringComparison.Ordinal) ? name[..^1] + "v"
            : name.EndsWith("_v", StringComparison.Ordinal) ? name[..^1] + "g"
            : null;
    }

    // Every g with a v beside it must be a scalar (dim = null) or have v's rank with size 1 on every axis but one,
    // where it matches v (dim = that axis): the shapes torch.nn.utils.weight_norm and our layers both use.
    private static void CheckPairShapes(IReadOnlyDictionary<string, Tensor> state, string operation)
    {
        foreach (KeyValuePair<string, Tensor> entry in state)
        {
            if (!entry.Key.EndsWith("_g", StringComparison.Ordinal) || Partner(entry.Key) is not string vName
                || !state.TryGetValue(vName, out Tensor? v))
            {
                continue;
            }
            Tensor g = entry.Value;
            if (!GFits(g.Shape, v.Shape))
            {
                throw new ArgumentException(
                    $"{operation}: '{entry.Key}' {g.ShapeText} does not fit '{vName}' {v.ShapeText}; expected a scalar or v's rank with size 1 " +
                    "on every axis but the normalized one, e.g. (out, 1) for a Linear, (out, 1, 1, 1) for a Conv2d.", nameof(state));
            }
        }
    }

    private static bool GFits(ReadOnlySpan<int> g, ReadOnlySpan<int> v)
    {
        if (g.Length == 0)
        {
            return true;
        }
        if (g.Length != v.Length)
        {
            return false;
        }
        int kept = 0;
        for (int axis = 0; axis < g.Length; axis++)
        {
            if (g[axis] != 1)
            {
                if (g[axis] != v[axis])
                {
                    return false;
                }
                kept++;
            }
        }
        return kept <= 1;
    }
}
