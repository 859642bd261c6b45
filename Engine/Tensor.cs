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
    private readonly TensorStorage _storage;
    private readonly int _offset;
    private readonly int[] _shape;
    private readonly int[] _strides;

    private bool _requiresGrad;
    private bool _retainGrad;
    private Tensor? _grad;

    // Set when an op recorded this tensor as its output: the tape, the entry's index, and the tape's
    // step number at the time, so a tensor from a step that was reset is recognised.
    private Tape? _tape;
    private int _entryIndex = -1;
    private int _step;

    internal Tensor(TensorStorage storage, int offset, int[] shape, int[] strides)
    {
        _storage = storage;
        _offset = offset;
        _shape = shape;
        _strides = strides;
    }

    /// <summary>A new contiguous tensor over <paramref name="data"/> (not copied).</summary>
    internal Tensor(float[] data, int[] shape)
        : this(new TensorStorage(data), 0, shape, Shapes.ContiguousStrides(shape))
    {
    }

    /// <summary>The size of each axis, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>How many buffer elements a step along each axis moves (0 on broadcast axes).</summary>
    public ReadOnlySpan<int> Strides => _strides;

    /// <summary>The number of axes (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Count => Shapes.Count(_shape);

    /// <summary>True when the elements lie row-major in one unbroken run of the buffer.</summary>
    public bool IsContiguous => Shapes.IsContiguous(_shape, _strides);

    /// <summary>The size of one axis; negative axes count from the end, as in PyTorch's <c>size(dim)</c>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public int Size(int axis) => _shape[Shapes.NormalizeAxis(axis, Rank, "Size", _shape)];

    /// <summary>The shape written as in the docs, e.g. <c>(32, 784)</c>.</summary>
    public string ShapeText => Shapes.Format(_shape);

    internal int[] ShapeArray => _shape;

    internal int[] StrideArray => _strides;

    internal int Offset => _offset;

    internal TensorStorage Storage => _storage;

    /// <summary>The underlying buffer; throws if its tape has released it.</summary>
    internal float[] Buffer => _storage.Array;

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
                $"AsSpan: the tensor of shape {ShapeText} with strides {Shapes.Format(_strides)} is not contiguous; call Contiguous() first.");
        }
        return _storage.Array.AsSpan(_offset, Count);
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
        Kernels.Strided.Gather(_storage.Array, _offset, _shape, _strides, destination[..count]);
    }

    /// <summary>The value of a one-element tensor (any shape with one element).</summary>
    /// <exception cref="InvalidOperationException">The tensor has more or fewer than one element.</exception>
    public float Item()
    {
        if (Count != 1)
        {
            throw new InvalidOperationException($"Item: tensor of shape {ShapeText} has {Count} elements, expected exactly 1.");
        }
        return _storage.Array[_offset];
    }

    /// <summary>One element, by index along each axis (negative indices count from the end).</summary>
    /// <exception cref="ArgumentException">Wrong number of indices, or an index out of range.</exception>
    /// <exception cref="InvalidOperationException">Setting an element of a tensor that requires grad while recording.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params ReadOnlySpan<int> index]
    {
        get => _storage.Array[ElementOffset(index)];
        set
        {
            if (_requiresGrad && Tape.IsRecording)
            {
                throw new InvalidOperationException(
                    $"Setting an element of tensor {ShapeText} that requires grad would hide the change from the tape; do it inside Tape.NoGrad().");
            }
            _storage.Array[ElementOffset(index)] = value;
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
            int i = index[axis] < 0 ? index[axis] + _shape[axis] : index[axis];
            if ((uint)i >= (uint)_shape[axis])
            {
                throw new ArgumentException(
                    $"Indexer: index {index[axis]} is out of range for axis {axis} of size {_shape[axis]} (shape {ShapeText}).");
            }
            offset += i * _strides[axis];
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
        get => _requiresGrad;
        set
        {
            if (!IsLeaf)
            {
                throw new InvalidOperationException(
                    $"RequiresGrad: tensor {ShapeText} was produced by '{_tape!.OpName(_entryIndex)}'; only leaf tensors can change it (use Detach()).");
            }
            _requiresGrad = value;
        }
    }

    /// <summary>True for tensors that no recorded op produced: inputs and parameters.</summary>
    public bool IsLeaf => _tape is null;

    /// <summary>
    /// The accumulated gradient, same shape as this tensor, after <see cref="Backward(Tensor?, bool)"/>:
    /// for leaves always, for op results only after <see cref="RetainGrad"/>. Null before any gradient arrived.
    /// </summary>
    public Tensor? Grad => IsLeaf || _retainGrad ? _grad : null;

    /// <summary>Keeps the gradient of this op result after backward (PyTorch's <c>retain_grad()</c>).</summary>
    public void RetainGrad() => _retainGrad = true;

    /// <summary>Sets the accumulated gradient to zero (keeps its buffer, so no allocation).</summary>
    public void ZeroGrad() => _grad?.AsSpan().Clear();

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
        if (!_requiresGrad)
        {
            throw new InvalidOperationException(
                $"Backward: tensor {ShapeText} does not require grad; no input of the ops that made it had RequiresGrad = true (or it was made inside Tape.NoGrad()).");
        }
        if (gradient is null && Count != 1)
        {
            throw new ArgumentException(
                $"Backward: tensor {ShapeText} has {Count} elements; a gradient can be implied only for one-element outputs, so pass Backward(gradient) of shape {ShapeText}.");
        }
        if (gradient is not null && !Shapes.SameShape(gradient._shape, _shape))
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
        _tape!.Backward(this, gradient, retainGraph);
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
    public Tensor Detach() => new(_storage, _offset, _shape, _strides);

    /// <summary>
    /// The accumulator a backward rule adds this tensor's gradient into: contiguous, this tensor's shape,
    /// zero at first; null when no gradient is needed here.
    /// </summary>
    internal Tensor? GradientSink()
    {
        if (!_requiresGrad)
        {
            return null;
        }
        if (_grad is null)
        {
            _grad = IsLeaf
                ? new Tensor(new float[Count], _shape)
                : _tape!.RentGradient(_shape);
        }
        return _grad;
    }

    internal Tape? RecordingTape => _tape;

    internal int EntryIndex => _entryIndex;

    internal int Step => _step;

    internal bool RetainsGrad => _retainGrad;

    /// <summary>Called by the tape when it records this tensor as an op's output.</summary>
    internal void MarkRecorded(Tape tape, int entryIndex, int step)
    {
        _tape = tape;
        _entryIndex = entryIndex;
        _step = step;
        _requiresGrad = true;
    }

    /// <summary>Takes the temporary gradient of an op result (the tape returns it to its pool).</summary>
    internal Tensor? TakeGradient()
    {
        Tensor? grad = _grad;
        _grad = null;
        return grad;
    }

    internal Tensor? PeekGradient() => _grad;

    // ---------------------------------------------------------------- printing

    /// <summary>Shape and values, PyTorch style; long axes show their first and last three entries.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("tensor(");
        if (_storage.IsReleased)
        {
            builder.Append("<released>");
        }
        else
        {
            Span<int> index = stackalloc int[Rank];
            AppendValues(builder, 0, index);
        }
        builder.Append(", shape=").Append(ShapeText);
        if (_requiresGrad)
        {
            builder.Append(IsLeaf ? ", requires_grad" : $", grad_fn={_tape!.OpName(_entryIndex)}");
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
        int size = _shape[axis];
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
