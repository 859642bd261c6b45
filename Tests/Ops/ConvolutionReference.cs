using NeuralCore.Engine;

namespace NeuralCore.Tests.Ops;

/// <summary>
/// Direct convolution in double precision, by the definition and nothing else (no im2col, no GEMM):
/// <c>y[n, o, oy, ox] = b[o] + Σ_{c, ki, kj} x[n, c, oy·sh − ph + ki·dh, ox·sw − pw + kj·dw] · w[o, c, ki, kj]</c>,
/// with out-of-range input positions left out (they are the zero padding). Its two gradients come from the same sum:
/// each term x·w sends ∂y·w to x and ∂y·x to w. The engine's im2col + GEMM convolution is tested against it.
/// </summary>
internal static class ConvolutionReference
{
    /// <summary>Values and, per element, Σ|terms| (the scale of the rounding error a float sum of them may carry).</summary>
    public sealed record Result(double[] Values, double[] Magnitudes, int[] Shape);

    /// <summary>PyTorch's output size, computed here on its own rather than taken from the engine.</summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation) =>
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;

    public static Result Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        int[] shape = OutputShape(x, w, stride, padding, dilation);
        float[] xs = x.ToArray(), ws = w.ToArray();
        float[]? bs = b?.ToArray();
        var values = new double[shape.Aggregate(1, (p, d) => p * d)];
        var magnitudes = new double[values.Length];
        int positions = shape[2] * shape[3];
        for (int yi = 0; yi < values.Length; yi++)
        {
            double bias = bs is null ? 0 : bs[yi / positions % shape[1]];
            values[yi] = bias;
            magnitudes[yi] = Math.Abs(bias);
        }
        ForEachTerm(x, w, stride, padding, dilation, (xi, wi, yi) =>
        {
            double term = (double)xs[xi] * ws[wi];
            values[yi] += term;
            magnitudes[yi] += Math.Abs(term);
        });
        return new Result(values, magnitudes, shape);
    }

    /// <summary>∂x[xi] = Σ over the terms that read x[xi] of ∂y·w.</summary>
    public static Result InputGradient(Tensor x, Tensor w, Tensor dy, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        float[] ws = w.ToArray(), dys = dy.ToArray();
        var values = new double[x.Count];
        var magnitudes = new double[x.Count];
        ForEachTerm(x, w, stride, padding, dilation, (xi, wi, yi) =>
        {
            double term = (double)dys[yi] * ws[wi];
            values[xi] += term;
            magnitudes[xi] += Math.Abs(term);
        });
        return new Result(values, magnitudes, x.Shape.ToArray());
    }

    /// <summary>∂w[wi] = Σ over the terms that use w[wi] of ∂y·x.</summary>
    public static Result WeightGradient(Tensor x, Tensor w, Tensor dy, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        float[] xs = x.ToArray(), dys = dy.ToArray();
        var values = new double[w.Count];
        var magnitudes = new double[w.Count];
        ForEachTerm(x, w, stride, padding, dilation, (xi, wi, yi) =>
        {
            double term = (double)dys[yi] * xs[xi];
            values[wi] += term;
            magnitudes[wi] += Math.Abs(term);
        });
        return new Result(values, magnitudes, w.Shape.ToArray());
    }

    /// <summary>∂b[o] = Σ_{n, oy, ox} ∂y[n, o, oy, ox].</summary>
    public static double[] BiasGradient(Tensor dy)
    {
        var result = new double[dy.Size(1)];
        for (int n = 0; n < dy.Size(0); n++)
        {
            for (int o = 0; o < dy.Size(1); o++)
            {
                for (int oy = 0; oy < dy.Size(2); oy++)
                {
                    for (int ox = 0; ox < dy.Size(3); ox++)
                    {
                        result[o] += dy[n, o, oy, ox];
                    }
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Asserts |actual − expected| ≤ 2e-5·Σ|terms| + 1e-6 element by element: a float sum of K terms is off by at
    /// most about K·6e-8 times Σ|terms|, and a wrong index or a missing term is off by a whole term.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> actual, Result expected, string what)
    {
        NUnit.Framework.Assert.That(actual.Length, NUnit.Framework.Is.EqualTo(expected.Values.Length), $"{what}: element count");
        for (int i = 0; i < actual.Length; i++)
        {
            double tolerance = 2e-5 * expected.Magnitudes[i] + 1e-6;
            if (Math.Abs(actual[i] - expected.Values[i]) > tolerance)
            {
                NUnit.Framework.Assert.Fail(
                    $"{what}: element {i} of shape {Shapes.Format(expected.Shape)} is {actual[i]}, expected {expected.Values[i]} ± {tolerance}");
            }
        }
    }

    private static int[] OutputShape(Tensor x, Tensor w, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation) =>
    [
        x.Size(0), w.Size(0),
        OutputSize(x.Size(2), w.Size(2), stride.H, padding.H, dilation.H),
        OutputSize(x.Size(3), w.Size(3), stride.W, padding.W, dilation.W),
    ];

    /// <summary>Calls <paramref name="visit"/>(x index, w index, y index) for every product term of the convolution sum.</summary>
    private static void ForEachTerm(Tensor x, Tensor w, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation,
        Action<int, int, int> visit)
    {
        int[] y = OutputShape(x, w, stride, padding, dilation);
        int batch = x.Size(0), channels = x.Size(1), height = x.Size(2), width = x.Size(3);
        int outChannels = w.Size(0), kh = w.Size(2), kw = w.Size(3);
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int oy = 0; oy < y[2]; oy++)
                {
                    for (int ox = 0; ox < y[3]; ox++)
                    {
                        int yi = ((n * outChannels + o) * y[2] + oy) * y[3] + ox;
                        for (int c = 0; c < channels; c++)
                        {
                            for (int ki = 0; ki < kh; ki++)
                            {
                                int iy = oy * stride.H - padding.H + ki * dilation.H;
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int ix = ox * stride.W - padding.W + kj * dilation.W;
                                    if (iy < 0 || iy >= height || ix < 0 || ix >= width)
                                    {
                                        continue; // zero padding: the term is 0
                                    }
                                    visit(((n * channels + c) * height + iy) * width + ix, ((o * channels + c) * kh + ki) * kw + kj, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
