using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Layers;

/// <summary>
/// A layer with a <c>weight</c> (out, …) and an optional <c>bias</c> (out) whose weight can be reparameterized by
/// weight normalization: <see cref="Linear"/> and <see cref="Conv2d"/>. This base owns the parameters and the
/// switch between the plain form (<c>weight</c>) and the normalized one (<c>weight_g</c>, <c>weight_v</c>), the
/// diagnostics (<see cref="VNorms"/>, <see cref="EffectiveScale"/>), folding, and the hook for data-dependent init;
/// a subclass supplies only its plain forward, its fused forward and its input check.
/// </summary>
/// <remarks>
/// The math, with the weight seen as a matrix (out, rest) — (out, in) for Linear, (out, in·kh·kw) for Conv2d — is in
/// docs/weight-normalization.md. With <c>dim = 0</c> (the default) there is one <c>g</c> and one norm per output unit,
/// i.e. per row of that matrix.
/// </remarks>
public abstract class WeightNormalizableLayer : Module
{
    private readonly Tensor? _bias;
    private Tensor? _weight; // the plain parameter; null while normalized
    private Tensor? _g;      // weight_g, GShape(dim)
    private Tensor? _v;      // weight_v, the weight's shape
    private int? _dim;       // non-negative axis, or null for one norm over the whole tensor
    private WeightNormMode _mode;

    private bool _dataInitPending;
    private float _dataInitScale;
    private bool _dataInitResample;
    private RandomGenerator? _dataInitRandom;

    /// <summary>Registers <paramref name="weight"/> as <c>weight</c> and <paramref name="bias"/> (if any) as <c>bias</c>.</summary>
    /// <param name="weight">(out, …), rank ≥ 2.</param>
    /// <param name="bias">(out), or null.</param>
    /// <exception cref="ArgumentException">The weight has rank below 2, or the bias is not (out).</exception>
    protected WeightNormalizableLayer(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank < 2 || (bias is not null && (bias.Rank != 1 || bias.Size(0) != weight.Size(0))))
        {
            throw new ArgumentException(
                $"{GetType().Name}: weight {weight.ShapeText} and bias {bias?.ShapeText ?? "none"}; expected a weight (out, …) of rank ≥ 2 and a bias (out).");
        }
        _weight = RegisterParameter("weight", weight);
        _bias = bias is null ? null : RegisterParameter("bias", bias);
    }

    /// <summary>
    /// The weight (out, …) the layer applies. Plain: the <c>weight</c> parameter itself. Weight-normalized: a new
    /// tensor <c>g·v/‖v‖</c> computed without recording (for inspection and folding; not differentiable).
    /// </summary>
    public Tensor Weight
    {
        get
        {
            if (_weight is not null)
            {
                return _weight;
            }
            using (Tape.NoGrad())
            {
                return WeightNorm.Weight(_v!, _g!, _dim);
            }
        }
    }

    /// <summary>The <c>bias</c> parameter (out), or null.</summary>
    public Tensor? Bias => _bias;

    /// <summary>True while the weight is parameterized as <c>weight_g</c>, <c>weight_v</c>.</summary>
    public bool IsWeightNormalized => _v is not null;

    /// <summary>The <c>weight_g</c> parameter (one scale per slice along the dim; (out, 1) for dim 0), or null when plain.</summary>
    public Tensor? WeightG => _g;

    /// <summary>The <c>weight_v</c> parameter (the weight's shape), or null when plain.</summary>
    public Tensor? WeightV => _v;

    /// <summary>The normalized axis (non-negative), or null for one norm over the whole weight. Meaningful only when normalized.</summary>
    public int? WeightNormDim => _dim;

    /// <summary>
    /// Fused or unfused computation of a weight-normalized forward; settable at any time (the parameters are the
    /// same). Dims other than 0 and null always run unfused.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set while the layer is not weight-normalized.</exception>
    public WeightNormMode WeightNormMode
    {
        get => _mode;
        set
        {
            ThrowIfNotNormalized("set WeightNormMode");
            _mode = value;
        }
    }

    /// <summary>True when a forward takes the fused path (normalized, mode Fused, dim 0 or null).</summary>
    public bool UsesFusedWeightNorm => IsWeightNormalized && _mode == WeightNormMode.Fused && _dim is null or 0;

    /// <summary>
    /// Diagnostics: <c>‖v‖</c> per slice (per output unit for dim 0), a new 1-D tensor, read without recording. Under
    /// SGD it grows every step (the paper's self-stabilization; docs/weight-normalization.md).
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is not weight-normalized.</exception>
    public Tensor VNorms
    {
        get
        {
            ThrowIfNotNormalized("read VNorms");
            using (Tape.NoGrad())
            {
                return WeightNorm.Norm(_v!, _dim).Reshape(-1);
            }
        }
    }

    /// <summary>
    /// Diagnostics: <c>g/‖v‖</c> per slice, a new 1-D tensor: the factor that scales both the weight and the step an
    /// optimizer's update of <c>v</c> makes on the weight's direction (the effective learning-rate factor).
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is not weight-normalized.</exception>
    public Tensor EffectiveScale
    {
        get
        {
            ThrowIfNotNormalized("read EffectiveScale");
            using (Tape.NoGrad())
            {
                return (_g!.Reshape(-1) / WeightNorm.Norm(_v!, _dim).Reshape(-1)).Contiguous();
            }
        }
    }

    /// <summary>The number of output units (the weight's first axis).</summary>
    protected int OutputUnits => (_weight ?? _v!).Size(0);

    /// <inheritdoc/>
    /// <remarks>
    /// Runs the plain, fused or unfused path, as configured. While data-dependent init is pending
    /// (<see cref="DataDependentInit"/>), this call initializes the layer from <paramref name="input"/> first.
    /// </remarks>
    public sealed override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input);
        if (_dataInitPending)
        {
            return InitializeFromBatch(input);
        }
        return ForwardCurrent(input);
    }

    private Tensor ForwardCurrent(Tensor input)
    {
        if (_weight is not null)
        {
            return PlainForward(input, _weight, _bias);
        }
        if (UsesFusedWeightNorm)
        {
            return FusedForward(input, _v!, _g!, _bias);
        }
        // Unfused: w built on the tape from generic ops. Those results (‖v‖, g/‖v‖, w) feed only PlainForward's op and
        // never leave this layer, so they are tape-private: their headers are reused from step to step.
        Tensor weight;
        using (Tape.PrivateResults())
        {
            weight = WeightNorm.Weight(_v!, _g!, _dim);
        }
        return PlainForward(input, weight, _bias);
    }

    /// <summary>The plain layer with the given weight (out, …) and bias; differentiable in all three.</summary>
    protected abstract Tensor PlainForward(Tensor input, Tensor weight, Tensor? bias);

    /// <summary>
    /// The fused weight-normalized layer: <c>u = op(x, V)</c>, then <c>y = u·s + b</c> per output unit, with
    /// <c>s = g/‖v‖</c> (<paramref name="g"/> has one element per output unit, or one for dim = null).
    /// </summary>
    protected abstract Tensor FusedForward(Tensor input, Tensor v, Tensor g, Tensor? bias);

    /// <summary>Throws an ArgumentException naming the layer and the shapes when <paramref name="input"/> does not fit.</summary>
    protected abstract void CheckInput(Tensor input);

    /// <summary>The axis of the output that indexes output units (last for Linear, 1 for Conv2d's (N, C, H, W)).</summary>
    protected abstract int OutputUnitAxis(int outputRank);

    /// <summary>
    /// The ε in the data-dependent init <c>g ← init_scale/√(var[t] + ε)</c>: 1e-10, the reference code's value for dense
    /// layers (its conv layers use 1e-8; Conv2d overrides this).
    /// </summary>
    protected virtual float DataInitEpsilon => 1e-10f;

    // ---------------------------------------------------------------- switching weight norm on and off

    /// <summary>Throws when weight norm cannot be switched on with <paramref name="dim"/>.</summary>
    internal void CheckCanEnableWeightNorm(int? dim)
    {
        if (IsWeightNormalized)
        {
            throw new InvalidOperationException(
                $"{this}: weight norm is already applied (parameters weight_g {_g!.ShapeText}, weight_v {_v!.ShapeText}); call RemoveWeightNorm() first.");
        }
        WeightNorm.NormalizeDim(dim, _weight!.ShapeArray, ToString());
    }

    /// <summary>
    /// Replaces <c>weight</c> by <c>weight_g</c> and <c>weight_v</c> with <c>v = weight</c> (a copy) and
    /// <c>g = ‖v‖</c>, so the output is unchanged (to rounding).
    /// </summary>
    /// <exception cref="InvalidOperationException">Already weight-normalized.</exception>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is out of range for the weight.</exception>
    protected internal void EnableWeightNorm(int? dim, WeightNormMode mode)
    {
        CheckCanEnableWeightNorm(dim);
        int? axis = WeightNorm.NormalizeDim(dim, _weight!.ShapeArray, ToString());
        Tensor v = _weight.Copy();
        Tensor g;
        using (Tape.NoGrad())
        {
            g = Tensor.FromArray(WeightNorm.Norm(v, axis).ToArray(), WeightNorm.GShape(v.ShapeArray, axis)); // g = ‖v‖
        }
        UnregisterParameter("weight");
        _weight = null;
        _g = RegisterParameter("weight_g", g);
        _v = RegisterParameter("weight_v", v);
        _dim = axis;
        _mode = mode;
    }

    /// <summary>
    /// Folds <c>(g, v)</c> back into a plain <c>weight = g·v/‖v‖</c> parameter (outputs identical to rounding), e.g.
    /// before inference. Optimizers holding the old parameters must be rebuilt.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is not weight-normalized.</exception>
    public void RemoveWeightNorm()
    {
        ThrowIfNotNormalized("RemoveWeightNorm");
        Tensor weight = Weight.Copy();
        UnregisterParameter("weight_g");
        UnregisterParameter("weight_v");
        _g = null;
        _v = null;
        _dim = null;
        _weight = RegisterParameter("weight", weight);
    }

    private void ThrowIfNotNormalized(string action)
    {
        if (!IsWeightNormalized)
        {
            throw new InvalidOperationException($"{this}: cannot {action}: weight norm is not applied (call WithWeightNorm() first).");
        }
    }

    // ---------------------------------------------------------------- data-dependent init (paper §3)

    /// <summary>True between <see cref="BeginDataDependentInit"/> and the next forward.</summary>
    internal bool IsDataInitPending => _dataInitPending;

    /// <summary>
    /// Arms the data-dependent init: the next <see cref="Forward"/> initializes this layer from its input (see
    /// <see cref="InitializeFromBatch"/>) and returns the initialized output, so the layers after it see it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Weight-normalized with a dim other than 0 (one g per output unit is needed).</exception>
    internal void BeginDataDependentInit(float initScale, RandomGenerator random, bool resample)
    {
        if (IsWeightNormalized && _dim != 0)
        {
            throw new InvalidOperationException(
                $"{this}: data-dependent init sets one g per output unit, which needs weight norm with dim 0; this layer has dim {WeightNorm.Describe(_dim)}.");
        }
        _dataInitPending = true;
        _dataInitScale = initScale;
        _dataInitRandom = random;
        _dataInitResample = resample;
    }

    /// <summary>Disarms a pending init that no forward reached.</summary>
    internal void CancelDataDependentInit() => _dataInitPending = false;

    /// <summary>
    /// Paper §3: <c>v ~ N(0, 0.05²)</c> (if resampling), then with <c>g = 1</c>, <c>b = 0</c> the pre-activation
    /// <c>t = v·x/‖v‖</c> of this batch; per output unit <c>g ← init_scale/√(var[t] + ε)</c>,
    /// <c>b ← −μ[t]·g</c> (ε = <see cref="DataInitEpsilon"/>; statistics per output unit over every other axis of the
    /// output, e.g. over N, Ho, Wo for a Conv2d's channel). A plain layer does the same with <c>t = W·x</c> and scales the rows of
    /// <c>W</c> instead of <c>g</c>. Returns the output of the initialized layer: per unit, mean 0 and standard
    /// deviation init_scale on this batch (mean not removed when there is no bias).
    /// </summary>
    private Tensor InitializeFromBatch(Tensor input)
    {
        _dataInitPending = false;
        using (Tape.NoGrad())
        {
            Tensor direction = _weight ?? _v!; // (out, …)
            if (_dataInitResample)
            {
                _dataInitRandom!.FillNormal(direction.AsSpan(), 0f, 0.05f);
            }
            _g?.AsSpan().Fill(1f);
            _bias?.AsSpan().Clear();

            Tensor t = ForwardCurrent(input).Contiguous(); // t = v·x/‖v‖ (normalized) or W·x (plain)
            int units = OutputUnits;
            double[] mean = new double[units], variance = new double[units];
            UnitStatistics(t, OutputUnitAxis(t.Rank), mean, variance);

            Span<float> directionValues = direction.AsSpan();
            int rowLength = direction.Count / units;
            for (int j = 0; j < units; j++)
            {
                double scale = _dataInitScale / Math.Sqrt(variance[j] + DataInitEpsilon); // init_scale/√(var[t] + ε)
                if (_g is not null)
                {
                    _g.AsSpan()[j] = (float)scale;                                       // g ← init_scale/√(var[t] + ε)
                }
                else
                {
                    Span<float> row = directionValues.Slice(j * rowLength, rowLength);   // W_j ← W_j·init_scale/√(var[t] + ε)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(row, (float)scale, row);
                }
                if (_bias is not null)
                {
                    _bias.AsSpan()[j] = (float)(-mean[j] * scale);                       // b ← −μ[t]·g
                }
            }
            return ForwardCurrent(input);
        }
    }

    /// <summary>Per output unit (index along <paramref name="axis"/>): the mean and population variance of <paramref name="t"/>, in double.</summary>
    private static void UnitStatistics(Tensor t, int axis, double[] mean, double[] variance)
    {
        ReadOnlySpan<int> shape = t.Shape;
        int units = shape[axis], outer = 1, inner = 1;
        for (int a = 0; a < axis; a++)
        {
            outer *= shape[a];
        }
        for (int a = axis + 1; a < shape.Length; a++)
        {
            inner *= shape[a];
        }
        ReadOnlySpan<float> values = t.AsSpan();
        double count = (double)outer * inner;
        for (int pass = 0; pass < 2; pass++) // two passes: the mean, then the squared deviations from it
        {
            for (int o = 0; o < outer; o++)
            {
                for (int j = 0; j < units; j++)
                {
                    ReadOnlySpan<float> run = values.Slice((o * units + j) * inner, inner);
                    foreach (float value in run)
                    {
                        if (pass == 0)
                        {
                            mean[j] += value / count;
                        }
                        else
                        {
                            double d = value - mean[j];
                            variance[j] += d * d / count;
                        }
                    }
                }
            }
        }
    }
}
