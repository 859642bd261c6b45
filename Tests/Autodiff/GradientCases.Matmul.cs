using NeuralCore.Engine;
using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Shapes: odd sizes with SIMD tails (17 = 16 + 1), a 1×1 product, equal batches, a 2-D weight shared over a batch
    // on either side (the stacked-rows and stacked-inner paths of MultiplyBatched), broadcasting on both sides at once,
    // and the same tensor as both operands (its two gradient contributions must add).
    private static partial IEnumerable<GradientCase> Matmul() =>
    [
        new("matmul (3,5)@(5,7)", x => x[0].Matmul(x[1]), () => [Normal(201, 3, 5), Normal(202, 5, 7)]),
        new("matmul (1,1)@(1,1)", x => x[0].Matmul(x[1]), () => [Normal(203, 1, 1), Normal(204, 1, 1)]),
        new("matmul (2,17)@(17,3)", x => x[0].Matmul(x[1]), () => [Normal(205, 2, 17), Normal(206, 17, 3)]),
        new("matmul batched (2,3,4)@(2,4,5)", x => x[0].Matmul(x[1]), () => [Normal(207, 2, 3, 4), Normal(208, 2, 4, 5)]),
        new("matmul shared right (5,3,4)@(4,2)", x => x[0].Matmul(x[1]), () => [Normal(209, 5, 3, 4), Normal(210, 4, 2)]),
        new("matmul shared left (3,4)@(5,4,2)", x => Tensor.Matmul(x[0], x[1]), () => [Normal(211, 3, 4), Normal(212, 5, 4, 2)]),
        new("matmul broadcast both (2,1,3,4)@(5,4,6)", x => x[0].Matmul(x[1]), () => [Normal(213, 2, 1, 3, 4), Normal(214, 5, 4, 6)]),
        new("matmul broadcast (1,3,2,3)@(4,1,3,2)", x => x[0].Matmul(x[1]), () => [Normal(215, 1, 3, 2, 3), Normal(216, 4, 1, 3, 2)]),
        new("matmul used twice x@x (4,4)", x => x[0].Matmul(x[0]), () => [Normal(217, 4, 4)]),
        new("matmul used twice batched x@x (2,3,3)", x => x[0].Matmul(x[0]), () => [Normal(218, 2, 3, 3)]),
        new("matmul chain exp(a@b)@c", x => x[0].Matmul(x[1]).Exp().Matmul(x[2]),
            () => [Uniform(219, -0.5f, 0.5f, 3, 4), Uniform(220, -0.5f, 0.5f, 4, 5), Normal(221, 5, 2)]),
    ];
}
