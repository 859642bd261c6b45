namespace NeuralCore.Samples.Classify;

/// <summary>The model's answer for one image: the most likely class and its softmax probability.</summary>
/// <param name="Label">The class index (0-based, in the order of <see cref="ClassifierModel.ClassNames"/>).</param>
/// <param name="Probability">The softmax probability of that class, 0–1.</param>
public readonly record struct Prediction(int Label, float Probability);
