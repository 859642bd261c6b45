using NeuralCore.Engine;
using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Views are linear maps that move elements, so a wrong rule sends a gradient to the wrong place (or drops or
    // doubles it), which the projected check sees as an O(1) error. Cases cover: negative axes, non-contiguous inputs
    // (a view of a view; an op reading a view), lengths 17 and 33 (vector body + tail in the strided adds), an input
    // used twice (gradients accumulate), and a view feeding an elementwise op with broadcasting.
    private static partial IEnumerable<GradientCase> Views() =>
    [
        new("contiguous of transpose (3,17)", x => x[0].Transpose(0, 1).Contiguous(), () => [Normal(101, 3, 17)]),
        new("contiguous of narrow (4,33)", x => x[0].Narrow(1, 5, 20).Contiguous(), () => [Normal(102, 4, 33)]),

        new("reshape (4,6)->(2,-1,3)", x => x[0].Reshape(2, -1, 3), () => [Normal(103, 4, 6)]),
        new("reshape (17)->(1,17) * (3,1)", x => x[0].Reshape(1, 17) * x[1], () => [Normal(104, 17), Normal(105, 3, 1)]),
        new("reshape of transpose (copies) (5,7)->(35)", x => x[0].Transpose(0, 1).Reshape(-1), () => [Normal(106, 5, 7)]),
        new("reshape (1)->() scalar", x => x[0].Reshape() * x[1], () => [Normal(107, 1), Normal(108, 2, 3)]),

        new("transpose (3,17) via T", x => x[0].T, () => [Normal(109, 3, 17)]),
        new("transpose (2,3,5) axes (0,-1)", x => x[0].Transpose(0, -1), () => [Normal(110, 2, 3, 5)]),
        new("transpose then mul (4,6)ᵀ*(6,4)", x => x[0].T * x[1], () => [Normal(111, 4, 6), Normal(112, 6, 4)]),
        new("transpose of transpose (2,3,4)", x => x[0].Transpose(1, 2).Transpose(0, 1), () => [Normal(113, 2, 3, 4)]),

        new("permute (2,3,4,5) (0,2,3,1)", x => x[0].Permute(0, 2, 3, 1), () => [Normal(114, 2, 3, 4, 5)]),
        new("permute negative axes (3,17,2) (-1,0,-2)", x => x[0].Permute(-1, 0, -2), () => [Normal(115, 3, 17, 2)]),
        new("permute then add (2,3,4)+(4,1,1)", x => x[0].Permute(2, 0, 1) + x[1], () => [Normal(116, 2, 3, 4), Normal(117, 4, 1, 1)]),

        new("squeeze all (1,3,1,17)", x => x[0].Squeeze(), () => [Normal(118, 1, 3, 1, 17)]),
        new("squeeze axis -2 (4,1,5)", x => x[0].Squeeze(-2), () => [Normal(119, 4, 1, 5)]),
        new("squeeze of transpose (1,6)ᵀ", x => x[0].T.Squeeze(1) * x[1], () => [Normal(120, 1, 6), Normal(121, 6)]),

        new("unsqueeze 0 (17)", x => x[0].Unsqueeze(0), () => [Normal(122, 17)]),
        new("unsqueeze -1 (3,4) * (5)", x => x[0].Unsqueeze(-1) * x[1], () => [Normal(123, 3, 4), Normal(124, 5)]),

        new("slice (5,17) axis 0 [1,4)", x => x[0].Narrow(0, 1, 3), () => [Normal(125, 5, 17)]),
        new("slice (4,33) axis -1 start -20 len 17", x => x[0].Narrow(-1, -20, 17), () => [Normal(126, 4, 33)]),
        new("slice overlapping twice (6,5)", x => x[0].Narrow(0, 0, 4) + x[0].Narrow(0, 2, 4), () => [Normal(127, 6, 5)]),
        new("slice of transpose (5,7)ᵀ axis 1", x => x[0].T.Narrow(1, 1, 3), () => [Normal(128, 5, 7)]),

        new("expand (3,1)->(2,3,4)", x => x[0].Expand(2, 3, 4), () => [Normal(129, 3, 1)]),
        new("expand (1,17)->(5,-1) * (5,17)", x => x[0].Expand(5, -1) * x[1], () => [Normal(130, 1, 17), Normal(131, 5, 17)]),
        new("expand () scalar ->(2,3)", x => x[0].Expand(2, 3), () => [Normal(132)]),
        new("expand of unsqueeze (4)->(3,4)", x => x[0].Unsqueeze(0).Expand(3, -1), () => [Normal(133, 4)]),

        new("concat axis 0 (2,3)+(4,3)", x => Tensor.Concat([x[0], x[1]], 0), () => [Normal(134, 2, 3), Normal(135, 4, 3)]),
        new("concat axis -1 (2,17)+(2,3)ᵀ-view+(2,1)", x => Tensor.Concat([x[0], x[1].T, x[2]], -1),
            () => [Normal(136, 2, 17), Normal(137, 3, 2), Normal(138, 2, 1)]),
        new("concat same tensor twice axis 1 (3,4)", x => Tensor.Concat([x[0], x[0]], 1), () => [Normal(139, 3, 4)]),
        new("concat middle axis (2,3,5)+(2,1,5)", x => Tensor.Concat([x[0], x[1]], 1), () => [Normal(140, 2, 3, 5), Normal(141, 2, 1, 5)]),

        new("stack axis 1 three (2,5)", x => Tensor.Stack([x[0], x[1], x[2]], 1), () => [Normal(142, 2, 5), Normal(143, 2, 5), Normal(144, 2, 5)]),
        new("stack axis -1 (17)+(17)", x => Tensor.Stack([x[0], x[1]], -1), () => [Normal(145, 17), Normal(146, 17)]),
        new("stack axis 0 of a transpose view (3,4)", x => Tensor.Stack([x[0].T, x[1]], 0), () => [Normal(147, 3, 4), Normal(148, 4, 3)]),
        new("stack scalars", x => Tensor.Stack([x[0], x[1]], 0), () => [Normal(149), Normal(150)]),

        new("gather axis 1 (4,17) with repeats", x => x[0].Gather(1, [0, 16, 16, 3, 5, 5, 1, 2, 9, 9, 9, 0], [4, 3]), () => [Normal(151, 4, 17)]),
        new("gather axis 0 (4,6) index (2,5)", x => x[0].Gather(0, [3, 0, 1, 2, 3, 0, 0, 3, 1, 1], [2, 5]), () => [Normal(152, 4, 6)]),
        new("gather axis -1 of transpose (5,3)ᵀ", x => x[0].T.Gather(-1, [4, 0, 2, 2, 1, 3], [3, 2]), () => [Normal(153, 5, 3)]),

        new("index_select axis 0 (5,3) [4,0,4]", x => x[0].IndexSelect(0, [4, 0, 4]), () => [Normal(154, 5, 3)]),
        new("index_select axis -1 (2,3,17) [16,0,5]", x => x[0].IndexSelect(-1, [16, 0, 5]), () => [Normal(155, 2, 3, 17)]),
        new("index_select axis 1 of permute (3,4,5)", x => x[0].Permute(2, 0, 1).IndexSelect(1, [2, 2, 0, 1]), () => [Normal(156, 3, 4, 5)]),
    ];
}
