using System.Globalization;
using System.Text;
using NeuralCore.Engine.Autodiff;

namespace NeuralCore.Engine;

/// <summary>
/// An n-dimensional array of float32 values: a shape and strides over a buffer that views share.
/// Operations on tensors that require a gradient are recorded on the current <see cref="Tape"/>, and
/// <see cref="Backward(Tensor?, bool)"/> sends the gradient back through them.
/// </summary>
/// <remarks>
/// The class is split by topic: this file holds the data layout, element access and the autodiff
/// entry points; <c>Tensor.Creation.cs</c>, <c>Tensor.Views.cs</c> and the op files hold the rest.
/// Each differentiable op sits beside its backward rule; <see cref="Derivatives"/> lists them all.
/// </remarks>
public sealed partial class Tensor
{
    // Every field counts: a training step allocates one Tensor per op result and nothing else, so this object's size
    // is the step's allocation (16 bytes of object header + these 32 = 48 bytes; docs/autodiff.md, "Memory of a step").

    // Where the values live: for a tensor that owns its buffer, the float[] itself (null once the tape that lent it
    // has taken it back); for a view, the tensor that owns the buffer it shares (never another view). So when the
    // owner's buffer goes back to the pool every view of it fails loudly too, with no storage object in between.
    private object? _memory;
    private readonly TensorLayout _layout;
    private readonly int _offset;

    // Null for a tensor that never required grad; a leaf's own holder (the flag and the gradient); or, for an op
    // result, the TapeEntry that made it. Entries are reused from step to step, so _step records the tape's step
    // number at the time: a result of a step that has ended is recognised and refused.
    private GradientHolder? _autograd;
    private int _step;

    /// <summary>A new tensor owning <paramref name="data"/> (not copied), laid out as <paramref name="layout"/>.</summary>
    internal Tensor(float[] data, TensorLayout layout)
    {
        _memory = data;
        _layout = layout;
    }

    /// <summary>A new contiguous tensor over <paramref name="data"/> (not copied).</summary>
    internal Tensor(float[] data, int[] shape)
        : this(data, TensorLayout.RowMajor(shape))
    {
    }

    /// <summary>A view: <paramref name="source"/>'s buffer seen through another layout and offset.</summary>
    internal Tensor(Tensor source, int offset, TensorLayout layout)
    {
        _memory = source._memory is Tensor owner ? owner : source;
        _offset = offset;
        _layout = layout;
    }

    /// <summary>A view: <paramref name="source"/>'s buffer seen with these shape, strides and offset.</summary>
    internal Tensor(Tensor source, int offset, int[] shape, int[] strides)
        : this(source, offset, new TensorLayout(shape, strides))
    {
    }

    /// <summary>The size of each axis, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _layout.Shape;

    /// <summary>How many buffer elements a step along each axis moves (0 on broadcast axes).</summary>
    public ReadOnlySpan<int> Strides => _layout.Strides;

    /// <summary>The number of axes (0 for a scalar).</summary>
    public int Rank => _layout.Shape.Length;

    /// <summary>The number of elements.</summary>
    public int Count => Shapes.Count(_layout.Shape);

    /// <summary>True when the elements lie row-major in one unbroken run of the buffer.</summary>
    public bool IsContiguous => Shapes.IsContiguous(_layout.Shape, _layout.Strides);

    /// <summary>The size of one axis; negative axes count from the end, as in PyTorch's <c>size(dim)</c>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public int Size(int axis) => ShapeArray[Shapes.NormalizeAxis(axis, Rank, "Size", ShapeArray)];

    /// <summary>The shape written as in the docs, e.g. <c>(32, 784)</c>.</summary>
    public string ShapeText => Shapes.Format(ShapeArray);

    internal int[] ShapeArray => _layout.Shape;

    internal int[] StrideArray => _layout.Strides;

    internal TensorLayout Layout => _layout;

    internal int Offset => _offset;

    /// <summary>The underlying buffer; throws if its tape has released it.</summary>
    internal float[] Buffer => OwnerMemory as float[] ?? throw Released();

    /// <summary>True once the tape that owned this tensor's buffer (its own, or its view's owner's) has taken it back.</summary>
    internal bool IsReleased => OwnerMemory is null;

    private object? OwnerMemory => _memory is Tensor owner ? owner._memory : _memory;

    /// <summary>Gives this tensor's own buffer back (to its tape's pool) and makes it, and every view of it, unusable.</summary>
    internal float[] ReleaseBuffer()
    {
        if (_memory is Tensor)
        {
            throw new InvalidOperationException("Tensor.ReleaseBuffer: a view does not own its buffer; release its owner.");
        }
        float[] buffer = Buffer;
        _memory = null;
        return buffer;
    }

    /// <summary>
    /// Gives a released tensor a new buffer. Only for the tape's private tensors (saved state, backward's temporary
    /// gradients, private results), which no user code can hold: a tensor a user may hold must stay released for good.
    /// </summary>
    internal void RebindBuffer(float[] buffer)
    {
        if (_memory is not null)
        {
            throw new InvalidOperationException("Tensor.RebindBuffer: the tensor still holds a buffer (or is a view); release it first.");
        }
        _memory = buffer;
    }

    private static InvalidOperationException Released() => new(
        "This tensor's memory was released when its tape was reset: results of a recorded step live until the next step " +
        "begins (or Tape.Reset()). Read what you need (Item(), ToArray()) before then, or compute it inside Tape.NoGrad().");

    /// <summary>
    /// The elements as a span over the buffer, for kernels, optimizers and data loading. Writes bypass the
    /// tape: never write to a tensor whose values a recorded op still needs for its backward.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is not contiguous (call <see cref="Contiguous"/>).</exception>
    public Span<float> AsSpan()
    {
        if (!IsContiguous)
        {
            throw new InvalidOperationException(
                $"AsSpan: the tensor of shape {ShapeText} with strides {Shapes.Format(StrideArray)} is not contiguous; call Contiguous() first.");
        }
        return Buffer.AsSpan(_offset, Count);
    }

    /// <summary>The elements in row-major order, as a new array.</summary>
    public float[] ToArray()
    {
        var result = new float[Count];
        CopyTo(result);
        return result;
    }

    /// <summary>Copies the elements, row-major, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="Count"/>.</exception>
    public void CopyTo(Span<float> destination)
    {
        int count = Count;
        if (destination.Length < count)
        {
            throw new ArgumentException($"CopyTo: destination has {destination.Length} elements, tensor {ShapeText} has {count}.");
        }
        Kernels.Strided.Gather(Buffer, _offset, ShapeArray, StrideArray, destination[..count]);
    }

    /// <summary>The value of a one-element tensor (any shape with one element).</summary>
    /// <exception cref="InvalidOperationException">The tensor has more or fewer than one element.</exception>
    public float Item()
    {
        if (Count != 1)
        {
            throw new InvalidOperationException($"Item: tensor of shape {ShapeText} has {Count} elements, expected exactly 1.");
        }
        return Buffer[_offset];
    }

    /// <summary>One element, by index along each axis (negative indices count from the end).</summary>
    /// <exception cref="ArgumentException">Wrong number of indices, or an index out of range.</exception>
    /// <exception cref="InvalidOperationException">Setting an element of a tensor that requires grad while recording.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params ReadOnlySpan<int> index]
    {
        get => Buffer[ElementOffset(index)];
        set
        {
            if (RequiresGrad && Tape.IsRecording)
            {
                throw new InvalidOperationException(
                    $"Setting an element of tensor {ShapeText} that requires grad would hide the change from the tape; do it inside Tape.NoGrad().");
            }
            Buffer[ElementOffset(index)] = value;
        }
    }

    private int ElementOffset(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
        {
            throw new ArgumentException($"Indexer: {index.Length} indices given for a tensor of shape {ShapeText}, expected {Rank}.");
        }
        int offset = _offset;
        for (int axis = 0; axis < index.Length; axis++)
        {
            int i = index[axis] < 0 ? index[axis] + ShapeArray[axis] : index[axis];
            if ((uint)i >= (uint)ShapeArray[axis])
            {
                throw new ArgumentException(
                    $"Indexer: index {index[axis]} is out of range for axis {axis} of size {ShapeArray[axis]} (shape {ShapeText}).");
            }
            offset += i * StrideArray[axis];
        }
        return offset;
    }

    // ---------------------------------------------------------------- autodiff

    /// <summary>
    /// Whether gradients flow to this tensor. Settable only on leaves (tensors no recorded op produced),
    /// as in PyTorch; op results require grad when any input does.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set on a tensor that an op produced.</exception>
    public bool RequiresGrad
    {
        get => _autograd is { RequiresGrad: true };
        set
        {
            if (!IsLeaf)
            {
                throw new InvalidOperationException(
                    $"RequiresGrad: tensor {ShapeText} was produced by '{OpName}'; only leaf tensors can change it (use Detach()).");
            }
            if (value)
            {
                _autograd ??= new GradientHolder();
            }
            if (_autograd is not null)
            {
                _autograd.RequiresGrad = value; // a leaf keeps its holder (and any gradient in it), as PyTorch keeps .grad
            }
        }
    }

    /// <summary>True for tensors that no recorded op produced: inputs and parameters.</summary>
    public bool IsLeaf => _autograd is not TapeEntry;

    /// <summary>
    /// The accumulated gradient, same shape as this tensor, after <see cref="Backward(Tensor?, bool)"/>:
    /// for leaves always, for op results only after <see cref="RetainGrad"/>. Null before any gradient arrived.
    /// </summary>
    /// <exception cref="InvalidOperationException">An op result whose step has ended (its memory and gradient are gone).</exception>
    public Tensor? Grad
    {
        get
        {
            if (_autograd is not TapeEntry)
            {
                return _autograd?.Gradient;
            }
            TapeEntry entry = CurrentEntry();
            return entry.RetainsGrad ? entry.Gradient : null;
        }
    }

    /// <summary>Keeps the gradient of this op result after backward (PyTorch's <c>retain_grad()</c>); nothing for a leaf.</summary>
    /// <exception cref="InvalidOperationException">An op result whose step has ended.</exception>
    public void RetainGrad()
    {
        if (!IsLeaf)
        {
            CurrentEntry().RetainsGrad = true;
        }
    }

    /// <summary>Sets the accumulated gradient to zero (keeps its buffer, so no allocation).</summary>
    public void ZeroGrad()
    {
        if (IsLeaf || _step == ((TapeEntry)_autograd!).Tape.StepNumber)
        {
            _autograd?.Gradient?.AsSpan().Clear();
        }
    }

    /// <summary>
    /// Backpropagates from this tensor through the ops recorded on its tape, accumulating (+=) into the
    /// <see cref="Grad"/> of every leaf that requires grad.
    /// </summary>
    /// <param name="gradient">∂L/∂this, the same shape as this tensor; may be omitted only for one-element tensors (then 1).</param>
    /// <param name="retainGraph">Keep the recorded ops so a second backward may pass through them.</param>
    /// <exception cref="InvalidOperationException">The tensor has no gradient history, or its graph was freed or reset.</exception>
    /// <exception cref="ArgumentException">The gradient's shape differs, or it is needed and missing.</exception>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
        {
            throw new InvalidOperationException(
                $"Backward: tensor {ShapeText} does not require grad; no input of the ops that made it had RequiresGrad = true (or it was made inside Tape.NoGrad()).");
        }
        if (gradient is null && Count != 1)
        {
            throw new ArgumentException(
                $"Backward: tensor {ShapeText} has {Count} elements; a gradient can be implied only for one-element outputs, so pass Backward(gradient) of shape {ShapeText}.");
        }
        if (gradient is not null && !Shapes.SameShape(gradient.ShapeArray, ShapeArray))
        {
            throw new ArgumentException($"Backward: gradient of shape {gradient.ShapeText} given for a tensor of shape {ShapeText}; expected the same shape.");
        }
        if (IsLeaf)
        {
            // Nothing was recorded: the gradient of a leaf with respect to itself is the seed.
            Tensor sink = GradientSink()!;
            Kernels.Elementwise.AddInPlace(sink.AsSpan(), SeedValues(gradient));
            return;
        }
        ((TapeEntry)_autograd!).Tape.Backward(this, gradient, retainGraph);
    }

    private static float[] SeedValues(Tensor? gradient)
    {
        if (gradient is not null)
        {
            return gradient.ToArray();
        }
        return [1f];
    }

    /// <summary>A tensor sharing this one's values with no gradient history (PyTorch's <c>detach()</c>).</summary>
    public Tensor Detach() => new(this, _offset, _layout);

    /// <summary>
    /// The accumulator a backward rule adds this tensor's gradient into: contiguous, this tensor's shape,
    /// zero at first; null when no gradient is needed here. A leaf keeps it for good; an op result's is rented from
    /// its tape and held by its entry until backward has used it.
    /// </summary>
    internal Tensor? GradientSink()
    {
        if (_autograd is not { RequiresGrad: true })
        {
            return null;
        }
        if (_autograd is TapeEntry)
        {
            TapeEntry entry = CurrentEntry();
            return entry.Gradient ??= entry.Tape.RentGradient(ShapeArray);
        }
        return _autograd.Gradient ??= new Tensor(new float[Count], ShapeArray);
    }

    // The entry that made this op result, which must belong to the tape's current step: once the step has ended the
    // entry holds another op, and this tensor's memory and gradient are gone.
    private TapeEntry CurrentEntry()
    {
        var entry = (TapeEntry)_autograd!;
        if (_step != entry.Tape.StepNumber)
        {
            throw Released();
        }
        return entry;
    }

    /// <summary>
    /// As <see cref="GradientSink"/>, for a backward rule that produces every element of this tensor's gradient in one
    /// pass: when the rule is the first to contribute, the buffer is handed over without being zeroed and
    /// <paramref name="overwrite"/> is true, so the rule stores its values (=) instead of adding them (+=), saving a
    /// pass that zeroes the buffer and a read of the zeros. Otherwise as <see cref="GradientSink"/>, with
    /// <paramref name="overwrite"/> false.
    /// </summary>
    internal Tensor? GradientSinkToOverwrite(out bool overwrite)
    {
        overwrite = false;
        if (_autograd is not { RequiresGrad: true })
        {
            return null;
        }
        if (_autograd is TapeEntry)
        {
            TapeEntry entry = CurrentEntry();
            if (entry.Gradient is null)
            {
                entry.Gradient = entry.Tape.RentGradient(ShapeArray, zeroed: false);
                overwrite = true;
            }
            return entry.Gradient;
        }
        if (_autograd.Gradient is null)
        {
            _autograd.Gradient = new Tensor(new float[Count], ShapeArray);
            overwrite = true;
        }
        return _autograd.Gradient;
    }

    /// <summary>The label of the op that made this tensor (for messages).</summary>
    private string OpName => _autograd is TapeEntry entry && _step == entry.Tape.StepNumber ? entry.Name : "<an op of an ended step>";

    internal Tape? RecordingTape => (_autograd as TapeEntry)?.Tape;

    /// <summary>The index of the entry that made this op result (meaningful only while <see cref="Step"/> is current).</summary>
    internal int EntryIndex => ((TapeEntry)_autograd!).Index;

    internal int Step => _step;

    /// <summary>Called by the tape when it records this tensor as the output of <paramref name="entry"/>.</summary>
    internal void MarkRecorded(TapeEntry entry, int step)
    {
        _autograd = entry;
        _step = step;
    }

    /// <summary>Makes a reused private header a plain tensor again (no gradient history).</summary>
    internal void ForgetHistory() => _autograd = null;

    // ---------------------------------------------------------------- printing

    /// <summary>Shape and values, PyTorch style; long axes show their first and last three entries.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("tensor(");
        if (IsReleased)
        {
            builder.Append("<released>");
        }
        else
        {
            Span<int> index = stackalloc int[Rank];
            AppendValues(builder, 0, index);
        }
        builder.Append(", shape=").Append(ShapeText);
        if (RequiresGrad)
        {
            builder.Append(IsLeaf ? ", requires_grad" : $", grad_fn={OpName}");
        }
        return builder.Append(')').ToString();
    }

    private void AppendValues(StringBuilder builder, int axis, Span<int> index)
    {
        if (axis == Rank)
        {
            builder.Append(this[index].ToString("G5", CultureInfo.InvariantCulture));
            return;
        }
        const int Edge = 3;
        int size = ShapeArray[axis];
        builder.Append('[');
        for (int i = 0; i < size; i++)
        {
            if (size > 2 * Edge && i == Edge)
            {
                builder.Append("..., ");
                i = size - Edge;
            }
            index[axis] = i;
            AppendValues(builder, axis + 1, index);
            if (i < size - 1)
            {
                builder.Append(", ");
            }
        }
        builder.Append(']');
    }
}
