using NeuralCore.Engine;
using static NeuralCore.Tests.Autodiff.GradientCase;
using Norm = NeuralCore.Layers.Normalization;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // The fused batch-norm ops in training mode (batch statistics), in both kernel layouts: S = 1 ((N, C): loops
    // across channels) and S > 1 ((N, C, L), (N, C, H, W): loops along runs). Channel counts 5, 9 and run lengths 5,
    // 12, 17 leave SIMD tails. Batch norm is nonlinear in x through μ and σ; with ≥ 6 values per channel of N(0, 1)
    // draws σ is not small, so the O(h²) truncation of the h = 1e-2 central difference stays far below the
    // default tolerance. A tanh after the op makes ∂y vary per element, so a rule that only holds for a
    // projection-like seed would fail.
    private static partial IEnumerable<GradientCase> Normalization() =>
    [
        new("batch_norm (6,5) affine", x => Norm.BatchNorm(x[0], null, null, x[1], x[2], training: true),
            () => [Normal(301, 6, 5), Uniform(302, 0.5f, 1.5f, 5), Normal(303, 5)]),
        new("batch_norm (8,9) affine, then tanh", x => Norm.BatchNorm(x[0], null, null, x[1], x[2], training: true).Tanh(),
            () => [Normal(304, 8, 9), Uniform(305, 0.5f, 1.5f, 9), Normal(306, 9)]),
        new("batch_norm (7,4) no affine", x => Norm.BatchNorm(x[0], null, null, null, null, training: true),
            () => [Normal(307, 7, 4)]),
        new("batch_norm (3,2,5) affine (N, C, L)", x => Norm.BatchNorm(x[0], null, null, x[1], x[2], training: true),
            () => [Normal(308, 3, 2, 5), Uniform(309, 0.5f, 1.5f, 2), Normal(310, 2)]),
        new("batch_norm (2,3,3,4) affine, then tanh", x => Norm.BatchNorm(x[0], null, null, x[1], x[2], training: true).Tanh(),
            () => [Normal(311, 2, 3, 3, 4), Uniform(312, 0.5f, 1.5f, 3), Normal(313, 3)]),
        new("batch_norm (2,2,1,17) input offset by 20", x => Norm.BatchNorm(x[0] + 20f, null, null, x[1], x[2], training: true),
            () => [Normal(314, 2, 2, 1, 17), Uniform(315, 0.5f, 1.5f, 2), Normal(316, 2)]),
        new("batch_norm eval (4,3) running stats", x => Norm.BatchNorm(x[0], Tensor.FromArray([0.5f, -1f, 2f]), Tensor.FromArray([0.25f, 1f, 4f]), x[1], x[2], training: false),
            () => [Normal(317, 4, 3), Uniform(318, 0.5f, 1.5f, 3), Normal(319, 3)]),
        new("mean_only_batch_norm (6,5) bias", x => Norm.MeanOnlyBatchNorm(x[0], null, x[1], training: true),
            () => [Normal(320, 6, 5), Normal(321, 5)]),
        new("mean_only_batch_norm (8,9) then tanh", x => Norm.MeanOnlyBatchNorm(x[0], null, x[1], training: true).Tanh(),
            () => [Normal(322, 8, 9), Normal(323, 9)]),
        new("mean_only_batch_norm (2,3,3,4) then tanh", x => Norm.MeanOnlyBatchNorm(x[0], null, x[1], training: true).Tanh(),
            () => [Normal(324, 2, 3, 3, 4), Normal(325, 3)]),
        new("mean_only_batch_norm (3,2,17) no bias, squared", x => Norm.MeanOnlyBatchNorm(x[0], null, null, training: true).Pow(2f),
            () => [Normal(326, 3, 2, 17)]),
        // ∂x is stored, not added, when mean-only batch norm is the first to reach x's gradient. Here x·2 gets its
        // gradient from the op first and from the tanh (recorded earlier, so run later) second; then the other order.
        new("mean_only_batch_norm stores ∂x, then tanh adds to it", x =>
            {
                Tensor h = x[0] * 2f;
                Tensor a = h.Tanh();
                return a + Norm.MeanOnlyBatchNorm(h, null, x[1], training: true).Pow(2f);
            },
            () => [Normal(327, 7, 16), Normal(328, 16)]),
        new("mean_only_batch_norm adds ∂x after tanh (2,3,17)", x =>
            {
                Tensor h = x[0] * 2f;
                Tensor m = Norm.MeanOnlyBatchNorm(h, null, x[1], training: true).Pow(2f);
                return h.Tanh() + m;
            },
            () => [Normal(329, 2, 3, 17), Normal(330, 3)]),
    ];
}
