namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// The record of one step's differentiable operations, and the owner of their memory.
/// </summary>
/// <remarks>
/// <para>
/// Every op whose inputs require grad appends one <see cref="TapeEntry"/>: its inputs, its output and the
/// rule that sends the output's gradient back. Entries are appended in execution order, which is already a
/// topological order, so <see cref="Backward"/> is a plain reverse loop: no recursion, no sorting.
/// </para>
/// <para>
/// The outputs of recorded ops, and the temporary gradients of backward, are rented from a pool of float
/// arrays that the tape keeps. A step's results live until the next step begins: the first op recorded after a
/// <c>Backward()</c> freed the graph (and that takes no input from the freed step) resets the tape, returning
/// every buffer of the previous step to the pool. So a steady-state training loop allocates almost no managed
/// memory, and a result read after its step ended fails loudly (its buffer is released; see <see cref="Tensor.IsReleased"/>).
/// </para>
/// <para>
/// The small objects follow one rule: a tensor a user can hold (a result, a retained gradient) is always new, and
/// only tensors private to the tape (what an op saves for its backward, backward's temporary gradients, results made
/// inside <see cref="PrivateResults"/>) reuse their headers from step to step. Layouts (shape and strides) are
/// interned per shape (<see cref="ShapeCache"/>). So a steady-state step allocates one <see cref="Tensor"/> (48 bytes)
/// per recorded result and nothing else (docs/autodiff.md, "Memory of a step").
/// </para>
/// <para>Each thread has its own tape (<see cref="Current"/>); tensors remember the tape that made them.</para>
/// </remarks>
public sealed class Tape
{
    [ThreadStatic]
    private static Tape? s_current;

    [ThreadStatic]
    private static int s_noGradDepth;

    [ThreadStatic]
    private static int s_privateResultsDepth;

    private readonly List<TapeEntry> _entries = [];
    private int _count;
    private readonly List<Tensor> _owned = [];
    private readonly Dictionary<int, Stack<float[]>> _pool = [];
    private readonly List<Tensor> _private = [];
    private readonly ShapeCache _shapes = new();
    private int _step;
    private int _privateResultCount;
    private bool _graphFreed;

    /// <summary>The tape that ops on this thread record onto.</summary>
    public static Tape Current => s_current ??= new Tape();

    /// <summary>False inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsRecording => s_noGradDepth == 0;

    /// <summary>
    /// A scope in which nothing is recorded (PyTorch's <c>torch.no_grad()</c>): results are ordinary tensors
    /// that do not require grad and are not owned by the tape. Use it for evaluation and parameter updates.
    /// </summary>
    /// <example><code>using (Tape.NoGrad()) { accuracy = Evaluate(model); }</code></example>
    public static NoGradScope NoGrad()
    {
        s_noGradDepth++;
        return new NoGradScope();
    }

    /// <summary>Ends a <see cref="NoGrad"/> scope when disposed.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        /// <summary>Leaves the scope.</summary>
        public void Dispose() => s_noGradDepth--;
    }

    /// <summary>
    /// A scope in which the results of recorded ops are tape-private, like what an op saves for its backward: their
    /// headers are reused from step to step instead of being new objects. For intermediates that a layer computes and
    /// consumes itself, which no caller can ever hold: the unfused weight norm's <c>‖v‖</c>, <c>g/‖v‖</c> and
    /// <c>w</c>, which feed the layer's own op and go nowhere else. Everything made inside must stay inside the layer:
    /// never return it, keep it past the step, or make a view of it (a view would outlive the reused header).
    /// </summary>
    internal static PrivateResultsScope PrivateResults()
    {
        s_privateResultsDepth++;
        return new PrivateResultsScope();
    }

    /// <summary>Ends a <see cref="PrivateResults"/> scope when disposed.</summary>
    internal readonly struct PrivateResultsScope : IDisposable
    {
        /// <summary>Leaves the scope.</summary>
        public void Dispose() => s_privateResultsDepth--;
    }

    /// <summary>How many ops are recorded in the current step.</summary>
    public int Count => _count;

    /// <summary>How many of this step's results were made inside <see cref="PrivateResults"/> (reused headers; for tests).</summary>
    internal int PrivateResultCount => _privateResultCount;

    /// <summary>Increments every time the tape is reset; tensors of an older step can no longer be used.</summary>
    public int StepNumber => _step;

    /// <summary>The number of float arrays waiting in the pool (for tests and diagnostics).</summary>
    public int PooledBufferCount
    {
        get
        {
            int count = 0;
            foreach (Stack<float[]> stack in _pool.Values)
            {
                count += stack.Count;
            }
            return count;
        }
    }

    /// <summary>The label of entry <paramref name="index"/>, e.g. <c>matmul</c>.</summary>
    public string OpName(int index) => index >= 0 && index < _count ? _entries[index].Name : "<reset>";

    /// <summary>The op labels in recording order, one per entry (to print or inspect a graph).</summary>
    public IEnumerable<string> OpNames()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return _entries[i].Name;
        }
    }

    /// <summary>
    /// Ends the step: forgets every entry and returns the buffers of its results and gradients to the pool.
    /// Tensors made by recorded ops of this step can no longer be read.
    /// </summary>
    public void Reset()
    {
        for (int i = 0; i < _count; i++)
        {
            _entries[i].Clear();
        }
        _count = 0;
        foreach (Tensor owned in _owned)
        {
            if (!owned.IsReleased)
            {
                Return(owned.ReleaseBuffer());
            }
        }
        _owned.Clear();
        foreach (Tensor saved in _private)
        {
            if (!saved.IsReleased)
            {
                Return(saved.ReleaseBuffer());
            }
            _shapes.Get(saved.ShapeArray).IdleHeaders.Push(saved);
        }
        _private.Clear();
        _privateResultCount = 0;
        _step++;
        _graphFreed = false;
    }

    /// <summary>
    /// The tape an op on these inputs records onto, or null when it records nothing (no input requires grad,
    /// or inside <see cref="NoGrad"/>). Starts a new step when the last one's graph was freed by backward.
    /// </summary>
    internal static Tape? ForInputs(Tensor a, Tensor? b = null, Tensor? c = null)
    {
        if (!IsRecording || !(a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false)))
        {
            return null;
        }
        Tape tape = Current;
        if (tape._graphFreed && !tape.OwnsAny(a, b, c))
        {
            tape.Reset();
        }
        return tape;
    }

    /// <summary>As <see cref="ForInputs(Tensor, Tensor?, Tensor?)"/>, for ops with any number of inputs.</summary>
    internal static Tape? ForInputs(ReadOnlySpan<Tensor> inputs)
    {
        if (!IsRecording)
        {
            return null;
        }
        bool any = false;
        foreach (Tensor input in inputs)
        {
            any |= input.RequiresGrad;
        }
        if (!any)
        {
            return null;
        }
        Tape tape = Current;
        if (tape._graphFreed)
        {
            bool owned = false;
            foreach (Tensor input in inputs)
            {
                owned |= tape.OwnsAny(input, null, null);
            }
            if (!owned)
            {
                tape.Reset();
            }
        }
        return tape;
    }

    private bool OwnsAny(Tensor a, Tensor? b, Tensor? c) =>
        IsFromThisStep(a) || (b is not null && IsFromThisStep(b)) || (c is not null && IsFromThisStep(c));

    private bool IsFromThisStep(Tensor t) => ReferenceEquals(t.RecordingTape, this) && t.Step == _step;

    /// <summary>
    /// Appends an entry: <paramref name="output"/> was computed from the inputs, and <paramref name="rule"/>
    /// sends its gradient back. Returns the entry so the op can save what its backward needs.
    /// </summary>
    internal TapeEntry Record(string name, Tensor output, BackwardRule rule, Tensor a, Tensor? b = null, Tensor? c = null)
    {
        TapeEntry entry = NextEntry();
        entry.Set(name, rule, output);
        entry.AddInput(a);
        if (b is not null)
        {
            entry.AddInput(b);
        }
        if (c is not null)
        {
            entry.AddInput(c);
        }
        output.MarkRecorded(entry, _step);
        return entry;
    }

    /// <summary>As <see cref="Record(string, Tensor, BackwardRule, Tensor, Tensor?, Tensor?)"/>, for any number of inputs.</summary>
    internal TapeEntry Record(string name, Tensor output, BackwardRule rule, ReadOnlySpan<Tensor> inputs)
    {
        TapeEntry entry = NextEntry();
        entry.Set(name, rule, output);
        foreach (Tensor input in inputs)
        {
            entry.AddInput(input);
        }
        output.MarkRecorded(entry, _step);
        return entry;
    }

    private TapeEntry NextEntry()
    {
        if (_count == _entries.Count)
        {
            _entries.Add(new TapeEntry(this, _count));
        }
        return _entries[_count++];
    }

    // ---------------------------------------------------------------- memory

    /// <summary>
    /// A tensor for an op's result whose buffer the tape owns until the step ends. Contents are undefined. The header
    /// is new (a user may keep the result past its step, and must then get an exception, never another step's values),
    /// except inside <see cref="PrivateResults"/>; its layout is the tape's interned one, shared by every result of
    /// that shape.
    /// </summary>
    internal Tensor NewResult(ReadOnlySpan<int> shape)
    {
        if (s_privateResultsDepth > 0)
        {
            _privateResultCount++;
            return NewPrivate(shape);
        }
        ShapeCache.Interned interned = _shapes.Get(shape);
        var result = new Tensor(Rent(Shapes.Count(interned.Layout.Shape)), interned.Layout);
        _owned.Add(result);
        return result;
    }

    /// <summary>
    /// A tape-private tensor: what an op saves for its own backward (softmax probabilities, u and the norms of
    /// weight norm, batch statistics, argmax indices) and never hands to anyone else. Contents are undefined. Its
    /// header is reused from step to step, so it must never escape the op that made it: not as a result, not as an
    /// input of another op, not through a view. The step's end gives it back.
    /// </summary>
    internal Tensor NewPrivate(ReadOnlySpan<int> shape)
    {
        Tensor tensor = RentHeader(shape);
        _private.Add(tensor);
        return tensor;
    }

    /// <summary>
    /// A zeroed tensor to accumulate an op result's gradient into. Backward's temporary gradients are private to
    /// the tape like <see cref="NewPrivate"/>, with one exception: the gradient of a result that asked for
    /// <see cref="Tensor.RetainGrad"/>, which the user reads through <see cref="Tensor.Grad"/>. So every gradient's buffer is
    /// registered as owned (a retained gradient is released with its step), and a header returns to the idle pool
    /// only through <see cref="ReleaseTemporary"/>, which backward never calls on a retained gradient.
    /// </summary>
    /// <remarks>
    /// <paramref name="zeroed"/> false skips the zeroing, for a caller that will overwrite every element (see
    /// <see cref="Tensor.GradientSinkToOverwrite"/>).
    /// </remarks>
    internal Tensor RentGradient(ReadOnlySpan<int> shape, bool zeroed = true)
    {
        Tensor grad = RentHeader(shape);
        _owned.Add(grad);
        if (zeroed)
        {
            grad.AsSpan().Clear();
        }
        return grad;
    }

    /// <summary>
    /// A private tensor for a backward rule's own intermediate (e.g. δ' = δ·s of weight norm, when a helper takes a
    /// tensor); contents undefined. Give it back with <see cref="ReleaseTemporary"/> in a <c>finally</c>.
    /// </summary>
    internal Tensor RentTemporary(ReadOnlySpan<int> shape) => RentHeader(shape);

    /// <summary>
    /// Gives back a temporary (<see cref="RentTemporary"/>) or an op result's gradient as soon as backward has used it:
    /// the buffer to the pool, the header to the idle headers of its shape. The caller guarantees that nothing else
    /// holds <paramref name="temporary"/> any more.
    /// </summary>
    internal void ReleaseTemporary(Tensor temporary)
    {
        if (!temporary.IsReleased)
        {
            Return(temporary.ReleaseBuffer());
        }
        _shapes.Get(temporary.ShapeArray).IdleHeaders.Push(temporary);
    }

    /// <summary>The tape's shared row-major layout for <paramref name="shape"/> (for views; never mutate its arrays).</summary>
    internal TensorLayout Intern(ReadOnlySpan<int> shape) => _shapes.Get(shape).Layout;

    // A private header of this shape: an idle one given a fresh buffer, or a new one the first time.
    private Tensor RentHeader(ReadOnlySpan<int> shape)
    {
        ShapeCache.Interned interned = _shapes.Get(shape);
        float[] buffer = Rent(Shapes.Count(interned.Layout.Shape));
        if (interned.IdleHeaders.TryPop(out Tensor? header))
        {
            header.RebindBuffer(buffer);
            header.ForgetHistory(); // it may have been a private result of an ended step
            return header;
        }
        return new Tensor(buffer, interned.Layout);
    }

    /// <summary>A scratch array of exactly <paramref name="length"/> floats (contents undefined); give it back with <see cref="Return"/>.</summary>
    internal float[] Rent(int length)
    {
        if (_pool.TryGetValue(length, out Stack<float[]>? stack) && stack.Count > 0)
        {
            return stack.Pop();
        }
        return new float[length];
    }

    /// <summary>Puts an array back in the pool for the next <see cref="Rent"/> of its length.</summary>
    internal void Return(float[] array)
    {
        if (!_pool.TryGetValue(array.Length, out Stack<float[]>? stack))
        {
            stack = new Stack<float[]>();
            _pool[array.Length] = stack;
        }
        stack.Push(array);
    }

    // ---------------------------------------------------------------- backward

    /// <summary>
    /// Reverse-mode sweep from <paramref name="root"/>: seeds its gradient, then walks the entries backwards from
    /// the one that produced it, calling each rule whose output received a gradient.
    /// </summary>
    internal void Backward(Tensor root, Tensor? seed, bool retainGraph)
    {
        if (root.Step != _step || root.EntryIndex >= _count)
        {
            throw new InvalidOperationException(
                $"Backward: tensor {root.ShapeText} belongs to a step that has ended (the tape was reset when the next step began); " +
                "its graph and memory are gone.");
        }
        int last = root.EntryIndex;
        if (_entries[last].IsFreed)
        {
            throw new InvalidOperationException(
                $"Backward: the graph behind tensor {root.ShapeText} (made by '{_entries[last].Name}') was already freed by an earlier Backward(); " +
                "pass retainGraph: true to the first call to go through it twice.");
        }

        Tensor rootGrad = root.GradientSink()!;
        if (seed is null)
        {
            rootGrad.AsSpan().Fill(1f);
        }
        else
        {
            seed.CopyTo(rootGrad.AsSpan());
        }

        try
        {
            for (int i = last; i >= 0; i--)
            {
                TapeEntry entry = _entries[i];
                Tensor? outputGrad = entry.Gradient;
                if (outputGrad is null)
                {
                    continue; // not on a path from the root
                }
                if (entry.IsFreed)
                {
                    throw new InvalidOperationException(
                        $"Backward: reached '{entry.Name}' (output {entry.Output.ShapeText}), whose graph an earlier Backward() freed; " +
                        "pass retainGraph: true to the first call to go through it twice.");
                }
                entry.RunBackward(outputGrad);
                if (!entry.RetainsGrad)
                {
                    ReleaseTemporary(outputGrad);
                    entry.Gradient = null;
                }
                if (!retainGraph)
                {
                    entry.Free();
                }
            }
        }
        catch
        {
            // A rule that throws leaves gradients half-propagated; continuing this step would re-run stale
            // entries on the next backward. Abandon the step instead, so the failure stays where it happened.
            Reset();
            throw;
        }
        if (!retainGraph)
        {
            _graphFreed = true;
        }
    }
}
