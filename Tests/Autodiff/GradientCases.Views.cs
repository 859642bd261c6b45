namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    private static partial IEnumerable<GradientCase> Views() => [];
}
