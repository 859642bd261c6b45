using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralCore.Engine.Kernels;

/// <summary>
/// Which columns of C the packed columns of one B panel stand for: in order, or rotated so that every full tile of C
/// starts on a cache line.
/// </summary>
/// <remarks>
/// <para>
/// A .NET array's elements start wherever the garbage collector put the array: a large one (on the large object heap)
/// 24 bytes into a cache line, six floats. With C's rows a multiple of 16 floats long, each 16-column tile row then
/// straddles two lines, and every line is shared by two tiles that the micro-kernel visits a whole row block apart.
/// At 2048³ that cost 0.7 % on one thread and 0.9 % on two against the same product with C 64-byte aligned (which is
/// how PyTorch allocates its tensors).
/// </para>
/// <para>
/// The rotation packs the panel's first <see cref="Lead"/> columns (those before the first line boundary) last: packed
/// column t stands for C's column <see cref="Physical"/>(t). Every sliver but one then covers a whole line of each row
/// of C; the one left over (<see cref="MergedSliver"/>) holds the body's last few columns and, after them, the lead,
/// and its tiles are stored in two pieces. The panel keeps its number of slivers, so no multiply-add is added. Each
/// element of C is still one lane's sum over the same slices in the same order, so the result is bitwise the same
/// as without the rotation.
/// </para>
/// </remarks>
internal readonly struct GemmPanelColumns
{
    /// <summary>
    /// The narrowest panel that rotates: at 1024 columns the merged sliver, whose tiles go through scratch and are
    /// stored in two pieces, is 1/64 of the tiles. Rotating every panel made 256³ 4 % slower on one thread and 15 % on
    /// two (each part of the split has a merged sliver), 512³ 1–2 %; from 1024 columns on it measured never slower
    /// (300×1024×1024 the same, 600×1024×600 0.6–0.8 % faster, 1024³ 0.3–0.8 %, 2048³ 0.2–0.6 % on one thread). Tests
    /// lower it.
    /// </summary>
    internal static int MinimumRotatedWidth { get; set; } = 1024;

    /// <summary>The panel's columns <paramref name="start"/>..start+width of C, the first <paramref name="lead"/> packed last.</summary>
    public GemmPanelColumns(int start, int width, int lead)
    {
        Start = start;
        Width = width;
        Lead = lead;
    }

    /// <summary>C's first column in the panel.</summary>
    public int Start { get; }

    /// <summary>Columns in the panel.</summary>
    public int Width { get; }

    /// <summary>Columns from <see cref="Start"/> on that are packed after all the others; 0 when none are.</summary>
    public int Lead { get; }

    /// <summary>Packed columns 0..Body stand for C's columns Start+Lead..Start+Width.</summary>
    public int Body => Width - Lead;

    /// <summary>C's column for packed column <paramref name="packed"/>.</summary>
    public int Physical(int packed) => packed < Body ? Start + Lead + packed : Start + packed - Body;

    /// <summary>The first packed column of the sliver that holds the lead (meaningful when <see cref="Lead"/> &gt; 0).</summary>
    public int MergedSliver(int nr) => Body / nr * nr;

    /// <summary>
    /// Floats from the last cache-line boundary to C's element [0, 0] when every row of C starts at the same place in a
    /// line (ldc a multiple of 16), else −1. Read once per call: the garbage collector may move C, and the packing and
    /// the multiplying of a panel must agree on its rotation (a move costs only speed, never the result).
    /// </summary>
    public static unsafe int Misalignment(in GemmProblem problem)
    {
        if (problem.Ldc % CacheHint.LineFloats != 0 || problem.C.Length == 0)
        {
            return -1;
        }
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(problem.C));
        return (int)(((address / sizeof(float)) + (nuint)problem.COffset) % CacheHint.LineFloats);
    }

    /// <summary>
    /// The columns of the panel <paramref name="start"/>..start+width, rotated when C's rows are misaligned by
    /// <paramref name="misalignment"/> (see <see cref="Misalignment"/>) and the lead fits in the last sliver beside the
    /// body's remainder, so that the number of slivers stays the same.
    /// </summary>
    public static GemmPanelColumns For<TKernel>(int misalignment, int start, int width)
        where TKernel : struct, IGemmMicroKernel
    {
        int nr = TKernel.Nr;
        if (misalignment < 0 || nr < 8 || width < Math.Max(2 * nr, MinimumRotatedWidth))
        {
            return new GemmPanelColumns(start, width, 0);
        }
        int granule = Math.Min(nr, CacheHint.LineFloats); // a tile starting on a multiple of this never straddles a line needlessly
        int lead = (granule - ((misalignment + start) % granule)) % granule;
        int tail = (width - lead) % nr;
        return new GemmPanelColumns(start, width, lead > 0 && tail + lead <= nr ? lead : 0);
    }
}
