using NeuralCore.Layers;
using WeightNormOps = NeuralCore.Layers.WeightNorm;
using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // The fused weight-norm convolution (Layers/Conv2d.cs, op weight_norm_conv2d) on small odd shapes: with and without
    // bias, padding, stride 2 with dilation 2, the pointwise (1×1) path that skips im2col, a 1×1 image (every tap but the
    // centre in the padding), one norm per output channel (g (O, 1, 1, 1)) and one over the whole of v (g a scalar), and
    // a two-layer chain so a gradient reaches x through the fused backward. The unfused reference (WeightNorm.Weight then
    // conv2d) is checked for dim 0 and dim 1.
    private static partial IEnumerable<GradientCase> ConvWeightNorm() =>
    [
        new("weight_norm_conv2d dim 0 (2,3,5,4), v (4,3,3,3), g (4,1,1,1), b, padding 1",
            x => Conv2d.WeightNormFunctional(x[0], x[1], x[2], x[3], padding: 1),
            () => [Normal(501, 2, 3, 5, 4), Normal(502, 4, 3, 3, 3), Uniform(503, 0.5f, 1.5f, 4, 1, 1, 1), Normal(504, 4)]),
        new("weight_norm_conv2d no bias (1,2,7,6), v (3,2,3,3), stride 2 padding 2 dilation 2",
            x => Conv2d.WeightNormFunctional(x[0], x[1], x[2], stride: 2, padding: 2, dilation: 2),
            () => [Normal(505, 1, 2, 7, 6), Normal(506, 3, 2, 3, 3), Normal(507, 3, 1, 1, 1)]),
        new("weight_norm_conv2d pointwise (2,4,3,5), v (3,4,1,1), b",
            x => Conv2d.WeightNormFunctional(x[0], x[1], x[2], x[3]),
            () => [Normal(508, 2, 4, 3, 5), Normal(509, 3, 4, 1, 1), Uniform(510, 0.5f, 1.5f, 3, 1, 1, 1), Normal(511, 3)]),
        new("weight_norm_conv2d 1x1 image (3,2,1,1), v (2,2,3,3), b, padding 1",
            x => Conv2d.WeightNormFunctional(x[0], x[1], x[2], x[3], padding: 1),
            () => [Normal(512, 3, 2, 1, 1), Normal(513, 2, 2, 3, 3), Uniform(514, 0.5f, 1.5f, 2, 1, 1, 1), Normal(515, 2)]),
        new("weight_norm_conv2d dim null (2,2,5,5), v (3,2,5,5), g (), b, stride 2 padding 2",
            x => Conv2d.WeightNormFunctional(x[0], x[1], x[2], x[3], stride: 2, padding: 2),
            () => [Normal(516, 2, 2, 5, 5), Normal(517, 3, 2, 5, 5), Uniform(518, 0.5f, 1.5f), Normal(519, 3)]),
        // tanh, not relu, between the layers: smooth, so x ± h never crosses a kink.
        new("weight_norm_conv2d chain wn(x)→tanh→wn→global_avg_pool2d",
            x => Conv2d.WeightNormFunctional(Conv2d.WeightNormFunctional(x[0], x[1], x[2], x[3], padding: 1).Tanh(), x[4], x[5], stride: 2)
                .GlobalAvgPool2d(),
            () => [Normal(520, 2, 2, 5, 5), Normal(521, 3, 2, 3, 3), Uniform(522, 0.5f, 1.5f, 3, 1, 1, 1), Uniform(523, -0.3f, 0.3f, 3),
                   Normal(524, 2, 3, 3, 3), Uniform(525, 0.5f, 1.5f, 2, 1, 1, 1)]),
        new("unfused conv weight norm dim 0: conv2d(x, g·v/‖v‖, b)",
            x => x[0].Conv2d(WeightNormOps.Weight(x[1], x[2], 0), x[3], padding: 1),
            () => [Normal(526, 2, 3, 4, 5), Normal(527, 4, 3, 3, 3), Uniform(528, 0.5f, 1.5f, 4, 1, 1, 1), Normal(529, 4)]),
        new("unfused conv weight norm dim 1: g (1,3,1,1)",
            x => x[0].Conv2d(WeightNormOps.Weight(x[1], x[2], 1)),
            () => [Normal(530, 1, 3, 4, 4), Normal(531, 2, 3, 3, 3), Uniform(532, 0.5f, 1.5f, 1, 3, 1, 1)]),
    ];
}
