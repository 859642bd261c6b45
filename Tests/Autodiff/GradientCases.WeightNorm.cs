using NeuralCore.Layers;
using WeightNormOps = NeuralCore.Layers.WeightNorm;
using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // The plain linear op and the fused weight-norm op (Layers/Linear.cs, Layers/WeightNorm.cs): with and without bias,
    // leading axes flattened into rows, sizes with SIMD tails (17, 33), one norm per row (g (out, 1)) and one norm over
    // the whole of v (g a scalar), and a two-layer chain so a gradient flows into x through the fused backward.
    // The unfused reference (WeightNorm.Weight + linear) is checked too, for dim 0 and dim 1.
    private static partial IEnumerable<GradientCase> WeightNorm() =>
    [
        new("linear (4,5)·(3,5)ᵀ + b", x => Linear.Functional(x[0], x[1], x[2]), () => [Normal(401, 4, 5), Normal(402, 3, 5), Normal(403, 3)]),
        new("linear no bias (2,3,7)·(4,7)ᵀ", x => Linear.Functional(x[0], x[1]), () => [Normal(404, 2, 3, 7), Normal(405, 4, 7)]),
        new("linear (5,17)·(33,17)ᵀ + b", x => Linear.Functional(x[0], x[1], x[2]), () => [Normal(406, 5, 17), Normal(407, 33, 17), Normal(408, 33)]),
        new("linear 1-D input (6)·(2,6)ᵀ + b", x => Linear.Functional(x[0], x[1], x[2]), () => [Normal(409, 6), Normal(410, 2, 6), Normal(411, 2)]),
        new("weight_norm_linear dim 0 (4,5), v (3,5), g (3,1), b",
            x => WeightNormOps.Linear(x[0], x[1], x[2], x[3]),
            () => [Normal(412, 4, 5), Normal(413, 3, 5), Uniform(414, 0.5f, 1.5f, 3, 1), Normal(415, 3)]),
        new("weight_norm_linear dim 0 no bias (2,3,6), v (4,6), g (4,1)",
            x => WeightNormOps.Linear(x[0], x[1], x[2]),
            () => [Normal(416, 2, 3, 6), Normal(417, 4, 6), Normal(418, 4, 1)]),
        new("weight_norm_linear dim 0 (5,17), v (33,17), g (33,1), b",
            x => WeightNormOps.Linear(x[0], x[1], x[2], x[3]),
            () => [Normal(419, 5, 17), Normal(420, 33, 17), Uniform(421, 0.5f, 1.5f, 33, 1), Normal(422, 33)]),
        new("weight_norm_linear dim null (4,5), v (3,5), g (), b",
            x => WeightNormOps.Linear(x[0], x[1], x[2], x[3]),
            () => [Normal(423, 4, 5), Normal(424, 3, 5), Uniform(425, 0.5f, 1.5f), Normal(426, 3)]),
        new("weight_norm_linear chain relu(wn(x))→wn",
            x => WeightNormOps.Linear(WeightNormOps.Linear(x[0], x[1], x[2], x[3]).Relu(), x[4], x[5]),
            () => [Normal(427, 3, 4), Normal(428, 5, 4), Uniform(429, 0.5f, 1.5f, 5, 1), Uniform(430, 0.2f, 0.6f, 5),
                   Normal(431, 2, 5), Uniform(432, 0.5f, 1.5f, 2, 1)]),
        new("unfused weight norm dim 0: linear(x, g·v/‖v‖, b)",
            x => Linear.Functional(x[0], WeightNormOps.Weight(x[1], x[2], 0), x[3]),
            () => [Normal(433, 4, 5), Normal(434, 3, 5), Uniform(435, 0.5f, 1.5f, 3, 1), Normal(436, 3)]),
        new("unfused weight norm dim 1: g (1,5)",
            x => Linear.Functional(x[0], WeightNormOps.Weight(x[1], x[2], 1)),
            () => [Normal(437, 4, 5), Normal(438, 3, 5), Uniform(439, 0.5f, 1.5f, 1, 5)]),
        new("unfused weight norm dim null: g ()",
            x => WeightNormOps.Weight(x[0], x[1], null),
            () => [Normal(440, 3, 4), Uniform(441, 0.5f, 1.5f)]),
    ];
}
