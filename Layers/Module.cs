using System.Linq;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// The base of every layer and model: explicitly registered parameters, buffers and child modules with
/// dotted names (<c>features.0.weight_v</c>), train/eval mode, and the state dictionary (PyTorch's
/// <c>nn.Module</c>, without the attribute magic: a layer says what it owns by registering it).
/// </summary>
public abstract class Module
{
    private readonly List<KeyValuePair<string, Tensor>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];

    /// <summary>True in training mode (the default); dropout, noise and batch statistics depend on it.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Computes the module's output. Differentiable with respect to the input and the parameters.</summary>
    /// <param name="input">The input batch; each layer documents the shape it expects.</param>
    /// <exception cref="ArgumentException">The input's shape does not fit the layer; the message names both.</exception>
    public abstract Tensor Forward(Tensor input);

    /// <summary>A short description used in error messages and printing, e.g. <c>Linear(784→1000)</c>.</summary>
    public override string ToString() => GetType().Name;

    // ---------------------------------------------------------------- registration

    /// <summary>Registers a learnable tensor under <paramref name="name"/> and marks it as requiring grad.</summary>
    /// <returns>The same tensor, so a field can be initialized in one line.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains a dot, or is already taken.</exception>
    protected Tensor RegisterParameter(string name, Tensor parameter)
    {
        CheckNewName(name);
        parameter.RequiresGrad = true;
        _parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>Registers non-learnable state saved with the model (e.g. BatchNorm's running mean).</summary>
    /// <returns>The same tensor.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains a dot, or is already taken.</exception>
    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        CheckNewName(name);
        _buffers.Add(new(name, buffer));
        return buffer;
    }

    /// <summary>Registers a child module; its parameters appear as <c>name.childParameter</c>.</summary>
    /// <returns>The same module.</returns>
    /// <exception cref="ArgumentException">The name is empty, contains a dot, or is already taken.</exception>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        CheckNewName(name);
        _children.Add(new(name, module));
        return module;
    }

    /// <summary>Removes a registered parameter (e.g. when a parameterization replaces <c>weight</c> by <c>weight_g</c>, <c>weight_v</c>).</summary>
    /// <returns>The removed tensor.</returns>
    /// <exception cref="ArgumentException">No parameter has that name.</exception>
    protected Tensor UnregisterParameter(string name)
    {
        int index = _parameters.FindIndex(p => p.Key == name);
        if (index < 0)
        {
            throw new ArgumentException($"{this}: no parameter named '{name}' to remove; it has {string.Join(", ", _parameters.Select(p => p.Key))}.");
        }
        Tensor removed = _parameters[index].Value;
        _parameters.RemoveAt(index);
        return removed;
    }

    /// <summary>True when this module itself (not a child) has a parameter called <paramref name="name"/>.</summary>
    protected bool HasParameter(string name) => _parameters.Exists(p => p.Key == name);

    private void CheckNewName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{this}: '{name}' is not a valid name; expected a non-empty name without dots.");
        }
        if (_parameters.Exists(p => p.Key == name) || _buffers.Exists(b => b.Key == name) || _children.Exists(c => c.Key == name))
        {
            throw new ArgumentException($"{this}: the name '{name}' is already registered.");
        }
    }

    // ---------------------------------------------------------------- enumeration

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> Children() => _children;

    /// <summary>This module and every descendant, with dotted names ("" for this one), depth first.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules(string prefix = "")
    {
        yield return new(prefix, this);
        foreach (KeyValuePair<string, Module> child in _children)
        {
            foreach (KeyValuePair<string, Module> named in child.Value.NamedModules(Join(prefix, child.Key)))
            {
                yield return named;
            }
        }
    }

    /// <summary>Every learnable tensor, with dotted names, in registration order (what an optimizer takes).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(string prefix = "")
    {
        foreach (KeyValuePair<string, Tensor> parameter in _parameters)
        {
            yield return new(Join(prefix, parameter.Key), parameter.Value);
        }
        foreach (KeyValuePair<string, Module> child in _children)
        {
            foreach (KeyValuePair<string, Tensor> named in child.Value.NamedParameters(Join(prefix, child.Key)))
            {
                yield return named;
            }
        }
    }

    /// <summary>Every learnable tensor, in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>Every buffer, with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers(string prefix = "")
    {
        foreach (KeyValuePair<string, Tensor> buffer in _buffers)
        {
            yield return new(Join(prefix, buffer.Key), buffer.Value);
        }
        foreach (KeyValuePair<string, Module> child in _children)
        {
            foreach (KeyValuePair<string, Tensor> named in child.Value.NamedBuffers(Join(prefix, child.Key)))
            {
                yield return named;
            }
        }
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ---------------------------------------------------------------- modes and gradients

    /// <summary>Sets training mode on this module and every descendant.</summary>
    /// <returns>This module.</returns>
    public Module Train(bool training = true)
    {
        foreach (KeyValuePair<string, Module> module in NamedModules())
        {
            module.Value.IsTraining = training;
        }
        return this;
    }

    /// <summary>Sets evaluation mode on this module and every descendant (<c>Train(false)</c>).</summary>
    /// <returns>This module.</returns>
    public Module Eval() => Train(false);

    /// <summary>Zeroes the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (Tensor parameter in Parameters())
        {
            parameter.ZeroGrad();
        }
    }

    // ---------------------------------------------------------------- state

    /// <summary>
    /// Parameters and buffers by dotted name. The tensors share memory with the module (detached views), as in
    /// PyTorch: copy them (<see cref="Tensor.Copy"/>) to keep a snapshot.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (KeyValuePair<string, Tensor> parameter in NamedParameters())
        {
            state.Add(parameter.Key, parameter.Value.Detach());
        }
        foreach (KeyValuePair<string, Tensor> buffer in NamedBuffers())
        {
            state.Add(buffer.Key, buffer.Value.Detach());
        }
        return state;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and buffers (in place, so
    /// references held by optimizers stay valid).
    /// </summary>
    /// <param name="state">Name → tensor, as <see cref="StateDict"/> produces.</param>
    /// <param name="strict">When true (the default), missing and unexpected names are errors.</param>
    /// <exception cref="ArgumentException">
    /// A shape differs, or (strict) names are missing or unexpected; the message lists them, and nothing is changed.
    /// </exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var targets = new Dictionary<string, Tensor>();
        foreach (KeyValuePair<string, Tensor> entry in NamedParameters().Concat(NamedBuffers()))
        {
            targets.Add(entry.Key, entry.Value);
        }

        var problems = new List<string>();
        if (strict)
        {
            string[] missing = targets.Keys.Where(name => !state.ContainsKey(name)).ToArray();
            string[] unexpected = state.Keys.Where(name => !targets.ContainsKey(name)).ToArray();
            if (missing.Length > 0)
            {
                problems.Add($"missing: {string.Join(", ", missing)}");
            }
            if (unexpected.Length > 0)
            {
                problems.Add($"unexpected: {string.Join(", ", unexpected)}");
            }
        }
        foreach (KeyValuePair<string, Tensor> entry in state)
        {
            if (targets.TryGetValue(entry.Key, out Tensor? target) && !target.Shape.SequenceEqual(entry.Value.Shape))
            {
                problems.Add($"'{entry.Key}' has shape {entry.Value.ShapeText} in the state dict, {target.ShapeText} in the model");
            }
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException($"LoadStateDict into {this}: {string.Join("; ", problems)}.");
        }

        using (Tape.NoGrad())
        {
            foreach (KeyValuePair<string, Tensor> entry in state)
            {
                if (targets.TryGetValue(entry.Key, out Tensor? target))
                {
                    entry.Value.CopyTo(target.AsSpan());
                }
            }
        }
    }
}
