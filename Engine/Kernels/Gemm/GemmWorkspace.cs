using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// One thread's packing buffers: the packed A block (MC×KC), the packed B panel (KC×NC) and a scratch tile for
/// ragged edges. Each thread that runs GEMM work gets its own, once; the buffers only grow, so after the first
/// call of a given size a GEMM allocates nothing.
/// </summary>
/// <remarks>
/// The buffers live on the pinned object heap and start on a 64-byte boundary, so a packed row of B (16 floats,
/// 64 bytes, for the AVX2 kernel) never straddles two cache lines. Pinning is what makes the alignment last: a
/// pinned array never moves, so its address, read once, stays true.
/// </remarks>
internal sealed class GemmWorkspace
{
    private const int Alignment = CacheHint.LineBytes;

    [ThreadStatic]
    private static GemmWorkspace? s_current;

    private float[] _packedA = [];
    private int _packedAStart;
    private float[] _packedB = [];
    private int _packedBStart;
    private float[] _tile = [];
    private int _tileStart;

    /// <summary>The calling thread's workspace.</summary>
    public static GemmWorkspace Current => s_current ??= new GemmWorkspace();

    /// <summary>At least <paramref name="length"/> floats for packed A, 64-byte aligned.</summary>
    public ref float PackedA(int length) => ref Ensure(ref _packedA, ref _packedAStart, length);

    /// <summary>At least <paramref name="length"/> floats for packed B, 64-byte aligned.</summary>
    public ref float PackedB(int length) => ref Ensure(ref _packedB, ref _packedBStart, length);

    /// <summary>The packed-B buffer itself, for sharing with other threads: at least <paramref name="length"/> floats
    /// from <paramref name="start"/>, which is 64-byte aligned.</summary>
    public float[] PackedBArray(int length, out int start)
    {
        _ = Ensure(ref _packedB, ref _packedBStart, length);
        start = _packedBStart;
        return _packedB;
    }

    /// <summary>At least <paramref name="length"/> floats for one scratch C tile, 64-byte aligned.</summary>
    public ref float Tile(int length) => ref Ensure(ref _tile, ref _tileStart, length);

    private static ref float Ensure(ref float[] array, ref int start, int length)
    {
        if (array.Length - start < length)
        {
            // Uninitialized is safe: packing writes every element a micro-kernel reads, padding included.
            array = GC.AllocateUninitializedArray<float>(length + (Alignment / sizeof(float)), pinned: true);
            long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
            start = (int)((Alignment - (address % Alignment)) % Alignment) / sizeof(float);
        }
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), start);
    }
}
