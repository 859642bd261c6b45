namespace NeuralCore.Tests.Autodiff;

/// <summary>
/// Every gradient check in the suite, gathered from one file per topic. <see cref="GradientTests"/> runs each,
/// and fails when an op in <see cref="NeuralCore.Engine.Autodiff.Derivatives"/> is exercised by none of them.
/// </summary>
public static partial class GradientCases
{
    /// <summary>All cases, for NUnit's TestCaseSource.</summary>
    public static IEnumerable<GradientCase> All() =>
    [
        .. Arithmetic(),
        .. ElementwiseMath(),
        .. Reductions(),
        .. Views(),
        .. Matmul(),
        .. Losses(),
        .. Convolution(),
        .. Normalization(),
        .. WeightNorm(),
        .. ConvWeightNorm(),
    ];

    private static partial IEnumerable<GradientCase> ElementwiseMath();

    private static partial IEnumerable<GradientCase> Reductions();

    private static partial IEnumerable<GradientCase> Views();

    private static partial IEnumerable<GradientCase> Matmul();

    private static partial IEnumerable<GradientCase> Losses();

    private static partial IEnumerable<GradientCase> Convolution();

    private static partial IEnumerable<GradientCase> Normalization();

    private static partial IEnumerable<GradientCase> WeightNorm();

    private static partial IEnumerable<GradientCase> ConvWeightNorm();
}
