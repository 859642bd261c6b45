namespace NeuralCore.Benchmarks.Data;

/// <summary>
/// The contents of an IDX image file: <paramref name="Count"/> grey-scale images of
/// <paramref name="Rows"/> × <paramref name="Columns"/> unsigned bytes, stored image after image, row-major
/// (shape (Count, Rows, Columns)).
/// </summary>
/// <param name="Count">The number of images.</param>
/// <param name="Rows">The height of each image in pixels.</param>
/// <param name="Columns">The width of each image in pixels.</param>
/// <param name="Pixels">Count × Rows × Columns bytes, 0 (background) to 255.</param>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);
