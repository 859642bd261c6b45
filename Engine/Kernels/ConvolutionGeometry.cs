namespace NeuralCore.Engine.Kernels;

/// <summary>The shape of one Conv2d call: N images, O output channels, and the window over one (C, H, W) image.</summary>
/// <param name="Batch">N.</param>
/// <param name="OutChannels">O, the rows of the weight matrix (O, C·kh·kw).</param>
/// <param name="Window">The geometry of one image; <see cref="Window2d.Channels"/> is C.</param>
internal readonly record struct ConvolutionGeometry(int Batch, int OutChannels, Window2d Window);
