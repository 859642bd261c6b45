using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Moderate logits (normal draws), where finite differences of the mean loss are accurate; the ±1e4 case is
    // checked against a double-precision reference gradient in LossTests instead. C = 17 and 33 leave SIMD tails.
    private static partial IEnumerable<GradientCase> Losses() =>
    [
        new("cross_entropy (4,7)", x => Engine.Losses.CrossEntropy(x[0], [0, 6, 3, 3]), () => [Normal(201, 4, 7)]),
        new("cross_entropy (3,17)", x => Engine.Losses.CrossEntropy(x[0], [16, 0, 9]), () => [Normal(202, 3, 17)]),
        new("cross_entropy (1,33) scaled logits", x => Engine.Losses.CrossEntropy(x[0] * 3f, [5]), () => [Normal(203, 1, 33)]),
        new("mse_loss (17)", x => Engine.Losses.MeanSquaredError(x[0], x[1]), () => [Normal(204, 17), Normal(205, 17)]),
        new("mse_loss (3,5)", x => Engine.Losses.MeanSquaredError(x[0], x[1]), () => [Normal(206, 3, 5), Normal(207, 3, 5)]),
        new("mse_loss of a softmax", x => Engine.Losses.MeanSquaredError(x[0].Softmax(-1), x[1]), () => [Normal(208, 2, 9), Uniform(209, 0f, 1f, 2, 9)]),
    ];
}
