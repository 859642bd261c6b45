using System.Globalization;
using NeuralCore.Engine;

namespace NeuralCore.Layers;

/// <summary>
/// Merges the axes from <see cref="StartDim"/> to <see cref="EndDim"/> into one (<c>torch.nn.Flatten</c>; by default
/// every axis but the batch axis: (N, C, H, W) → (N, C·H·W)). A view when the input is contiguous; differentiable.
/// </summary>
public sealed class Flatten : Module
{
    /// <summary>A layer flattening axes <paramref name="startDim"/> to <paramref name="endDim"/> (negative counts from the end).</summary>
    public Flatten(int startDim = 1, int endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    /// <summary>The first axis merged.</summary>
    public int StartDim { get; }

    /// <summary>The last axis merged.</summary>
    public int EndDim { get; }

    /// <summary>The input with axes StartDim..EndDim merged.</summary>
    /// <exception cref="ArgumentException">An axis is out of range for the input, or the start comes after the end.</exception>
    public override Tensor Forward(Tensor input)
    {
        int rank = input.Rank;
        int start = StartDim < 0 ? StartDim + rank : StartDim;
        int end = EndDim < 0 ? EndDim + rank : EndDim;
        if (rank == 0 && (start is 0 or -1) && (end is 0 or -1))
        {
            return input.Reshape(1);   // PyTorch flattens a scalar to (1)
        }
        if ((uint)start >= (uint)rank || (uint)end >= (uint)rank || start > end)
        {
            throw new ArgumentException($"{this}: input {input.ShapeText} has rank {rank}; the axes {StartDim}..{EndDim} are out of range or in the wrong order.");
        }
        if (start == end)
        {
            return input;
        }
        Span<int> shape = stackalloc int[rank - (end - start)]; // rank ≤ the input's, which is small
        int merged = 1;
        for (int axis = 0; axis < rank; axis++)
        {
            if (axis < start)
            {
                shape[axis] = input.Size(axis);
            }
            else if (axis <= end)
            {
                merged *= input.Size(axis);
            }
            else
            {
                shape[axis - (end - start)] = input.Size(axis);
            }
        }
        shape[start] = merged;
        return input.Reshape(shape);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Flatten({StartDim}, {EndDim})");
}
