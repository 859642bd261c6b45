using System.Linq;
using NeuralCore.Engine;

namespace NeuralCore.Optimizers;

/// <summary>
/// Sorts a model's named parameters by role, from PyTorch-style dotted names (<c>features.0.weight_g</c>,
/// <c>fc.bias</c>, <c>bn1.weight</c>), and builds the usual parameter groups in one line: the weight-norm
/// magnitudes g at their own learning rate, or biases and gains exempt from weight decay.
/// </summary>
/// <remarks>
/// <para>The rules, first match wins:</para>
/// <list type="number">
/// <item>name ends in <c>weight_g</c> or <c>.parametrizations.weight.original0</c> → <see cref="ParameterRole.Magnitude"/>;</item>
/// <item>name ends in <c>weight_v</c> or <c>.parametrizations.weight.original1</c> → <see cref="ParameterRole.Direction"/>;</item>
/// <item>the owning module is a normalization layer → <see cref="ParameterRole.Normalization"/>;</item>
/// <item>the last segment ends in <c>bias</c> → <see cref="ParameterRole.Bias"/>;</item>
/// <item>otherwise → <see cref="ParameterRole.Other"/>.</item>
/// </list>
/// <para>
/// The owning module is the name without its last segment (<c>bn1</c> for <c>bn1.weight</c>, <c>features.1</c> for
/// <c>features.1.bias</c>). By default it is a normalization layer when its own last segment, lower-cased,
/// contains <c>norm</c> (<c>norm1</c>, <c>layer_norm</c>, <c>batchnorm</c>) or is <c>bn</c>, <c>ln</c> or <c>gn</c>
/// optionally followed by digits, or ends in <c>_bn</c> (<c>bn1</c>, <c>ln</c>, <c>mean_only_bn</c>). Names carry no type, so
/// a norm layer inside a <c>Sequential</c> (<c>features.1</c>) is not recognised by name: pass
/// <c>isNormalizationModule</c>, which receives the module path and replaces the default rule (the Layers
/// project can answer it from the module's type).
/// </para>
/// </remarks>
/// <example><code>
/// var adam = new Adam(ParameterRoles.SeparateMagnitudes(model.NamedParameters(), magnitudeLearningRate: 3e-3), learningRate: 1e-3);
/// var adamw = new AdamW(ParameterRoles.ExemptFromWeightDecay(model.NamedParameters()), weightDecay: 0.05);
/// </code></example>
public static class ParameterRoles
{
    /// <summary>The role of the parameter called <paramref name="name"/>.</summary>
    /// <param name="name">The dotted name, e.g. <c>features.0.weight_g</c>.</param>
    /// <param name="isNormalizationModule">Decides from a module path whether it is a normalization layer; null for the naming rule.</param>
    public static ParameterRole Classify(string name, Func<string, bool>? isNormalizationModule = null)
    {
        if (name.EndsWith("weight_g", StringComparison.Ordinal) || name.EndsWith(".parametrizations.weight.original0", StringComparison.Ordinal))
        {
            return ParameterRole.Magnitude;
        }
        if (name.EndsWith("weight_v", StringComparison.Ordinal) || name.EndsWith(".parametrizations.weight.original1", StringComparison.Ordinal))
        {
            return ParameterRole.Direction;
        }
        int lastDot = name.LastIndexOf('.');
        string module = lastDot < 0 ? "" : name[..lastDot];
        string last = name[(lastDot + 1)..];
        if (module.Length > 0 && (isNormalizationModule ?? IsNormalizationByName)(module))
        {
            return ParameterRole.Normalization;
        }
        return last.EndsWith("bias", StringComparison.Ordinal) ? ParameterRole.Bias : ParameterRole.Other;
    }

    /// <summary>Sorts named parameters by role.</summary>
    /// <exception cref="ArgumentException">A name appears twice.</exception>
    public static ParameterSplit Split(IEnumerable<KeyValuePair<string, Tensor>> namedParameters, Func<string, bool>? isNormalizationModule = null)
    {
        List<Tensor>[] byRole = [.. Enum.GetValues<ParameterRole>().Select(_ => new List<Tensor>())];
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, Tensor parameter) in namedParameters)
        {
            if (!names.Add(name))
            {
                throw new ArgumentException($"ParameterRoles.Split: the name '{name}' appears twice.", nameof(namedParameters));
            }
            byRole[(int)Classify(name, isNormalizationModule)].Add(parameter);
        }
        return new ParameterSplit(byRole);
    }

    /// <summary>
    /// Two groups: the weight-norm magnitudes g at <paramref name="magnitudeLearningRate"/>, and everything else at
    /// the optimizer's learning rate (magnitude–direction decoupling). An empty group is left out.
    /// </summary>
    public static ParameterGroup[] SeparateMagnitudes(
        IEnumerable<KeyValuePair<string, Tensor>> namedParameters, double magnitudeLearningRate, Func<string, bool>? isNormalizationModule = null)
    {
        ParameterSplit split = Split(namedParameters, isNormalizationModule);
        return NonEmpty(
            new ParameterGroup(split.Magnitudes, "magnitude") { LearningRate = magnitudeLearningRate },
            new ParameterGroup(split.Directions.Concat(split.Biases).Concat(split.Normalization).Concat(split.Others), "rest"));
    }

    /// <summary>
    /// Two groups: plain weights and weight-norm directions v with the optimizer's weight decay, and biases,
    /// normalization-layer parameters and magnitudes g (gains, whose decay would fight the scale they set) with
    /// weight decay 0. An empty group is left out.
    /// </summary>
    public static ParameterGroup[] ExemptFromWeightDecay(
        IEnumerable<KeyValuePair<string, Tensor>> namedParameters, Func<string, bool>? isNormalizationModule = null)
    {
        ParameterSplit split = Split(namedParameters, isNormalizationModule);
        return NonEmpty(
            new ParameterGroup(split.Others.Concat(split.Directions), "decay"),
            new ParameterGroup(split.Biases.Concat(split.Normalization).Concat(split.Magnitudes), "no_decay") { WeightDecay = 0 });
    }

    /// <summary>The default rule for normalization modules; see the remarks.</summary>
    public static bool IsNormalizationByName(string modulePath)
    {
        string segment = modulePath[(modulePath.LastIndexOf('.') + 1)..].ToLowerInvariant();
        if (segment.Contains("norm", StringComparison.Ordinal) || segment.EndsWith("_bn", StringComparison.Ordinal))
        {
            return true;
        }
        foreach (string prefix in (ReadOnlySpan<string>)["bn", "ln", "gn"])
        {
            if (segment.StartsWith(prefix, StringComparison.Ordinal) && segment.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0)
            {
                return true;
            }
        }
        return false;
    }

    private static ParameterGroup[] NonEmpty(params ReadOnlySpan<ParameterGroup> groups)
    {
        var result = new List<ParameterGroup>(groups.Length);
        foreach (ParameterGroup group in groups)
        {
            if (group.Parameters.Count > 0)
            {
                result.Add(group);
            }
        }
        return [.. result];
    }
}
