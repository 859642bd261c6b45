using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// Data-dependent initialization (Salimans &amp; Kingma 2016, §3) of a whole model from one batch: every Linear and
/// Conv2d (weight-normalized with dim 0, or plain) gets <c>v ~ N(0, 0.05²)</c> and then <c>g</c> and <c>b</c> such that
/// each of its output units has mean 0 and standard deviation <c>init_scale</c> on that batch — measured on the
/// outputs of the layers before it <em>after</em> they were initialized.
/// </summary>
/// <remarks>
/// <para>
/// How: every eligible layer is armed, then the model's <see cref="Module.Forward"/> runs once, without recording.
/// Layers run in the order the model calls them, so when an armed layer is reached its input already comes from the
/// initialized layers before it; it draws <c>v</c>, computes <c>t = v·x/‖v‖</c> (with <c>g = 1</c>, <c>b = 0</c>),
/// sets <c>g ← init_scale/√(var[t] + ε)</c>, <c>b ← −μ[t]·g</c> (ε = 1e-10 for Linear and 1e-8 for Conv2d, the
/// reference code's values for dense and convolutional layers; a Conv2d's statistics are per output channel over N, Ho
/// and Wo), and passes its new output on (<see cref="WeightNormalizableLayer"/>.InitializeFromBatch). This works for
/// any model whose forward calls its layers once each, whatever its structure, and never reads stale statistics.
/// </para>
/// <para>
/// A plain layer (the paper's baseline) gets the same treatment with <c>t = W·x</c>: its weight rows are scaled by
/// <c>init_scale/√(var[t] + ε)</c> instead of <c>g</c>. The forward runs in the model's current mode: put it in
/// <see cref="Module.Eval"/> first if dropout or noise should not take part (the reference code keeps them).
/// </para>
/// </remarks>
public static class DataDependentInit
{
    /// <summary>Initializes every Linear/Conv2d of <paramref name="model"/> from <paramref name="batch"/> (see the remarks).</summary>
    /// <param name="model">The model; its Forward must take <paramref name="batch"/>.</param>
    /// <param name="batch">One minibatch of inputs (the reference CIFAR script uses 500 examples).</param>
    /// <param name="initScale">The standard deviation each unit's pre-activation gets (the reference code's init_scale).</param>
    /// <param name="random">Draws <c>v</c>; <see cref="Init.DefaultGenerator"/> when null.</param>
    /// <param name="resample">Draw <c>v</c> (or a plain W) from N(0, 0.05²) first, as the paper; false keeps the current directions.</param>
    /// <returns>The number of layers initialized.</returns>
    /// <exception cref="ArgumentException">The model has no Linear or Conv2d layer, or <paramref name="initScale"/> is not positive and finite.</exception>
    /// <exception cref="InvalidOperationException">
    /// A layer is weight-normalized with a dim other than 0 (nothing is changed), or the model's forward did not reach
    /// some layer (the message names them; the layers it reached are initialized).
    /// </exception>
    public static int Apply(Module model, Tensor batch, float initScale = 1f, RandomGenerator? random = null, bool resample = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (!(initScale > 0) || !float.IsFinite(initScale))
        {
            throw new ArgumentException($"DataDependentInit on {model}: initScale {initScale}; expected a positive finite number.");
        }
        var layers = new List<WeightNormalizableLayer>();
        foreach (KeyValuePair<string, Module> named in model.NamedModules())
        {
            if (named.Value is WeightNormalizableLayer layer)
            {
                layers.Add(layer);
            }
        }
        if (layers.Count == 0)
        {
            throw new ArgumentException($"DataDependentInit on {model}: the model has no Linear or Conv2d layer to initialize.");
        }

        try
        {
            foreach (WeightNormalizableLayer layer in layers)
            {
                layer.BeginDataDependentInit(initScale, random ?? Init.DefaultGenerator, resample);
            }
            using (Tape.NoGrad())
            {
                model.Forward(batch);
            }
            var missed = new List<string>();
            foreach (KeyValuePair<string, Module> named in model.NamedModules())
            {
                if (named.Value is WeightNormalizableLayer { IsDataInitPending: true } layer)
                {
                    missed.Add($"{(named.Key.Length == 0 ? "(model)" : named.Key)} {layer}");
                }
            }
            if (missed.Count > 0)
            {
                throw new InvalidOperationException(
                    $"DataDependentInit on {model}: the forward pass never called {string.Join(", ", missed)}, so they were not initialized.");
            }
        }
        finally
        {
            foreach (WeightNormalizableLayer layer in layers)
            {
                layer.CancelDataDependentInit();
            }
        }
        return layers.Count;
    }
}
