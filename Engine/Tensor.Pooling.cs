using System.Runtime.InteropServices;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Engine.Kernels;

namespace NeuralCore.Engine;

// 2-D pooling over (N, C, H, W): max, average and global average, each on every (n, c) plane on its own.
// The window geometry (output size, padding, stride) is the one convolution uses (Kernels/Window2d.cs).
public sealed partial class Tensor
{
    /// <summary>
    /// 2-D max pooling of this (N, C, H, W) tensor (PyTorch's <c>max_pool2d</c>): the maximum of every
    /// kernel×kernel window, giving (N, C, Ho, Wo) with <c>Ho = ⌊(H + 2·padding − kernel) / stride⌋ + 1</c>.
    /// Padding never wins a window. Differentiable: the gradient goes to the element that was the maximum (the
    /// first one, in row-major window order, when several are equal).
    /// </summary>
    /// <param name="kernel">Window size, ≥ 1.</param>
    /// <param name="stride">Step between windows, ≥ 1; null (the default) means <paramref name="kernel"/>, as in PyTorch.</param>
    /// <param name="padding">Added on every side, 0 ≤ padding ≤ kernel / 2.</param>
    /// <exception cref="ArgumentException">
    /// The tensor is not rank 4 or has an empty plane, an argument is out of range, or the output would be empty.
    /// </exception>
    public Tensor MaxPool2d(int kernel, int? stride = null, int padding = 0) =>
        MaxPool2d((kernel, kernel), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>
    /// 2-D max pooling with separate (height, width) sizes; see <see cref="MaxPool2d(int, int?, int)"/>.
    /// </summary>
    /// <param name="kernel">(kh, kw), each ≥ 1.</param>
    /// <param name="stride">(sh, sw), each ≥ 1; null means the kernel size.</param>
    /// <param name="padding">(ph, pw), each between 0 and half the kernel size on its axis.</param>
    /// <exception cref="ArgumentException">As for <see cref="MaxPool2d(int, int?, int)"/>.</exception>
    public Tensor MaxPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
    {
        Window2d window = PoolWindow("MaxPool2d", ShapeArray, kernel, stride ?? kernel, padding);
        ReadOnlySpan<int> shape = [ShapeArray[0], ShapeArray[1], window.OutputHeight, window.OutputWidth]; // (N, C, Ho, Wo)
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        // Backward needs which element won each window. The indices are ints; they are kept in a tape-owned float
        // buffer (its bits reinterpreted, never used as floats), so they are returned to the pool with the step.
        Tensor? indices = tape?.NewPrivate(shape);
        if (IsContiguous)
        {
            PoolingKernel.MaxForward(Buffer, _offset, result.Buffer, result._offset, indices?.Buffer, indices?._offset ?? 0, window);
        }
        else
        {
            using Scratch x = Read();
            Span<int> argmax = indices is null ? [] : MemoryMarshal.Cast<float, int>(indices.AsSpan());
            PoolingKernel.MaxForward(x.Span, result.AsSpan(), argmax, window);
        }

        // max_pool2d: ∂x[n, c, argmax] += ∂y[n, c, oy, ox]
        TapeEntry? entry = tape?.Record("max_pool2d", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                ReadOnlySpan<int> argmax = MemoryMarshal.Cast<float, int>(e.Saved!.AsSpan());
                PoolingKernel.MaxBackward(dy.AsSpan(), argmax, sink.AsSpan(), Window2d.FromInts(e.Ints!));
            }
        }, this);
        if (entry is not null)
        {
            entry.Saved = indices;
            entry.KeepWindow(window);
        }
        return result;
    }

    /// <summary>
    /// 2-D average pooling of this (N, C, H, W) tensor (PyTorch's <c>avg_pool2d</c> with its defaults): the mean
    /// of every kernel×kernel window, giving (N, C, Ho, Wo) as for <see cref="MaxPool2d(int, int?, int)"/>. Padding
    /// counts as zeros and is included in the divisor, which is always kernel² (<c>count_include_pad=True</c>).
    /// Differentiable.
    /// </summary>
    /// <param name="kernel">Window size, ≥ 1.</param>
    /// <param name="stride">Step between windows, ≥ 1; null (the default) means <paramref name="kernel"/>.</param>
    /// <param name="padding">Added on every side, 0 ≤ padding ≤ kernel / 2.</param>
    /// <exception cref="ArgumentException">As for <see cref="MaxPool2d(int, int?, int)"/>.</exception>
    public Tensor AvgPool2d(int kernel, int? stride = null, int padding = 0) =>
        AvgPool2d((kernel, kernel), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>
    /// 2-D average pooling with separate (height, width) sizes; see <see cref="AvgPool2d(int, int?, int)"/>.
    /// </summary>
    /// <param name="kernel">(kh, kw), each ≥ 1.</param>
    /// <param name="stride">(sh, sw), each ≥ 1; null means the kernel size.</param>
    /// <param name="padding">(ph, pw), each between 0 and half the kernel size on its axis.</param>
    /// <exception cref="ArgumentException">As for <see cref="MaxPool2d(int, int?, int)"/>.</exception>
    public Tensor AvgPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
    {
        Window2d window = PoolWindow("AvgPool2d", ShapeArray, kernel, stride ?? kernel, padding);
        ReadOnlySpan<int> shape = [ShapeArray[0], ShapeArray[1], window.OutputHeight, window.OutputWidth]; // (N, C, Ho, Wo)
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            PoolingKernel.AverageForward(x.Span, result.AsSpan(), window);
        }

        // avg_pool2d: ∂x[window] += ∂y / (kh·kw) for each window's in-bounds elements
        TapeEntry? entry = tape?.Record("avg_pool2d", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                PoolingKernel.AverageBackward(dy.AsSpan(), sink.AsSpan(), Window2d.FromInts(e.Ints!));
            }
        }, this);
        entry?.KeepWindow(window);
        return result;
    }

    /// <summary>
    /// Global average pooling: the mean of each (H, W) plane of this (N, C, H, W) tensor, giving (N, C)
    /// (PyTorch's <c>x.mean(dim=(2, 3))</c>, or <c>adaptive_avg_pool2d(x, 1)</c> flattened). Differentiable.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not rank 4, or H or W is 0.</exception>
    public Tensor GlobalAvgPool2d()
    {
        if (Rank != 4 || ShapeArray[2] < 1 || ShapeArray[3] < 1)
        {
            throw new ArgumentException($"GlobalAvgPool2d: input {ShapeText}; expected (N, C, H, W) with H ≥ 1 and W ≥ 1.");
        }
        ReadOnlySpan<int> shape = [ShapeArray[0], ShapeArray[1]]; // (N, C)
        Tape? tape = Tape.ForInputs(this);
        Tensor result = NewResult(tape, shape);
        using (Scratch x = Read())
        {
            PoolingKernel.GlobalAverageForward(x.Span, result.AsSpan(), ShapeArray[2] * ShapeArray[3]);
        }

        // global_avg_pool2d: ∂x[n, c, :, :] += ∂y[n, c] / (H·W)
        tape?.Record("global_avg_pool2d", result, static (e, dy) =>
        {
            Tensor? sink = e.GradSink(0);
            if (sink is not null)
            {
                PoolingKernel.GlobalAverageBackward(dy.AsSpan(), sink.AsSpan(), sink.ShapeArray[2] * sink.ShapeArray[3]);
            }
        }, this);
        return result;
    }

    /// <summary>Checks a pooling op's arguments; the window's planes are all N·C (n, c) pairs.</summary>
    private static Window2d PoolWindow(string op, int[] input,
        (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding)
    {
        if (input.Length != 4)
        {
            throw new ArgumentException($"{op}: input {Shapes.Format(input)} has rank {input.Length}; expected (N, C, H, W).");
        }
        if (input[2] < 1 || input[3] < 1)
        {
            throw new ArgumentException($"{op}: input {Shapes.Format(input)} has an empty {input[2]}×{input[3]} plane; expected H ≥ 1 and W ≥ 1.");
        }
        if (kernel.Height < 1 || kernel.Width < 1 || stride.Height < 1 || stride.Width < 1 || padding.Height < 0 || padding.Width < 0)
        {
            throw new ArgumentException(
                $"{op}: kernel {kernel.Height}×{kernel.Width}, stride ({stride.Height}, {stride.Width}), padding ({padding.Height}, {padding.Width}); " +
                "expected kernel ≥ 1, stride ≥ 1 and padding ≥ 0.");
        }
        if (padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
        {
            // PyTorch's rule too: with more padding, a window could lie entirely in the padding and pool nothing.
            throw new ArgumentException(
                $"{op}: padding ({padding.Height}, {padding.Width}) with kernel {kernel.Height}×{kernel.Width}; expected padding ≤ half the kernel size.");
        }
        // H, W ≥ 1 and the input exists, so the N·C planes fit an int.
        var window = new Window2d(input[0] * input[1], input[2], input[3], kernel.Height, kernel.Width,
            stride.Height, stride.Width, padding.Height, padding.Width, 1, 1);
        if (window.OutputHeight < 1 || window.OutputWidth < 1)
        {
            throw new ArgumentException(
                $"{op}: input {Shapes.Format(input)} with kernel {kernel.Height}×{kernel.Width}, stride ({stride.Height}, {stride.Width}), " +
                $"padding ({padding.Height}, {padding.Width}) gives an output of {window.OutputHeight}×{window.OutputWidth}; expected at least 1×1.");
        }
        return window;
    }
}
