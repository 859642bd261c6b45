using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Shapes: full reductions, one axis (inner, middle, outer), several axes, negative axes, keepDim both ways, a
    // rank-0 input, and sizes with SIMD tails (17, 33). Softmax runs along the last axis (contiguous rows) and along
    // an outer axis (the strided path). Max uses well-separated values (Distinct) so x ± h never changes the argmax.
    private static partial IEnumerable<GradientCase> Reductions() =>
    [
        new("sum all (3,17)", x => x[0].Sum(), () => [Normal(101, 3, 17)]),
        new("sum all of a scalar ()", x => x[0].Sum(), () => [Normal(102)]),
        new("sum axis 1 (2,3,5)", x => x[0].Sum(1), () => [Normal(103, 2, 3, 5)]),
        new("sum axis 0 (17,3)", x => x[0].Sum(0), () => [Normal(104, 17, 3)]),
        new("sum axes [0,2] keepDim (2,3,5)", x => x[0].Sum([0, 2], keepDim: true), () => [Normal(105, 2, 3, 5)]),
        new("sum axis -1 keepDim (4,33)", x => x[0].Sum(-1, keepDim: true), () => [Normal(106, 4, 33)]),
        new("mean all (17)", x => x[0].Mean(), () => [Normal(107, 17)]),
        new("mean axis -2 keepDim (3,4,5)", x => x[0].Mean(-2, keepDim: true), () => [Normal(108, 3, 4, 5)]),
        new("mean axes [0,-1] (2,3,4)", x => x[0].Mean([0, -1]), () => [Normal(109, 2, 3, 4)]),
        new("max all (3,17)", x => x[0].Max(), () => [Distinct(110, 3, 17)]),
        new("max axis 1 (4,5,3)", x => x[0].Max(1), () => [Distinct(111, 4, 5, 3)]),
        new("max axis -1 keepDim (2,33)", x => x[0].Max(-1, keepDim: true), () => [Distinct(112, 2, 33)]),
        new("max axes [0,2] (3,4,5)", x => x[0].Max([0, 2]), () => [Distinct(113, 3, 4, 5)]),
        new("var all (17)", x => x[0].Var(), () => [Normal(114, 17)]),
        new("var axis 1 correction 0 keepDim (3,5)", x => x[0].Var(1, correction: 0, keepDim: true), () => [Normal(115, 3, 5)]),
        new("var axes [0,-1] (2,3,4)", x => x[0].Var([0, -1]), () => [Normal(116, 2, 3, 4)]),
        new("var axis 0 (33,2)", x => x[0].Var(0), () => [Normal(117, 33, 2)]),
        new("softmax axis -1 (4,17)", x => x[0].Softmax(-1), () => [Normal(118, 4, 17)]),
        new("softmax axis 0 (5,3)", x => x[0].Softmax(0), () => [Normal(119, 5, 3)]),
        new("softmax axis 1 (2,3,17)", x => x[0].Softmax(1), () => [Normal(120, 2, 3, 17)]),
        new("softmax (33)", x => x[0].Softmax(0), () => [Normal(121, 33)]),
        new("log_softmax axis -1 (4,17)", x => x[0].LogSoftmax(-1), () => [Normal(122, 4, 17)]),
        new("log_softmax axis 0 (5,3)", x => x[0].LogSoftmax(0), () => [Normal(123, 5, 3)]),
        new("log_softmax axis -2 (2,3,17)", x => x[0].LogSoftmax(-2), () => [Normal(124, 2, 3, 17)]),
        new("chain var(softmax(a·b)) + mean", x => (x[0] * x[1]).Softmax(-1).Var(0) + x[0].Mean(), () => [Normal(125, 3, 4), Normal(126, 4)]),
    ];
}
