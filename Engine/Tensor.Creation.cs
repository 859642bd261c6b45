namespace NeuralCore.Engine;

public sealed partial class Tensor
{
    /// <summary>A tensor of zeros; <c>Tensor.Zeros(2, 3)</c> has shape (2, 3), <c>Tensor.Zeros()</c> is a scalar.</summary>
    /// <exception cref="ArgumentException">A size is negative or the element count overflows.</exception>
    public static Tensor Zeros(params ReadOnlySpan<int> shape)
    {
        int[] owned = shape.ToArray();
        return new Tensor(new float[Shapes.Count(owned, "Zeros")], owned);
    }

    /// <summary>A tensor of ones.</summary>
    /// <exception cref="ArgumentException">A size is negative or the element count overflows.</exception>
    public static Tensor Ones(params ReadOnlySpan<int> shape) => Full(1f, shape);

    /// <summary>A tensor with every element equal to <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">A size is negative or the element count overflows.</exception>
    public static Tensor Full(float value, params ReadOnlySpan<int> shape)
    {
        Tensor result = Zeros(shape);
        result.Buffer.AsSpan().Fill(value);
        return result;
    }

    /// <summary>A zero-rank tensor holding one value.</summary>
    public static Tensor Scalar(float value) => new([value], Shapes.Scalar);

    /// <summary>
    /// The values <c>start, start + step, …</c> below <paramref name="end"/> (above it for a negative step), as a
    /// 1-D tensor, like <c>torch.arange</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The step is zero or a bound is not finite.</exception>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || !float.IsFinite(start) || !float.IsFinite(end) || !float.IsFinite(step))
        {
            throw new ArgumentException($"Arange: start {start}, end {end}, step {step}; expected finite values and a non-zero step.");
        }
        double length = Math.Ceiling(((double)end - start) / step);
        if (length > Array.MaxLength)
        {
            throw new ArgumentException($"Arange: start {start}, end {end}, step {step} gives {length} elements, more than an array holds.");
        }
        int count = (int)Math.Max(0, length);
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (float)(start + (double)i * step);
        }
        return new Tensor(data, [count]);
    }

    /// <summary><c>Arange(0, end)</c>: 0, 1, …, end − 1.</summary>
    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>A tensor holding a copy of <paramref name="values"/>, in row-major order, with the given shape.</summary>
    /// <exception cref="ArgumentException">The number of values differs from the shape's element count.</exception>
    public static Tensor FromArray(ReadOnlySpan<float> values, params ReadOnlySpan<int> shape)
    {
        int[] owned = shape.ToArray();
        int count = Shapes.Count(owned, "FromArray");
        if (values.Length != count)
        {
            throw new ArgumentException($"FromArray: {values.Length} values given for shape {Shapes.Format(owned)}, which holds {count}.");
        }
        return new Tensor(values.ToArray(), owned);
    }

    /// <summary>A 1-D tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values) => FromArray(values, values.Length);

    /// <summary>A 2-D tensor from a rectangular array, e.g. <c>Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } })</c>.</summary>
    public static Tensor FromArray(float[,] values)
    {
        int rows = values.GetLength(0);
        int columns = values.GetLength(1);
        var data = new float[rows * columns];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                data[i * columns + j] = values[i, j];
            }
        }
        return new Tensor(data, [rows, columns]);
    }

    /// <summary>
    /// A tensor that uses <paramref name="data"/> as its buffer without copying (writes show through both ways).
    /// For loaders and embedders that manage their own memory.
    /// </summary>
    /// <exception cref="ArgumentException">The array's length differs from the shape's element count.</exception>
    public static Tensor Wrap(float[] data, params ReadOnlySpan<int> shape)
    {
        int[] owned = shape.ToArray();
        int count = Shapes.Count(owned, "Wrap");
        if (data.Length != count)
        {
            throw new ArgumentException($"Wrap: array of {data.Length} elements for shape {Shapes.Format(owned)}, which holds {count}.");
        }
        return new Tensor(data, owned);
    }

    /// <summary>
    /// Normal draws with the given mean and standard deviation, from <paramref name="random"/>
    /// (<c>torch.randn</c> when mean 0, std 1). Write the shape as <c>[100, 784]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid shape, or a non-finite mean or std, or a negative std.</exception>
    public static Tensor RandomNormal(RandomGenerator random, ReadOnlySpan<int> shape, float mean = 0f, float std = 1f)
    {
        Tensor result = Zeros(shape);
        random.FillNormal(result.Buffer, mean, std);
        return result;
    }

    /// <summary>Uniform draws from [<paramref name="low"/>, <paramref name="high"/>) (<c>torch.rand</c> for [0, 1)).</summary>
    /// <exception cref="ArgumentException">Invalid shape or bounds.</exception>
    public static Tensor RandomUniform(RandomGenerator random, ReadOnlySpan<int> shape, float low = 0f, float high = 1f)
    {
        Tensor result = Zeros(shape);
        random.FillUniform(result.Buffer, low, high);
        return result;
    }

    /// <summary>A new tensor of zeros with this tensor's shape.</summary>
    public Tensor ZerosLike() => Zeros(ShapeArray);

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for one-line parameter creation.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not a leaf.</exception>
    public Tensor RequireGrad(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>A copy with its own contiguous buffer and no gradient history (PyTorch's <c>clone().detach()</c>).</summary>
    public Tensor Copy() => new(ToArray(), ShapeArray);

    /// <summary>
    /// The buffer for an op's result: rented from <paramref name="tape"/> when the op is recorded (the tape owns it
    /// until the step ends), a fresh array otherwise. Contents are undefined: the op must write every element.
    /// </summary>
    internal static Tensor NewResult(Autodiff.Tape? tape, int[] shape) =>
        tape is null ? new Tensor(new float[Shapes.Count(shape)], shape) : tape.NewResult(shape);

    /// <summary>
    /// As <see cref="NewResult(Autodiff.Tape?, int[])"/> for a shape the op has not put in an array of its own (a
    /// collection expression such as <c>[rows, outF]</c> binds here and lives on the stack): with a tape nothing is
    /// allocated for the shape, since the tape shares one array per shape.
    /// </summary>
    internal static Tensor NewResult(Autodiff.Tape? tape, ReadOnlySpan<int> shape) =>
        tape is null ? new Tensor(new float[Shapes.Count(shape)], shape.ToArray()) : tape.NewResult(shape);
}
