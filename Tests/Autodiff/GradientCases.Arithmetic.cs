using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Shapes: same shape with a SIMD tail (17 = 16 + 1), broadcasting both ways, against a scalar, a rank-0 tensor.
    private static IEnumerable<GradientCase> Arithmetic() =>
    [
        new("add same (17)", x => x[0] + x[1], () => [Normal(1, 17), Normal(2, 17)]),
        new("add broadcast (3,1)+(4)", x => x[0] + x[1], () => [Normal(3, 3, 1), Normal(4, 4)]),
        new("add broadcast (2,3,5)+(3,1)", x => x[0] + x[1], () => [Normal(5, 2, 3, 5), Normal(6, 3, 1)]),
        new("sub broadcast (4)-(3,1)", x => x[0] - x[1], () => [Normal(7, 4), Normal(8, 3, 1)]),
        new("mul same (2,9)", x => x[0] * x[1], () => [Normal(9, 2, 9), Normal(10, 2, 9)]),
        new("mul broadcast (5,1,3)*(4,1)", x => x[0] * x[1], () => [Normal(11, 5, 1, 3), Normal(12, 4, 1)]),
        new("mul used twice x*x", x => x[0] * x[0], () => [Normal(13, 19)]),
        new("div broadcast (3,4)/(4)", x => x[0] / x[1], () => [Normal(14, 3, 4), Uniform(15, 0.5f, 2f, 4)]),
        new("div scalar tensor (2,3)/()", x => x[0] / x[1], () => [Normal(16, 2, 3), Uniform(17, 0.5f, 2f)]),
        new("add_scalar", x => x[0] + 2.5f, () => [Normal(18, 3, 7)]),
        new("mul_scalar", x => x[0] * -1.5f, () => [Normal(19, 33)]),
        new("neg", x => -x[0], () => [Normal(20, 5, 3)]),
        new("rsub scalar", x => 1f - x[0], () => [Normal(21, 4)]),
        new("exp", x => x[0].Exp(), () => [Normal(22, 3, 17)]),
        new("chain exp(a*b)+a", x => (x[0] * x[1]).Exp() + x[0], () => [Normal(23, 6), Normal(24, 2, 6)]),
    ];
}
