using System.Globalization;
using System.Linq;
using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>
/// The common machinery of the optimizers: parameter groups, lazily created per-parameter state, the step loop
/// and the state dict. Each optimizer adds only its update rule (a fused kernel in <c>Optimizers/Kernels</c>).
/// </summary>
/// <remarks>
/// <para>
/// A training step is <c>optimizer.ZeroGrad(); loss.Backward(); optimizer.Step();</c>. <see cref="Step"/> reads
/// each parameter's <see cref="Tensor.Grad"/> and writes the parameter in place; a parameter with no gradient yet
/// is skipped and its state untouched, as in PyTorch. After the first step has created the moment buffers, a step
/// allocates no managed memory.
/// </para>
/// <para>
/// Hyperparameters live in the <see cref="Groups"/> (per group) and in properties of the optimizer (the rest);
/// both may change between steps, and both are validated at every step, so a schedule that produces a bad value
/// fails loudly at the step that would use it.
/// </para>
/// </remarks>
public abstract class Optimizer
{
    private readonly ParameterGroup[] _groups;
    private readonly Hyperparameter[] _groupHyperparameters;
    private readonly string[] _bufferNames;
    // One entry per parameter, numbered across groups in order (the state dict's numbering); null until the
    // parameter's first update.
    private readonly ParameterState?[] _states;

    /// <summary>Adopts the groups, filling each unset hyperparameter with the optimizer's default.</summary>
    /// <param name="name">The optimizer's name for messages and the state dict's kind.</param>
    /// <param name="groups">The parameter groups; a parameter may appear only once across all of them.</param>
    /// <param name="defaults">The hyperparameters each group has, with their defaults.</param>
    /// <param name="bufferNames">PyTorch's names for the per-parameter buffers, e.g. <c>exp_avg</c>.</param>
    private protected Optimizer(
        string name, IEnumerable<ParameterGroup> groups, IReadOnlyList<(Hyperparameter Hyperparameter, double Default)> defaults, string[] bufferNames)
    {
        Name = name;
        _groups = [.. groups];
        _bufferNames = bufferNames;
        _groupHyperparameters = [.. defaults.Select(d => d.Hyperparameter)];
        if (_groups.Length == 0)
        {
            throw new ArgumentException($"{name}: no parameter groups given; an optimizer needs at least one parameter.");
        }
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        int count = 0;
        for (int k = 0; k < _groups.Length; k++)
        {
            ParameterGroup group = _groups[k];
            foreach (Tensor parameter in group.ParameterArray)
            {
                if (!seen.Add(parameter))
                {
                    throw new ArgumentException(
                        $"{name}: a parameter of shape {parameter.ShapeText} appears twice{Where(k)}; each parameter may belong to one group only, once.");
                }
                if (!parameter.IsLeaf || !parameter.IsContiguous)
                {
                    throw new ArgumentException(
                        $"{name}: parameter of shape {parameter.ShapeText}{Where(k)} is not a contiguous leaf tensor; optimizers update leaves (model parameters) in place.");
                }
                count++;
            }
            foreach (Hyperparameter hyperparameter in Enum.GetValues<Hyperparameter>())
            {
                bool used = Array.IndexOf(_groupHyperparameters, hyperparameter) >= 0;
                if (!used && group.Get(hyperparameter) is double value)
                {
                    throw new ArgumentException(
                        $"{name}: {Check.Key(hyperparameter)} = {Check.Format(value)}{Where(k)}, but {name} has no {Check.Key(hyperparameter)}.");
                }
            }
            foreach ((Hyperparameter hyperparameter, double fallback) in defaults)
            {
                group.Set(hyperparameter, group.Get(hyperparameter) ?? fallback);
            }
        }
        if (count == 0)
        {
            throw new ArgumentException($"{name}: the parameter list is empty.");
        }
        _states = new ParameterState?[count];
    }

    /// <summary>The optimizer's name, e.g. <c>Adam</c>: the prefix of its messages and the kind of its state dict.</summary>
    public string Name { get; }

    /// <summary>The parameter groups; change their hyperparameters between steps to schedule them.</summary>
    public IReadOnlyList<ParameterGroup> Groups => _groups;

    /// <summary>The hyperparameters each group carries for this optimizer (e.g. SGD: lr, momentum, weight_decay).</summary>
    public IReadOnlyList<Hyperparameter> GroupHyperparameters => _groupHyperparameters;

    /// <summary>Every parameter, group by group.</summary>
    public IEnumerable<Tensor> Parameters => _groups.SelectMany(g => g.Parameters);

    /// <summary>
    /// Updates every parameter that has a gradient from that gradient, by the optimizer's rule.
    /// Call it after <see cref="Tensor.Backward"/>; it records nothing on the tape.
    /// </summary>
    /// <exception cref="ArgumentException">A hyperparameter was set to an invalid value since the last step.</exception>
    public void Step()
    {
        Validate();
        int index = 0;
        foreach (ParameterGroup group in _groups)
        {
            foreach (Tensor parameter in group.ParameterArray)
            {
                Tensor? gradient = parameter.Grad;
                if (gradient is not null)
                {
                    ParameterState state = _states[index] ??= new ParameterState(_bufferNames.Length);
                    state.Step++;
                    Update(group, state, parameter, gradient.AsSpan());
                }
                index++;
            }
        }
    }

    /// <summary>Sets every parameter's gradient to zero (keeping its buffer; PyTorch's <c>set_to_none=False</c>).</summary>
    public void ZeroGrad()
    {
        foreach (ParameterGroup group in _groups)
        {
            foreach (Tensor parameter in group.ParameterArray)
            {
                parameter.ZeroGrad();
            }
        }
    }

    /// <summary>
    /// A copy of the optimizer's state: every group's hyperparameters, the optimizer-wide settings, and each
    /// parameter's step count and buffers. See <see cref="TrainingState"/> for the keys.
    /// </summary>
    public TrainingState StateDict()
    {
        var state = new TrainingState(Name);
        for (int k = 0; k < _groups.Length; k++)
        {
            state.Scalars[$"group.{k}.params"] = _groups[k].Parameters.Count;
            foreach (Hyperparameter hyperparameter in _groupHyperparameters)
            {
                state.Scalars[$"group.{k}.{Check.Key(hyperparameter)}"] = _groups[k].Get(hyperparameter)!.Value;
            }
        }
        WriteSettings(state);
        Tensor[] parameters = [.. Parameters];
        for (int i = 0; i < _states.Length; i++)
        {
            if (_states[i] is not ParameterState parameterState)
            {
                continue;
            }
            state.Scalars[$"state.{i}.step"] = parameterState.Step;
            for (int slot = 0; slot < _bufferNames.Length; slot++)
            {
                if (parameterState.Buffers[slot] is Tensor buffer)
                {
                    state.Tensors[$"state.{i}.{_bufferNames[slot]}"] = buffer.Copy();
                }
            }
        }
        return state;
    }

    /// <summary>
    /// Restores a state written by <see cref="StateDict"/> of an optimizer of the same type over parameters of the
    /// same shapes in the same groups. Everything is checked before anything changes, so a bad state leaves the
    /// optimizer as it was. The state's values are copied in.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The state is from another optimizer type, has another group layout, a buffer whose shape differs from its
    /// parameter's, an unknown key, or an invalid hyperparameter.
    /// </exception>
    public void LoadStateDict(TrainingState state)
    {
        string op = $"{Name}.LoadStateDict";
        if (state.Kind != Name)
        {
            throw new ArgumentException($"{op}: the state was written by {state.Kind}, expected {Name}.");
        }
        Tensor[] parameters = [.. Parameters];
        // 1. Check: the group layout, then every key, before changing anything.
        if (state.Scalars.ContainsKey($"group.{_groups.Length}.params"))
        {
            throw new ArgumentException($"{op}: the state has more than {_groups.Length} parameter groups.");
        }
        var groupValues = new double[_groups.Length, _groupHyperparameters.Length];
        for (int k = 0; k < _groups.Length; k++)
        {
            double count = state.Scalar($"group.{k}.params", Name);
            if (count != _groups[k].Parameters.Count)
            {
                throw new ArgumentException(
                    $"{op}: group {k} of the state has {Check.Format(count)} parameters, this optimizer's has {_groups[k].Parameters.Count}.");
            }
            for (int h = 0; h < _groupHyperparameters.Length; h++)
            {
                double value = state.Scalar($"group.{k}.{Check.Key(_groupHyperparameters[h])}", Name);
                Check.Group(Name, _groupHyperparameters[h], value, Where(k));
                groupValues[k, h] = value;
            }
        }
        var steps = new long[parameters.Length];
        foreach ((string key, double value) in state.Scalars)
        {
            if (key.StartsWith("group.", StringComparison.Ordinal))
            {
                continue;   // read above; an unknown group key is caught by the count check below
            }
            if (TryParseStateKey(key, parameters.Length, out int index, out string field) && field == "step")
            {
                if (!(value >= 1 && value == Math.Floor(value) && value < (double)long.MaxValue))
                {
                    throw new ArgumentException($"{op}: '{key}' = {Check.Format(value)}, expected a whole number >= 1.");
                }
                steps[index] = (long)value;
            }
            else if (!IsSettingKey(key))
            {
                throw new ArgumentException($"{op}: unknown entry '{key}' in the state.");
            }
        }
        int groupKeys = state.Scalars.Keys.Count(key => key.StartsWith("group.", StringComparison.Ordinal));
        if (groupKeys != _groups.Length * (1 + _groupHyperparameters.Length))
        {
            throw new ArgumentException(
                $"{op}: the state has {groupKeys} group entries, expected {_groups.Length * (1 + _groupHyperparameters.Length)} ({Name} keeps lr and its other group hyperparameters).");
        }
        foreach ((string key, Tensor tensor) in state.Tensors)
        {
            int slot = -1;
            if (!TryParseStateKey(key, parameters.Length, out int index, out string field)
                || (slot = Array.IndexOf(_bufferNames, field)) < 0)
            {
                throw new ArgumentException($"{op}: unknown tensor '{key}' in the state; {Name} keeps {string.Join(", ", _bufferNames)}.");
            }
            if (!tensor.Shape.SequenceEqual(parameters[index].Shape))
            {
                throw new ArgumentException(
                    $"{op}: '{key}' has shape {tensor.ShapeText}, but parameter {index} has shape {parameters[index].ShapeText}.");
            }
            if (steps[index] == 0)
            {
                throw new ArgumentException($"{op}: '{key}' is given but 'state.{index}.step' is not.");
            }
        }
        ReadSettings(state, apply: false);

        // 2. Apply.
        for (int k = 0; k < _groups.Length; k++)
        {
            for (int h = 0; h < _groupHyperparameters.Length; h++)
            {
                _groups[k].Set(_groupHyperparameters[h], groupValues[k, h]);
            }
        }
        ReadSettings(state, apply: true);
        for (int i = 0; i < _states.Length; i++)
        {
            if (steps[i] == 0)
            {
                _states[i] = null;
                continue;
            }
            var parameterState = new ParameterState(_bufferNames.Length) { Step = steps[i] };
            for (int slot = 0; slot < _bufferNames.Length; slot++)
            {
                if (state.Tensors.TryGetValue($"state.{i}.{_bufferNames[slot]}", out Tensor? saved))
                {
                    saved.CopyTo(parameterState.Buffer(slot, parameters[i]));
                }
            }
            _states[i] = parameterState;
        }
    }

    /// <summary>Checks every hyperparameter; the constructors call it last, <see cref="Step"/> first.</summary>
    private protected void Validate()
    {
        ValidateSettings();
        for (int k = 0; k < _groups.Length; k++)
        {
            ValidateGroup(_groups[k], k);
        }
    }

    /// <summary>The hyperparameter <paramref name="hyperparameter"/> of <paramref name="group"/>, which the optimizer filled in.</summary>
    private protected static double Value(ParameterGroup group, Hyperparameter hyperparameter) =>
        group.Get(hyperparameter) ?? throw new InvalidOperationException($"The group has no {Check.Key(hyperparameter)}.");

    /// <summary>Checks the optimizer-wide settings (epsilon, flags); called at every step.</summary>
    private protected abstract void ValidateSettings();

    /// <summary>Writes the optimizer-wide settings as scalars (flags as 0/1).</summary>
    private protected abstract void WriteSettings(TrainingState state);

    /// <summary>Reads (and, with <paramref name="apply"/> false, only checks) the optimizer-wide settings.</summary>
    private protected abstract void ReadSettings(TrainingState state, bool apply);

    /// <summary>True for the keys <see cref="WriteSettings"/> writes.</summary>
    private protected abstract bool IsSettingKey(string key);

    /// <summary>Applies the update rule to one parameter, whose state's step count has already been incremented.</summary>
    private protected abstract void Update(ParameterGroup group, ParameterState state, Tensor parameter, ReadOnlySpan<float> gradient);

    /// <summary>Checks one group's hyperparameters (the shared ranges, plus the optimizer's own rules).</summary>
    private protected virtual void ValidateGroup(ParameterGroup group, int index)
    {
        foreach (Hyperparameter hyperparameter in _groupHyperparameters)
        {
            double? value = group.Get(hyperparameter);
            if (value is null)
            {
                throw new ArgumentException($"{Name}: {Check.Key(hyperparameter)} is unset{Where(index)}; every group needs one.");
            }
            if (!Check.IsValid(hyperparameter, value.Value))
            {
                // Where() builds a string, so it is called only on the way to the exception: a step stays allocation-free.
                throw new ArgumentException(
                    $"{Name}: {Check.Key(hyperparameter)} = {Check.Format(value.Value)}{Where(index)}, {Check.Expected(hyperparameter)}.");
            }
        }
    }

    /// <summary>" (group 1, 'magnitude')" when there are several groups, so a message points at the right one.</summary>
    private protected string Where(int group)
    {
        if (_groups.Length <= 1)
        {
            return "";
        }
        string name = _groups[group].Name;
        return name.Length == 0 ? $" (group {group})" : $" (group {group}, '{name}')";
    }

    /// <summary>A flag read from a state: 0 or 1.</summary>
    private protected bool ReadFlag(TrainingState state, string key)
    {
        double value = state.Scalar(key, Name);
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw new ArgumentException($"{Name}.LoadStateDict: '{key}' = {Check.Format(value)}, expected 0 or 1."),
        };
    }

    private static bool TryParseStateKey(string key, int parameterCount, out int index, out string field)
    {
        index = -1;
        field = "";
        if (!key.StartsWith("state.", StringComparison.Ordinal))
        {
            return false;
        }
        int dot = key.IndexOf('.', 6);
        if (dot < 0
            || !int.TryParse(key.AsSpan(6, dot - 6), NumberStyles.None, CultureInfo.InvariantCulture, out index)
            || index >= parameterCount)
        {
            throw new ArgumentException($"LoadStateDict: '{key}' names no parameter; the optimizer has {parameterCount}.");
        }
        field = key[(dot + 1)..];
        return true;
    }
}
