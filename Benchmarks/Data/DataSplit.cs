namespace NeuralCore.Benchmarks.Data;

/// <summary>A data set's training and test parts.</summary>
/// <param name="Train">The examples to train on.</param>
/// <param name="Test">The held-out examples to measure accuracy on.</param>
public sealed record DataSplit(Dataset Train, Dataset Test);
