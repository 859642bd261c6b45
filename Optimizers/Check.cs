using System.Globalization;

namespace NeuralCore.Optimizers;

/// <summary>
/// Hyperparameter checks shared by the optimizers, with messages that name the optimizer, the hyperparameter
/// and the value: "Adam: beta1 = 1.2, expected a value in [0, 1)".
/// </summary>
internal static class Check
{
    /// <summary>PyTorch's name for each hyperparameter, used in messages and state-dict keys.</summary>
    public static string Key(Hyperparameter hyperparameter) => hyperparameter switch
    {
        Hyperparameter.LearningRate => "lr",
        Hyperparameter.WeightDecay => "weight_decay",
        Hyperparameter.Beta1 => "beta1",
        Hyperparameter.Beta2 => "beta2",
        Hyperparameter.Momentum => "momentum",
        _ => throw new ArgumentException($"Unknown hyperparameter {hyperparameter}.", nameof(hyperparameter)),
    };

    /// <summary>True when <paramref name="value"/> is in <paramref name="hyperparameter"/>'s range (allocation-free, for every step).</summary>
    public static bool IsValid(Hyperparameter hyperparameter, double value) =>
        hyperparameter is Hyperparameter.Beta1 or Hyperparameter.Beta2
            ? value >= 0 && value < 1
            : value >= 0 && double.IsFinite(value);   // false for NaN: every comparison with NaN is false

    /// <summary>The range <paramref name="hyperparameter"/> must lie in, as the end of a message.</summary>
    public static string Expected(Hyperparameter hyperparameter) =>
        hyperparameter is Hyperparameter.Beta1 or Hyperparameter.Beta2 ? "expected a value in [0, 1)" : "expected a finite value >= 0";

    /// <summary>Throws unless <paramref name="value"/> is valid for <paramref name="hyperparameter"/>.</summary>
    public static void Group(string optimizer, Hyperparameter hyperparameter, double value, string where)
    {
        if (!IsValid(hyperparameter, value))
        {
            throw new ArgumentException($"{optimizer}: {Key(hyperparameter)} = {Format(value)}{where}, {Expected(hyperparameter)}.");
        }
    }

    /// <summary>A finite value ≥ 0 (learning rates, weight decay, momentum, epsilon).</summary>
    public static void NonNegative(string optimizer, string name, double value, string where = "")
    {
        // Written so that NaN fails too: every comparison with NaN is false.
        if (!(value >= 0 && double.IsFinite(value)))
        {
            throw new ArgumentException($"{optimizer}: {name} = {Format(value)}{where}, expected a finite value >= 0.");
        }
    }

    /// <summary>A value in [0, 1) (betas, which must forget eventually).</summary>
    public static void Fraction(string optimizer, string name, double value, string where = "")
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentException($"{optimizer}: {name} = {Format(value)}{where}, expected a value in [0, 1).");
        }
    }

    /// <summary>A value in [0, 1] (dampening, RMSprop's alpha, an average's decay).</summary>
    public static void UnitInterval(string optimizer, string name, double value, string where = "")
    {
        if (!(value >= 0 && value <= 1))
        {
            throw new ArgumentException($"{optimizer}: {name} = {Format(value)}{where}, expected a value in [0, 1].");
        }
    }

    /// <summary>The shortest round-trip form, invariant culture.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
