namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// Sends an op's output gradient back to its inputs. Rules are static lambdas written right below the op's
/// forward code; they accumulate (+=) into the inputs' gradients through <see cref="TapeEntry.GradSink"/>
/// or <see cref="TapeEntry.AccumulateGrad"/>.
/// </summary>
/// <param name="entry">The recorded op: its inputs, output and whatever the forward saved.</param>
/// <param name="outputGrad">∂L/∂output: contiguous, the output's shape.</param>
internal delegate void BackwardRule(TapeEntry entry, Tensor outputGrad);

/// <summary>
/// One recorded op: a label, the inputs, the output, what the forward saved for backward, and the rule.
/// Entries are reused from step to step, so recording allocates nothing in steady state.
/// </summary>
/// <remarks>
/// The output points back at its entry (its <see cref="GradientHolder"/>): the entry holds the output's gradient
/// while backward runs, and whether the user asked to retain it, so the output tensor itself needs no room for either.
/// </remarks>
internal sealed class TapeEntry : GradientHolder
{
    private readonly Tape _tape;
    private Tensor[] _inputs = new Tensor[3];
    private int _inputCount;
    private BackwardRule? _rule;
    private Tensor? _output;
    private int[]? _ownedInts;

    internal TapeEntry(Tape tape, int index)
    {
        _tape = tape;
        Index = index;
        RequiresGrad = true; // an op is recorded only when an input requires grad, and then so does its output
    }

    /// <summary>This entry's position on its tape (fixed: an entry is reused at the same position every step).</summary>
    public int Index { get; }

    /// <summary>True when the user called <see cref="Tensor.RetainGrad"/> on the output: backward then keeps its gradient.</summary>
    public bool RetainsGrad { get; set; }

    /// <summary>The op's label, e.g. <c>matmul</c>; see <see cref="Derivatives"/> for every label and its rule.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The op's result.</summary>
    public Tensor Output => _output!;

    /// <summary>The number of inputs.</summary>
    public int InputCount => _inputCount;

    /// <summary>Input <paramref name="index"/>, in the order the op took them.</summary>
    public Tensor Input(int index) => _inputs[index];

    /// <summary>A tensor the forward kept for backward (e.g. a mask, the argmax indices, saved statistics).</summary>
    internal Tensor? Saved { get; set; }

    /// <summary>A second saved tensor.</summary>
    internal Tensor? Saved2 { get; set; }

    /// <summary>A scalar argument of the op (an exponent, a slope, a bound).</summary>
    internal float Scalar { get; set; }

    /// <summary>A second scalar argument.</summary>
    internal float Scalar2 { get; set; }

    /// <summary>Integer arguments (axes, a permutation, slice bounds); owned by the op, not copied.</summary>
    internal int[]? Ints { get; set; }

    /// <summary>
    /// Copies <paramref name="values"/> into an int array this entry owns and keeps from step to step (the
    /// entry is reused, so after the first step nothing is allocated), and sets <see cref="Ints"/> to it. For
    /// integer arguments an op would otherwise copy every step, e.g. cross-entropy's labels or a window geometry.
    /// </summary>
    internal void KeepInts(ReadOnlySpan<int> values)
    {
        if (_ownedInts is null || _ownedInts.Length != values.Length)
        {
            _ownedInts = new int[values.Length];
        }
        values.CopyTo(_ownedInts);
        Ints = _ownedInts;
    }

    /// <summary>Keeps a convolution or pooling window's geometry in <see cref="Ints"/> (read back with <see cref="Kernels.Window2d.FromInts"/>).</summary>
    internal void KeepWindow(in Kernels.Window2d window)
    {
        Span<int> ints = stackalloc int[Kernels.Window2d.IntCount];
        window.WriteInts(ints);
        KeepInts(ints);
    }

    /// <summary>True once backward went through this entry without retaining the graph.</summary>
    internal bool IsFreed => _rule is null;

    internal void Set(string name, BackwardRule rule, Tensor output)
    {
        Name = name;
        _rule = rule;
        _output = output;
        _inputCount = 0;
        RetainsGrad = false;
        Gradient = null;
    }

    internal void AddInput(Tensor input)
    {
        if (_inputCount == _inputs.Length)
        {
            Array.Resize(ref _inputs, _inputs.Length * 2);
        }
        _inputs[_inputCount++] = input;
    }

    internal void RunBackward(Tensor outputGrad) => _rule!(this, outputGrad);

    /// <summary>Drops the rule (so a second backward fails loudly) but keeps the label for messages.</summary>
    internal void Free() => _rule = null;

    /// <summary>Forgets everything so that the tensors it referenced can be collected.</summary>
    internal void Clear()
    {
        Array.Clear(_inputs, 0, _inputCount);
        _inputCount = 0;
        _rule = null;
        _output = null;
        Saved = null;
        Saved2 = null;
        Ints = null;
        RetainsGrad = false;
        Gradient = null; // its buffer went back to the pool with the step (Tape.Reset)
    }

    /// <summary>The tape this entry belongs to, for scratch memory in a backward rule.</summary>
    internal Tape Tape => _tape;

    /// <summary>
    /// The accumulator for input <paramref name="index"/>'s gradient (contiguous, the input's shape), or null
    /// when that input does not need one. Rules add into it; they never overwrite it.
    /// </summary>
    internal Tensor? GradSink(int index) => _inputs[index].GradientSink();

    /// <summary>
    /// As <see cref="GradSink"/>, for a rule that writes every element of input <paramref name="index"/>'s gradient:
    /// when <paramref name="overwrite"/> comes back true the buffer holds garbage and the rule must store (=) into
    /// every element instead of adding (see <see cref="Tensor.GradientSinkToOverwrite"/>).
    /// </summary>
    internal Tensor? GradSinkToOverwrite(int index, out bool overwrite) => _inputs[index].GradientSinkToOverwrite(out overwrite);

    /// <summary>True when input <paramref name="index"/> wants a gradient.</summary>
    internal bool NeedsGrad(int index) => _inputs[index].RequiresGrad;

    /// <summary>
    /// Adds a gradient computed in the output's (broadcast) shape into input <paramref name="index"/>, summing
    /// over the axes that broadcasting expanded. This is the one place where broadcasting is undone.
    /// </summary>
    /// <param name="index">Which input.</param>
    /// <param name="grad">The gradient, contiguous, in shape <paramref name="gradShape"/>.</param>
    /// <param name="gradShape">The shape <paramref name="grad"/> has: the input's shape broadcast to the op's.</param>
    internal void AccumulateGrad(int index, ReadOnlySpan<float> grad, ReadOnlySpan<int> gradShape)
    {
        Tensor? sink = GradSink(index);
        if (sink is null)
        {
            return;
        }
        Kernels.Reduction.SumToShape(grad, gradShape, sink.AsSpan(), sink.ShapeArray);
    }

    /// <summary>
    /// The chain rule for an elementwise op: <c>∂input += local ⊙ ∂y</c>, where <paramref name="local"/> is
    /// ∂y/∂input evaluated elementwise in the output's shape. Summed back to the input's shape if it was broadcast.
    /// </summary>
    internal void AccumulateProduct(int index, ReadOnlySpan<float> local, Tensor outputGrad)
    {
        Tensor? sink = GradSink(index);
        if (sink is null)
        {
            return;
        }
        ReadOnlySpan<float> dy = outputGrad.AsSpan();
        if (sink.Count == dy.Length)
        {
            Kernels.Elementwise.ZipAccumulate<Kernels.MultiplyOperator>(local, dy, sink.AsSpan());
            return;
        }
        using Scratch product = Scratch.Rent(dy.Length);
        System.Numerics.Tensors.TensorPrimitives.Multiply(local, dy, product.Span);
        Kernels.Reduction.SumToShape(product.Span, outputGrad.ShapeArray, sink.AsSpan(), sink.ShapeArray);
    }
}
