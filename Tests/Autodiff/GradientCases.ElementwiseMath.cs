using NeuralCore.Engine;
using static NeuralCore.Tests.Autodiff.GradientCase;

namespace NeuralCore.Tests.Autodiff;

public static partial class GradientCases
{
    // Sizes with SIMD tails (17 = 16 + 1, 33 = 32 + 1, 3·17), rank 0 to 3, broadcasting both ways for the two-input
    // ops. log/sqrt/pow need positive inputs; ops with a kink or a jump (abs, relu, leaky relu, elu, clamp's bounds,
    // softplus's threshold, maximum/minimum ties) get inputs at least 0.05 away from it, so x ± h (h = 0.01) stays on
    // one side.
    private static partial IEnumerable<GradientCase> ElementwiseMath() =>
    [
        new("log (3,17)", x => x[0].Log(), () => [Uniform(101, 0.5f, 2f, 3, 17)]),
        new("log scalar ()", x => x[0].Log(), () => [Uniform(102, 0.5f, 2f)]),
        new("sqrt (33)", x => x[0].Sqrt(), () => [Uniform(103, 0.5f, 2f, 33)]),
        new("abs (2,3,5)", x => x[0].Abs(), () => [AwayFromZero(104, 0.05f, 2, 3, 5)]),
        new("pow 2.5 (17)", x => x[0].Pow(2.5f), () => [Uniform(105, 0.5f, 2f, 17)]),
        new("pow -1.5 (4,5)", x => x[0].Pow(-1.5f), () => [Uniform(106, 0.5f, 2f, 4, 5)]),
        new("pow 3 negative base (19)", x => x[0].Pow(3f), () => [Normal(107, 19)]),
        new("pow 0 (7)", x => x[0].Pow(0f), () => [Normal(108, 7)]),
        new("pow_tensor same (17)", x => x[0].Pow(x[1]), () => [Uniform(109, 0.5f, 2f, 17), Normal(110, 17)]),
        new("pow_tensor broadcast (3,4)^(4)", x => x[0].Pow(x[1]), () => [Uniform(111, 0.5f, 2f, 3, 4), Uniform(112, -2f, 2f, 4)]),
        new("pow_tensor broadcast (4)^(3,1)", x => x[0].Pow(x[1]), () => [Uniform(113, 0.5f, 2f, 4), Uniform(114, -2f, 2f, 3, 1)]),
        new("clamp both (5,7)", x => x[0].Clamp(-0.5f, 0.7f), () => [AwayFrom(115, [-0.5f, 0.7f], 1f, 5, 7)]),
        new("clamp min only (17)", x => x[0].Clamp(min: 0.2f), () => [AwayFrom(116, [0.2f], 1f, 17)]),
        new("clamp max only (2,9)", x => x[0].Clamp(max: -0.1f), () => [AwayFrom(117, [-0.1f], 1f, 2, 9)]),
        new("maximum same (17)", x => x[0].Maximum(x[1]), () => Separated(118, [17], [17])),
        new("maximum broadcast (3,1)&(4)", x => x[0].Maximum(x[1]), () => Separated(119, [3, 1], [4])),
        new("minimum same (2,9)", x => x[0].Minimum(x[1]), () => Separated(120, [2, 9], [2, 9])),
        new("minimum broadcast (5)&(2,3,1)", x => x[0].Minimum(x[1]), () => Separated(121, [5], [2, 3, 1])),
        new("relu (3,17)", x => x[0].Relu(), () => [AwayFromZero(122, 0.05f, 3, 17)]),
        new("leaky_relu default (33)", x => x[0].LeakyRelu(), () => [AwayFromZero(123, 0.05f, 33)]),
        new("leaky_relu 0.2 (4,5)", x => x[0].LeakyRelu(0.2f), () => [AwayFromZero(124, 0.05f, 4, 5)]),
        new("elu default (33)", x => x[0].Elu(), () => [AwayFromZero(125, 0.05f, 33)]),
        new("elu 0.5 (2,2,5)", x => x[0].Elu(0.5f), () => [AwayFromZero(126, 0.05f, 2, 2, 5)]),
        new("sigmoid (3,17)", x => x[0].Sigmoid(), () => [Normal(127, 3, 17)]),
        new("tanh (33)", x => x[0].Tanh(), () => [Normal(128, 33)]),
        new("softplus default (17)", x => x[0].Softplus(), () => [Normal(129, 17)]),
        // β = 2, threshold 5: values from −6 to 6 cover both branches; the jump of ln(1 + e⁻⁵)/2 ≈ 3e-3 at x = 2.5 is avoided.
        new("softplus beta 2 threshold 5 (33)", x => x[0].Softplus(2f, 5f), () => [AwayFrom(130, [2.5f], 3f, 33)]),
        new("chain sigmoid(log(a)*b)", x => (x[0].Log() * x[1]).Sigmoid(), () => [Uniform(131, 0.5f, 2f, 3, 4), Normal(132, 4)]),
    ];

    /// <summary>Seeded normal values, times <paramref name="scale"/>, moved at least 0.05 away from each of <paramref name="points"/>.</summary>
    private static Tensor AwayFrom(ulong seed, float[] points, float scale, params int[] shape)
    {
        Tensor t = Normal(seed, shape);
        Span<float> values = t.AsSpan();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] *= scale;
            foreach (float point in points)
            {
                if (Math.Abs(values[i] - point) < 0.05f)
                {
                    values[i] = values[i] >= point ? point + 0.05f : point - 0.05f;
                }
            }
        }
        return t;
    }

    /// <summary>
    /// Two seeded normal tensors with no broadcast pair closer than 0.05, so maximum/minimum see no tie within ± h:
    /// the second is shifted by the first constant (a multiple of 0.013) that clears every pair.
    /// </summary>
    private static Tensor[] Separated(ulong seed, int[] shapeA, int[] shapeB)
    {
        Tensor a = Normal(seed, shapeA);
        Tensor b = Normal(seed + 1000, shapeB);
        using (Engine.Autodiff.Tape.NoGrad())
        {
            for (int step = 0; step < 1000; step++)
            {
                Tensor shifted = b + step * 0.013f;
                if ((a - shifted).Abs().ToArray().Min() >= 0.05f)
                {
                    return [a, shifted];
                }
            }
        }
        throw new InvalidOperationException($"Separated: no shift separates the seed-{seed} tensors; pick another seed.");
    }
}
