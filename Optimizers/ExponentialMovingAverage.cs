using System.Linq;
using NeuralCore.Engine;
using NeuralCore.Optimizers.Kernels;

namespace NeuralCore.Optimizers;

/// <summary>
/// Polyak averaging with exponential weights: keeps <c>θ̄ ← δ·θ̄ + (1 − δ)·θ</c> for each parameter θ, and swaps the
/// averages into the parameters for evaluation. The paper's VAE was trained with Adamax and Polyak averaging.
/// </summary>
/// <remarks>
/// <para>
/// The averages start as copies of the parameters. Call <see cref="Update"/> after each <see cref="Optimizer.Step"/>.
/// <see cref="SwapIn"/> exchanges the contents of each parameter and its average (no extra memory), so the model
/// evaluates with the averaged weights; <see cref="SwapOut"/> (or disposing the returned scope) exchanges them back.
/// </para>
/// <para>
/// δ may change between updates: setting <c>Decay = t / (t + 1)</c> before the t-th update (t from 0) gives the
/// equal-weight running mean of all iterates (Polyak and Juditsky's average).
/// </para>
/// </remarks>
/// <example><code>
/// var average = new ExponentialMovingAverage(parameters, decay: 0.999);
/// // training: optimizer.Step(); average.Update();
/// using (average.SwapIn())
/// {
///     Evaluate(model);
/// }
/// </code></example>
public sealed class ExponentialMovingAverage
{
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _averages;
    private long _updates;

    /// <summary>Averages of <paramref name="parameters"/>, starting equal to them.</summary>
    /// <param name="parameters">The tensors to average (contiguous, each at most once).</param>
    /// <param name="decay">δ in [0, 1], default 0.999.</param>
    /// <exception cref="ArgumentException">δ is out of range, or a parameter is repeated or not contiguous.</exception>
    public ExponentialMovingAverage(IEnumerable<Tensor> parameters, double decay = 0.999)
    {
        _parameters = [.. parameters];
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Tensor parameter in _parameters)
        {
            if (!seen.Add(parameter) || !parameter.IsContiguous)
            {
                throw new ArgumentException(
                    $"ExponentialMovingAverage: a parameter of shape {parameter.ShapeText} is repeated or not contiguous; each must appear once, contiguous.",
                    nameof(parameters));
            }
        }
        _averages = [.. _parameters.Select(p => p.Copy())];
        Decay = decay;
        Check.UnitInterval(nameof(ExponentialMovingAverage), "decay", decay);
    }

    /// <summary>δ, the weight of the old average.</summary>
    public double Decay { get; set; }

    /// <summary>How many times <see cref="Update"/> has run.</summary>
    public long UpdateCount => _updates;

    /// <summary>True between <see cref="SwapIn"/> and <see cref="SwapOut"/>: the parameters hold the averages.</summary>
    public bool IsSwappedIn { get; private set; }

    /// <summary>The averages, one per parameter, in order (while swapped in, these hold the live values).</summary>
    public IReadOnlyList<Tensor> Averages => _averages;

    /// <summary>Moves each average toward its parameter: <c>θ̄ ← δ·θ̄ + (1 − δ)·θ</c>, one fused pass each.</summary>
    /// <exception cref="InvalidOperationException">The averages are swapped in.</exception>
    /// <exception cref="ArgumentException">δ is out of range.</exception>
    public void Update()
    {
        ThrowIfSwappedIn(nameof(Update));
        Check.UnitInterval(nameof(ExponentialMovingAverage), "decay", Decay);
        float decay = (float)Decay;
        float oneMinusDecay = (float)(1 - Decay);
        for (int i = 0; i < _parameters.Length; i++)
        {
            AveragingKernel.Update(_averages[i].AsSpan(), _parameters[i].AsSpan(), decay, oneMinusDecay);
        }
        _updates++;
    }

    /// <summary>Puts the averages into the parameters (and keeps the live values aside) until <see cref="SwapOut"/>.</summary>
    /// <returns>A scope whose disposal calls <see cref="SwapOut"/>, for <c>using (average.SwapIn()) { ... }</c>.</returns>
    /// <exception cref="InvalidOperationException">Already swapped in.</exception>
    public SwapScope SwapIn()
    {
        ThrowIfSwappedIn(nameof(SwapIn));
        Swap();
        IsSwappedIn = true;
        return new SwapScope(this);
    }

    /// <summary>Restores the live values into the parameters.</summary>
    /// <exception cref="InvalidOperationException">Not swapped in.</exception>
    public void SwapOut()
    {
        if (!IsSwappedIn)
        {
            throw new InvalidOperationException("ExponentialMovingAverage.SwapOut: the averages are not swapped in.");
        }
        Swap();
        IsSwappedIn = false;
    }

    /// <summary>A copy of the averages (<c>average.{i}</c>), δ and the update count.</summary>
    /// <exception cref="InvalidOperationException">The averages are swapped in.</exception>
    public TrainingState StateDict()
    {
        ThrowIfSwappedIn(nameof(StateDict));
        var state = new TrainingState(nameof(ExponentialMovingAverage));
        state.Scalars["decay"] = Decay;
        state.Scalars["updates"] = _updates;
        for (int i = 0; i < _averages.Length; i++)
        {
            state.Tensors[$"average.{i}"] = _averages[i].Copy();
        }
        return state;
    }

    /// <summary>Restores a state from <see cref="StateDict"/> over parameters of the same shapes.</summary>
    /// <exception cref="ArgumentException">Another kind of state, another number of averages, or a shape mismatch.</exception>
    /// <exception cref="InvalidOperationException">The averages are swapped in.</exception>
    public void LoadStateDict(TrainingState state)
    {
        const string Op = "ExponentialMovingAverage.LoadStateDict";
        ThrowIfSwappedIn(nameof(LoadStateDict));
        if (state.Kind != nameof(ExponentialMovingAverage))
        {
            throw new ArgumentException($"{Op}: the state was written by {state.Kind}, expected ExponentialMovingAverage.", nameof(state));
        }
        if (state.Tensors.Count != _averages.Length)
        {
            throw new ArgumentException($"{Op}: the state has {state.Tensors.Count} averages, expected {_averages.Length}.", nameof(state));
        }
        double decay = state.Scalar("decay", nameof(ExponentialMovingAverage));
        double updates = state.Scalar("updates", nameof(ExponentialMovingAverage));
        Check.UnitInterval(nameof(ExponentialMovingAverage), "decay", decay);
        var saved = new Tensor[_averages.Length];
        for (int i = 0; i < saved.Length; i++)
        {
            if (!state.Tensors.TryGetValue($"average.{i}", out Tensor? tensor) || !tensor.Shape.SequenceEqual(_averages[i].Shape))
            {
                throw new ArgumentException(
                    $"{Op}: 'average.{i}' is missing or has shape {tensor?.ShapeText ?? "-"}, expected {_averages[i].ShapeText}.", nameof(state));
            }
            saved[i] = tensor;
        }
        for (int i = 0; i < saved.Length; i++)
        {
            saved[i].CopyTo(_averages[i].AsSpan());
        }
        Decay = decay;
        _updates = (long)updates;
    }

    private void Swap()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            AveragingKernel.Swap(_parameters[i].AsSpan(), _averages[i].AsSpan());
        }
    }

    private void ThrowIfSwappedIn(string operation)
    {
        if (IsSwappedIn)
        {
            throw new InvalidOperationException(
                $"ExponentialMovingAverage.{operation}: the averages are swapped into the parameters; call SwapOut() first.");
        }
    }

    /// <summary>Swaps the live values back when disposed.</summary>
    public readonly struct SwapScope : IDisposable
    {
        private readonly ExponentialMovingAverage? _owner;

        internal SwapScope(ExponentialMovingAverage owner) => _owner = owner;

        /// <summary>Calls <see cref="SwapOut"/> if still swapped in.</summary>
        public void Dispose()
        {
            if (_owner is { IsSwappedIn: true })
            {
                _owner.SwapOut();
            }
        }
    }
}
