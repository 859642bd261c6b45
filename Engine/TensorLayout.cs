namespace NeuralCore.Engine;

/// <summary>
/// A tensor's shape and strides, kept together so that a tensor holds one reference for both. Never mutated once a
/// tensor holds it, so tensors share layouts freely: the tape keeps one row-major layout per shape
/// (<see cref="Autodiff.ShapeCache"/>) for all of its results of that shape.
/// </summary>
/// <param name="shape">The size of each axis, outermost first.</param>
/// <param name="strides">How many buffer elements a step along each axis moves.</param>
internal sealed class TensorLayout(int[] shape, int[] strides)
{
    /// <summary>The size of each axis, outermost first. Never mutate it.</summary>
    public int[] Shape { get; } = shape;

    /// <summary>How many buffer elements a step along each axis moves (0 on broadcast axes). Never mutate it.</summary>
    public int[] Strides { get; } = strides;

    /// <summary>The row-major (contiguous) layout of <paramref name="shape"/>, which the layout then owns.</summary>
    public static TensorLayout RowMajor(int[] shape) => new(shape, Shapes.ContiguousStrides(shape));
}
