using System.Buffers;

namespace NeuralCore.Engine;

/// <summary>
/// A temporary float buffer from <see cref="ArrayPool{T}.Shared"/>, returned when disposed:
/// <c>using Scratch s = Scratch.Rent(n);</c>. Kernels and backward rules use it for intermediates so that a
/// steady-state step allocates nothing.
/// </summary>
internal readonly ref struct Scratch
{
    private readonly float[]? _rented;

    private Scratch(float[]? rented, Span<float> span)
    {
        _rented = rented;
        Span = span;
    }

    /// <summary>The usable elements (exactly the length asked for; contents undefined).</summary>
    public Span<float> Span { get; }

    /// <summary>A buffer of <paramref name="length"/> floats with undefined contents.</summary>
    public static Scratch Rent(int length)
    {
        float[] array = ArrayPool<float>.Shared.Rent(length);
        return new Scratch(array, array.AsSpan(0, length));
    }

    /// <summary>A buffer of <paramref name="length"/> zeros.</summary>
    public static Scratch RentZeroed(int length)
    {
        Scratch scratch = Rent(length);
        scratch.Span.Clear();
        return scratch;
    }

    /// <summary>Wraps memory that is not rented (nothing is returned on dispose).</summary>
    public static Scratch Borrow(Span<float> span) => new(null, span);

    /// <summary>Gives the buffer back to the pool.</summary>
    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<float>.Shared.Return(_rented);
        }
    }
}
