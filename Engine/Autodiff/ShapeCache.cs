namespace NeuralCore.Engine.Autodiff;

/// <summary>
/// One tape's interned shapes: for every shape its results have had, one shared row-major <see cref="TensorLayout"/>,
/// and the idle headers of tape-private tensors of that shape (see <see cref="Tape.NewPrivate"/>).
/// </summary>
/// <remarks>
/// <para>
/// A training step makes the same few shapes over and over; without this every result would carry a new layout and
/// two new small arrays (its shape and its strides), about 90 bytes. Layouts are never mutated once a tensor holds
/// them (<see cref="Shapes"/>), so every tensor of one shape can share the same one.
/// </para>
/// <para>
/// Lookups take the shape as a span and allocate nothing (the dictionary's alternate lookup hashes the span's
/// contents). A program whose shapes keep changing would grow the cache without end, so it is emptied when it holds
/// <see cref="Capacity"/> shapes; arrays already handed out stay valid (they are immutable), and idle headers are
/// simply left to the garbage collector.
/// </para>
/// </remarks>
internal sealed class ShapeCache
{
    /// <summary>How many distinct shapes are kept before the cache starts over.</summary>
    public const int Capacity = 256;

    private readonly Dictionary<int[], Interned> _byShape = new(ShapeComparer.Instance);
    private readonly Dictionary<int[], Interned>.AlternateLookup<ReadOnlySpan<int>> _bySpan;

    public ShapeCache() => _bySpan = _byShape.GetAlternateLookup<ReadOnlySpan<int>>();

    /// <summary>The number of shapes held (for tests).</summary>
    public int Count => _byShape.Count;

    /// <summary>The interned record of <paramref name="shape"/>, made on first use.</summary>
    public Interned Get(ReadOnlySpan<int> shape)
    {
        if (_bySpan.TryGetValue(shape, out Interned? interned))
        {
            return interned;
        }
        if (_byShape.Count >= Capacity)
        {
            _byShape.Clear();
        }
        int[] key = shape.ToArray();
        interned = new Interned(TensorLayout.RowMajor(key));
        _byShape.Add(key, interned);
        return interned;
    }

    /// <summary>One shape's shared layout and the idle private headers of that shape.</summary>
    internal sealed class Interned(TensorLayout layout)
    {
        /// <summary>The shape with row-major strides; shared by every tensor of the tape with this shape.</summary>
        public TensorLayout Layout { get; } = layout;

        /// <summary>Headers of tape-private tensors of this shape whose buffer is released, waiting for reuse.</summary>
        public Stack<Tensor> IdleHeaders { get; } = new();
    }

    /// <summary>Compares shapes by content, as arrays or (for allocation-free lookups) as spans.</summary>
    private sealed class ShapeComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static readonly ShapeComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(int[] obj) => GetHashCode((ReadOnlySpan<int>)obj);

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var hash = default(HashCode);
            foreach (int size in alternate)
            {
                hash.Add(size);
            }
            return hash.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }
}
