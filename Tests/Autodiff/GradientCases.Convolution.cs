using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Small odd shapes, non-square everywhere a square would hide a swapped axis: kernels 1, 3, 5 and 3×2; stride 2
    // on one axis only; padding 1 and 2; dilation 2; a 1×1 image (every tap but the centre in the padding); the
    // pointwise path that skips im2col; a non-contiguous input; and a small CNN chain. Max pooling gets distinct
    // values spaced wider than 2h, so that x ± h never changes which element wins a window.
    private static partial IEnumerable<GradientCase> Convolution() =>
    [
        new("conv2d (1,2,5,4)*(3,2,3,2) +b stride (2,1) padding (1,0)",
            x => x[0].Conv2d(x[1], x[2], stride: (2, 1), padding: (1, 0), dilation: (1, 1)),
            () => [Normal(301, 1, 2, 5, 4), Normal(302, 3, 2, 3, 2), Normal(303, 3)]),
        new("conv2d (2,3,6,5)*(2,3,3,3) dilation 2 padding 2, no bias",
            x => x[0].Conv2d(x[1], padding: 2, dilation: 2),
            () => [Normal(304, 2, 3, 6, 5), Normal(305, 2, 3, 3, 3)]),
        new("conv2d pointwise (2,4,3,5)*(3,4,1,1) +b",
            x => x[0].Conv2d(x[1], x[2]),
            () => [Normal(306, 2, 4, 3, 5), Normal(307, 3, 4, 1, 1), Normal(308, 3)]),
        new("conv2d (1,1,7,6)*(2,1,5,5) +b stride 2 padding 2",
            x => x[0].Conv2d(x[1], x[2], stride: 2, padding: 2),
            () => [Normal(309, 1, 1, 7, 6), Normal(310, 2, 1, 5, 5), Normal(311, 2)]),
        new("conv2d 1x1 image (3,2,1,1)*(2,2,3,3) +b padding 1",
            x => x[0].Conv2d(x[1], x[2], padding: 1),
            () => [Normal(312, 3, 2, 1, 1), Normal(313, 2, 2, 3, 3), Normal(314, 2)]),
        new("conv2d of a transposed input (1,2,4,6)ᵀ*(2,2,2,3)",
            x => x[0].Transpose(2, 3).Conv2d(x[1]),
            () => [Normal(315, 1, 2, 4, 6), Normal(316, 2, 2, 2, 3)]),
        new("conv2d stride (1,3) padding (2,1) dilation (2,1) (2,2,5,7)*(3,2,2,3) +b",
            x => x[0].Conv2d(x[1], x[2], stride: (1, 3), padding: (2, 1), dilation: (2, 1)),
            () => [Normal(317, 2, 2, 5, 7), Normal(318, 3, 2, 2, 3), Normal(319, 3)]),

        new("max_pool2d (2,3,5,5) kernel 2", x => x[0].MaxPool2d(2), () => [Distinct(320, 2, 3, 5, 5)]),
        new("max_pool2d (1,2,7,6) kernel 3 stride 2 padding 1", x => x[0].MaxPool2d(3, 2, 1), () => [Distinct(321, 1, 2, 7, 6)]),
        new("max_pool2d (2,1,5,7) kernel (2,3) stride (1,2) overlapping", x => x[0].MaxPool2d((2, 3), (1, 2)), () => [Distinct(322, 2, 1, 5, 7)]),

        new("avg_pool2d (2,3,5,5) kernel 2", x => x[0].AvgPool2d(2), () => [Normal(323, 2, 3, 5, 5)]),
        new("avg_pool2d (2,2,5,6) kernel 3 stride 2 padding 1", x => x[0].AvgPool2d(3, 2, 1), () => [Normal(324, 2, 2, 5, 6)]),
        new("avg_pool2d (1,2,6,5) kernel (3,2) stride (1,2) padding (1,1)",
            x => x[0].AvgPool2d((3, 2), (1, 2), (1, 1)), () => [Normal(325, 1, 2, 6, 5)]),

        new("global_avg_pool2d (2,3,4,5)", x => x[0].GlobalAvgPool2d(), () => [Normal(326, 2, 3, 4, 5)]),
        new("global_avg_pool2d 1x1 planes (3,2,1,1)", x => x[0].GlobalAvgPool2d(), () => [Normal(327, 3, 2, 1, 1)]),

        // Average (not max) pooling in the chain: a max of computed values could change winner under a perturbation.
        new("cnn chain conv2d -> avg_pool2d -> conv2d -> global_avg_pool2d",
            x => x[0].Conv2d(x[1], x[2], padding: 1).AvgPool2d(2).Conv2d(x[3], stride: 2).GlobalAvgPool2d(),
            () => [Normal(328, 2, 2, 6, 6), Normal(329, 3, 2, 3, 3), Normal(330, 3), Normal(331, 4, 3, 1, 1)]),
    ];
}
