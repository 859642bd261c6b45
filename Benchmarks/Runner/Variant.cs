using System.Linq;
using NeuralCore.Layers;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// One parameterization of the compared network: the architecture stays the same, only how its weights are
/// parameterized, initialized and normalized changes. The paper's four are <c>plain</c>, <c>wn</c>, <c>bn</c> and
/// <c>wn-mobn</c>; <c>plain-default</c> and <c>wn-unfused</c> are extra baselines.
/// </summary>
/// <param name="Name">The name used on the command line and in the reports.</param>
/// <param name="Description">One line for <c>--help</c> and the report.</param>
/// <param name="WeightNorm">Whether every Linear and Conv2d is weight-normalized (<c>w = g·v/‖v‖</c>, dim 0).</param>
/// <param name="Mode">The weight-norm computation (fused or the unfused reference); ignored without weight norm.</param>
/// <param name="Normalization">What follows each hidden layer.</param>
/// <param name="DataDependentInit">
/// Whether the paper's data-dependent init (§3) runs on one batch before training. The paper's baseline used it too,
/// so only <c>plain-default</c> keeps PyTorch's default init.
/// </param>
public sealed record Variant(
    string Name, string Description, bool WeightNorm, WeightNormMode Mode, HiddenNormalization Normalization, bool DataDependentInit)
{
    /// <summary>Plain weights with the paper's (data-dependent) init: the fair baseline.</summary>
    public static Variant Plain { get; } = new("plain", "plain weights, data-dependent init (the paper's baseline)",
        false, WeightNormMode.Fused, HiddenNormalization.None, true);

    /// <summary>Plain weights with PyTorch's default init (Kaiming uniform), no data-dependent init.</summary>
    public static Variant PlainDefault { get; } = new("plain-default", "plain weights, PyTorch default init",
        false, WeightNormMode.Fused, HiddenNormalization.None, false);

    /// <summary>Weight norm, fused kernels, data-dependent init.</summary>
    public static Variant WeightNormFused { get; } = new("wn", "weight norm (fused), data-dependent init",
        true, WeightNormMode.Fused, HiddenNormalization.None, true);

    /// <summary>Weight norm computed by the unfused reference path (w built on the tape), data-dependent init.</summary>
    public static Variant WeightNormUnfused { get; } = new("wn-unfused", "weight norm (unfused reference path), data-dependent init",
        true, WeightNormMode.Unfused, HiddenNormalization.None, true);

    /// <summary>Batch norm after every hidden layer (layer bias off), same init draw.</summary>
    public static Variant BatchNorm { get; } = new("bn", "batch norm after each hidden layer, data-dependent init",
        false, WeightNormMode.Fused, HiddenNormalization.BatchNorm, true);

    /// <summary>Weight norm plus mean-only batch norm after every hidden layer: the paper's best CIFAR-10 result.</summary>
    public static Variant WeightNormMeanOnlyBatchNorm { get; } = new("wn-mobn", "weight norm + mean-only batch norm, data-dependent init",
        true, WeightNormMode.Fused, HiddenNormalization.MeanOnlyBatchNorm, true);

    /// <summary>Every variant, in the order <c>--help</c> lists them.</summary>
    public static IReadOnlyList<Variant> All { get; } =
        [Plain, WeightNormFused, BatchNorm, WeightNormMeanOnlyBatchNorm, PlainDefault, WeightNormUnfused];

    /// <summary>The paper's four, the default of <c>--variants</c>.</summary>
    public static IReadOnlyList<Variant> PaperFour { get; } = [Plain, WeightNormFused, BatchNorm, WeightNormMeanOnlyBatchNorm];

    /// <summary>Whether the hidden layers drop their bias (a following normalization has its own shift).</summary>
    public bool HiddenBias => Normalization == HiddenNormalization.None;

    /// <summary>The variant called <paramref name="name"/>, or null.</summary>
    public static Variant? Find(string name) => All.FirstOrDefault(v => v.Name == name);
}
