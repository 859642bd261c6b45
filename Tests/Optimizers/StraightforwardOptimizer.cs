namespace NeuralCore.Tests.Optimizers;

/// <summary>
/// The five algorithms written the plainest way, one element at a time, straight from PyTorch's algorithm boxes:
/// an independent cross-check of the optimizers (which share code and fused kernels) and of the fixture.
/// Hyperparameter scalars are rounded from double to float where PyTorch's tensor ops receive them, and
/// <c>Fma(a, x, y)</c> marks PyTorch's <c>y.add_(x, alpha=a)</c> and <c>addcmul_</c>, which its CPU kernels round once.
/// </summary>
internal sealed class StraightforwardOptimizer(string name, Dictionary<string, double> settings)
{
    private readonly Dictionary<int, (float[] A, float[] B, float[] C, int Step, bool HasBuffer)> _state = [];

    private static float Fma(float a, float x, float y) => MathF.FusedMultiplyAdd(a, x, y);

    /// <summary>Updates tensor number <paramref name="index"/> with its own learning rate and weight decay (its group's).</summary>
    public void Step(int index, float[] p, float[] grad, double lr, double weightDecay)
    {
        (float[] a, float[] b, float[] c, int step, bool hasBuffer) = _state.TryGetValue(index, out var s)
            ? s
            : (new float[p.Length], new float[p.Length], new float[p.Length], 0, false);
        step++;
        float wd = (float)weightDecay;
        double beta1 = settings.Get("beta1", name == "Adamax" ? 0.9 : 0.9), beta2 = settings.Get("beta2", 0.999);
        double eps = settings.Get("eps", 1e-8);
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i];
            switch (name)
            {
                case "Sgd":
                {
                    double momentum = settings.Get("momentum", 0);
                    g = Fma(wd, p[i], g);
                    if (momentum != 0)
                    {
                        // a = the momentum buffer, a copy of the first gradient
                        a[i] = hasBuffer ? Fma((float)(1 - settings.Get("dampening", 0)), g, a[i] * (float)momentum) : g;
                        g = settings.Get("nesterov", 0) == 1 ? Fma((float)momentum, a[i], g) : a[i];
                    }
                    p[i] = Fma((float)-lr, g, p[i]);
                    break;
                }
                case "Adam":
                case "AdamW":
                {
                    if (name == "Adam")
                    {
                        g = Fma(wd, p[i], g);
                    }
                    else
                    {
                        p[i] = p[i] * (float)(1 - lr * weightDecay);
                    }
                    a[i] = Fma((float)(1 - beta1), g, a[i] * (float)beta1);          // m
                    b[i] = Fma((float)(1 - beta2) * g, g, b[i] * (float)beta2);      // v
                    float second = b[i];
                    if (settings.Get("amsgrad", 0) == 1)
                    {
                        c[i] = Math.Max(c[i], b[i]);                              // running max of v
                        second = c[i];
                    }
                    double biasCorrection1 = 1 - Math.Pow(beta1, step);
                    double biasCorrection2 = 1 - Math.Pow(beta2, step);
                    float denominator = MathF.Sqrt(second) / (float)Math.Sqrt(biasCorrection2) + (float)eps;
                    p[i] = p[i] + (float)-(lr / biasCorrection1) * a[i] / denominator;
                    break;
                }
                case "Adamax":
                {
                    g = Fma(wd, p[i], g);
                    a[i] = Fma((float)(1 - beta1), g, a[i] * (float)beta1);
                    b[i] = Math.Max(b[i] * (float)beta2, Math.Abs(g) + (float)eps);
                    p[i] = p[i] + (float)-(lr / (1 - Math.Pow(beta1, step))) * a[i] / b[i];
                    break;
                }
                case "RmsProp":
                {
                    double alpha = settings.Get("alpha", 0.99), momentum = settings.Get("momentum", 0);
                    g = Fma(wd, p[i], g);
                    a[i] = Fma((float)(1 - alpha) * g, g, a[i] * (float)alpha);       // square_avg
                    float variance = a[i];
                    if (settings.Get("centered", 0) == 1)
                    {
                        c[i] = Fma((float)(1 - alpha), g, c[i] * (float)alpha);       // grad_avg
                        variance = Fma(-c[i], c[i], a[i]);
                    }
                    float denominator = MathF.Sqrt(variance) + (float)eps;
                    if (momentum > 0)
                    {
                        b[i] = b[i] * (float)momentum + g / denominator;           // momentum_buffer
                        p[i] = Fma((float)-lr, b[i], p[i]);
                    }
                    else
                    {
                        p[i] = p[i] + (float)-lr * g / denominator;
                    }
                    break;
                }
                default:
                    throw new ArgumentException(name);
            }
        }
        _state[index] = (a, b, c, step, true);
    }
}
