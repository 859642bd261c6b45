namespace NeuralCore.Engine;

/// <summary>
/// The buffer a tensor and all of its views read and write. A tape that owns the buffer takes it
/// back when the step ends (<see cref="Autodiff.Tape.Reset"/>); every view of it then fails loudly
/// instead of reading recycled memory.
/// </summary>
internal sealed class TensorStorage
{
    private float[]? _array;

    public TensorStorage(float[] array) => _array = array;

    /// <summary>True once the owning tape has taken the buffer back.</summary>
    public bool IsReleased => _array is null;

    public float[] Array => _array ?? throw new InvalidOperationException(
        "This tensor's memory was released when its tape was reset: results of a recorded step live until the next step " +
        "begins (or Tape.Reset()). Read what you need (Item(), ToArray()) before then, or compute it inside Tape.NoGrad().");

    /// <summary>Gives the buffer back (to the tape's pool) and makes the storage unusable.</summary>
    public float[] Release()
    {
        float[] array = Array;
        _array = null;
        return array;
    }

    /// <summary>
    /// Gives a released storage a new buffer. Only for the tape's private tensors (saved state and backward's
    /// temporary gradients), which no user code can hold: a tensor a user may hold must stay released for good.
    /// </summary>
    public void Rebind(float[] array)
    {
        if (_array is not null)
        {
            throw new InvalidOperationException("TensorStorage.Rebind: the storage still holds a buffer; release it first.");
        }
        _array = array;
    }
}
