using System.Globalization;
using NeuralCore.Engine;
using NeuralCore.Optimizers;

namespace NeuralCore.Tests.Optimizers;

/// <summary>Builds optimizers from the fixture's settings strings and feeds parameters their gradients.</summary>
internal static class OptimizerTestSupport
{
    public static Dictionary<string, double> ParseSettings(string settings) =>
        settings.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('='))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));

    public static double Get(this Dictionary<string, double> settings, string key, double fallback) =>
        settings.TryGetValue(key, out double value) ? value : fallback;

    /// <summary>The optimizer <paramref name="name"/> with PyTorch's defaults for every setting not given.</summary>
    public static Optimizer Create(string name, Dictionary<string, double> s, IEnumerable<ParameterGroup> groups) => name switch
    {
        "Sgd" => new Sgd(groups, s["lr"], s.Get("momentum", 0), s.Get("dampening", 0), s.Get("weight_decay", 0), s.Get("nesterov", 0) == 1),
        "Adam" => new Adam(groups, s["lr"], s.Get("beta1", 0.9), s.Get("beta2", 0.999), s.Get("eps", 1e-8), s.Get("weight_decay", 0), s.Get("amsgrad", 0) == 1),
        "AdamW" => new AdamW(groups, s["lr"], s.Get("beta1", 0.9), s.Get("beta2", 0.999), s.Get("eps", 1e-8), s.Get("weight_decay", 1e-2), s.Get("amsgrad", 0) == 1),
        "Adamax" => new Adamax(groups, s["lr"], s.Get("beta1", 0.9), s.Get("beta2", 0.999), s.Get("eps", 1e-8), s.Get("weight_decay", 0)),
        "RmsProp" => new RmsProp(groups, s["lr"], s.Get("alpha", 0.99), s.Get("eps", 1e-8), s.Get("weight_decay", 0), s.Get("momentum", 0), s.Get("centered", 0) == 1),
        _ => throw new ArgumentException($"unknown optimizer {name}"),
    };

    /// <summary>The fixture's network problem: weights [W1, W2] at the settings, biases [b1, b2] at half the lr (no weight decay if any is set).</summary>
    public static ParameterGroup[] NetworkGroups(Tensor[] parameters, Dictionary<string, double> settings)
    {
        var biases = new ParameterGroup([parameters[1], parameters[3]], "bias") { LearningRate = settings["lr"] / 2 };
        if (settings.ContainsKey("weight_decay"))
        {
            biases.WeightDecay = 0;
        }
        return [new ParameterGroup([parameters[0], parameters[2]], "weight"), biases];
    }

    /// <summary>Fresh leaf parameters holding the concatenated <paramref name="values"/>, cut to <paramref name="shapes"/>.</summary>
    public static Tensor[] Parameters(float[] values, int[][] shapes)
    {
        var result = new Tensor[shapes.Length];
        int offset = 0;
        for (int i = 0; i < shapes.Length; i++)
        {
            int count = shapes[i].Aggregate(1, (a, b) => a * b);
            result[i] = Tensor.FromArray(values.AsSpan(offset, count), shapes[i]).RequireGrad();
            offset += count;
        }
        return result;
    }

    /// <summary>Sets each parameter's gradient to its slice of the concatenated <paramref name="gradient"/>.</summary>
    public static void SetGradients(Tensor[] parameters, ReadOnlySpan<float> gradient)
    {
        int offset = 0;
        foreach (Tensor parameter in parameters)
        {
            SetGradient(parameter, gradient.Slice(offset, parameter.Count));
            offset += parameter.Count;
        }
    }

    /// <summary>Gives a leaf the gradient <paramref name="gradient"/> (the first time through Backward, which creates it).</summary>
    public static void SetGradient(Tensor parameter, ReadOnlySpan<float> gradient)
    {
        if (parameter.Grad is null)
        {
            parameter.Backward(Tensor.FromArray(gradient, parameter.Shape));
            return;
        }
        gradient.CopyTo(parameter.Grad.AsSpan());
    }

    public static float[] Concat(Tensor[] parameters) => [.. parameters.SelectMany(p => p.ToArray())];

    /// <summary>The quadratic's gradient a·(x − c), elementwise in float32 exactly as the script computes it.</summary>
    public static float[] QuadraticGradient(ReadOnlySpan<float> x)
    {
        var g = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            g[i] = OptimizerReferenceData.QuadraticA[i] * (x[i] - OptimizerReferenceData.QuadraticC[i]);
        }
        return g;
    }

    /// <summary>A deterministic, parameter-dependent gradient for runs that need no reference (state round trips).</summary>
    public static void SyntheticGradients(Tensor[] parameters, int step)
    {
        foreach (Tensor parameter in parameters)
        {
            float[] values = parameter.ToArray();
            var g = new float[values.Length];
            for (int i = 0; i < g.Length; i++)
            {
                g[i] = MathF.Sin(values[i] * 3f + i + step) + 0.1f * values[i];
            }
            SetGradient(parameter, g);
        }
    }

    /// <summary>|a − b| / max(|a|, |b|) over all elements (0 where both are 0).</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double scale = Math.Max(Math.Abs((double)actual[i]), Math.Abs((double)expected[i]));
            if (scale > 0)
            {
                worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]) / scale);
            }
        }
        return worst;
    }
}
