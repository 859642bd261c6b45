using System.Diagnostics;
using System.Globalization;
using System.IO;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Engine;
using NeuralCore.Engine.Autodiff;
using NeuralCore.Layers;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Schedules;

namespace NeuralCore.Benchmarks.Runner;

/// <summary>
/// Trains one variant: builds the model, runs the data-dependent init on a fixed batch, then trains for the given
/// epochs with Adam or SGD, recording the loss of every mini-batch, and measures the test accuracy after each epoch.
/// </summary>
/// <remarks>
/// The loop is the textbook one: <c>ZeroGrad</c>, forward, cross-entropy, <c>Backward</c>, <c>Step</c>.
/// Evaluation runs in <see cref="Module.Eval"/> mode inside <see cref="Tape.NoGrad"/>, so dropout and noise are off,
/// batch norm uses its running statistics, and nothing is recorded.
/// </remarks>
public sealed class VariantTrainer
{
    private readonly CompareOptions _options;
    private readonly DataLoader _train;
    private readonly DataLoader _test;
    private readonly Tensor _initBatch;
    private readonly ProgressReporter _progress;

    /// <summary>A trainer over the given loaders; every variant it trains is initialized from <paramref name="initBatch"/>.</summary>
    /// <param name="options">Model, epochs, optimizer, learning rate and seed.</param>
    /// <param name="train">The training batches; its seed fixes the data order, the same for every variant.</param>
    /// <param name="test">The test batches (not shuffled).</param>
    /// <param name="initBatch">The inputs the data-dependent init measures, in the model's input layout.</param>
    /// <param name="progress">Where progress goes.</param>
    public VariantTrainer(CompareOptions options, DataLoader train, DataLoader test, Tensor initBatch, ProgressReporter progress)
    {
        _options = options;
        _train = train;
        _test = test;
        _initBatch = initBatch;
        _progress = progress;
    }

    /// <summary>The model the last <see cref="Run"/> trained (for <c>--save-model</c>); null before the first.</summary>
    public Sequential? LastModel { get; private set; }

    /// <summary>Builds <paramref name="variant"/>'s model and trains it; returns what was measured.</summary>
    public VariantResult Run(Variant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        Dataset data = _train.Dataset;
        RandomGenerator noise = ModelFactory.NoiseGenerator(_options.Seed);
        Sequential model = ModelFactory.Build(_options.Model, variant, data.Channels, data.Height, data.Width, data.ClassCount, _options.Seed, noise);
        ModelFactory.Initialize(model, variant, _initBatch, _options.Seed);
        LastModel = model;

        (Optimizer optimizer, List<Scheduler> schedulers) = CreateOptimizer(model);
        var history = new TrainingHistory();
        int batches = _train.BatchCount;
        string? checkpoint = null;
        if (_options.CheckpointDirectory is string directory)
        {
            Directory.CreateDirectory(directory);
            checkpoint = Path.Combine(directory, $"{variant.Name}.checkpoint.safetensors");
        }
        int firstEpoch = 0;
        if (checkpoint is not null && _options.Resume && File.Exists(checkpoint))
        {
            firstEpoch = Resume(checkpoint, variant, model, optimizer, schedulers, noise, history);
        }
        int lastEpoch = Math.Min(_options.Epochs, _options.StopAfterEpoch ?? int.MaxValue);

        // The data loader draws epoch e's order from (seed, e) alone, so starting at firstEpoch needs no saved state.
        for (int epoch = firstEpoch; epoch < lastEpoch; epoch++)
        {
            _progress.BeginEpoch(variant.Name, epoch + 1, _options.Epochs, batches);
            model.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int batchIndex = 0, examples = 0;
            foreach (Batch batch in _train.Epoch(epoch))
            {
                optimizer.ZeroGrad();
                Tensor logits = model.Forward(batch.Images);           // (B, classes)
                Tensor loss = Losses.CrossEntropy(logits, batch.Labels); // ()
                loss.Backward();
                optimizer.Step();

                double value = loss.Item();
                history.IterationLosses.Add(value);
                lossSum += value;
                batchIndex++;
                examples += batch.Count;
                _progress.Report(batchIndex, examples, clock.Elapsed.TotalSeconds, lossSum / batchIndex);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            foreach (Scheduler scheduler in schedulers)
            {
                scheduler.Step(); // the paper's schedules move once per epoch
            }

            (double accuracy, history.TestLoss) = Evaluate(model);
            history.EpochLosses.Add(lossSum / batchIndex);
            history.Accuracies.Add(accuracy);
            history.EpochSeconds.Add(seconds);
            _progress.EndEpoch(examples, seconds, lossSum / batchIndex, accuracy);
            if (checkpoint is not null)
            {
                var progress = new CheckpointProgress(epoch + 1, (long)(epoch + 1) * batches) { Notes = history.ToNotes(RunKey(variant)) };
                Checkpoint.Save(checkpoint, model.StateDict(), optimizer, progress, schedulers, [noise]);
            }
        }
        return new VariantResult(
            variant, ModelFactory.ParameterCount(model), history.IterationLosses, history.EpochLosses, history.Accuracies, history.TestLoss,
            history.EpochSeconds, batches);
    }

    /// <summary>
    /// Restores the model, optimizer, schedules, noise generator and history from <paramref name="path"/>; returns the
    /// number of epochs it holds. A checkpoint of another run (other settings) is refused before anything changes.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is damaged or belongs to another run.</exception>
    private int Resume(
        string path, Variant variant, Module model, Optimizer optimizer, List<Scheduler> schedulers, RandomGenerator noise, TrainingHistory history)
    {
        string expected = RunKey(variant);
        CheckpointProgress saved = Checkpoint.ReadProgress(path);
        string found = saved.Notes.TryGetValue(TrainingHistory.RunNote, out string? run) ? run : "(none)";
        if (found != expected)
        {
            throw new InvalidDataException($"--resume: {path} was written by another run ({found}); this run is {expected}.");
        }
        if (saved.Epoch > _options.Epochs)
        {
            throw new InvalidDataException($"--resume: {path} holds {saved.Epoch} epochs, more than --epochs {_options.Epochs}.");
        }
        try
        {
            saved = Checkpoint.Load(path, model.StateDict(), optimizer, schedulers, [noise]);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"--resume: {path} does not fit this run: {e.Message}", e);
        }
        history.Restore(saved.Notes, path);
        if (history.EpochLosses.Count != saved.Epoch)
        {
            throw new InvalidDataException($"--resume: {path} holds {saved.Epoch} epochs but the loss history of {history.EpochLosses.Count}.");
        }
        _progress.Note($"{variant.Name,-14} resumed after epoch {saved.Epoch} from {path}");
        return saved.Epoch;
    }

    /// <summary>
    /// What must match for a checkpoint to continue this run: everything that changes the numbers, except the epoch
    /// count, which only says where to stop (unless schedules depend on it, as paper-cifar's do).
    /// </summary>
    private string RunKey(Variant variant)
    {
        string epochs = _options.Model == "paper-cifar" ? $" epochs={_options.Epochs}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"variant={variant.Name} model={_options.Model} dataset={_options.Dataset} data={_options.DataDirectory ?? "shipped"} quick={_options.Quick} zca={_options.Zca} train={_train.Dataset.Count} batch={_options.BatchSize} optimizer={_options.Optimizer} lr={_options.LearningRate:R} seed={_options.Seed}{epochs}");
    }

    /// <summary>Accuracy (0–1) and mean cross-entropy of <paramref name="model"/> on the test set, in evaluation mode.</summary>
    private (double Accuracy, double Loss) Evaluate(Module model)
    {
        model.Eval();
        int correct = 0, total = 0;
        double lossSum = 0;
        using (Tape.NoGrad())
        {
            foreach (Batch batch in _test.Epoch(0))
            {
                Tensor logits = model.Forward(batch.Images).Contiguous(); // (B, classes)
                lossSum += Losses.CrossEntropy(logits, batch.Labels).Item() * batch.Count;
                ReadOnlySpan<float> scores = logits.AsSpan();
                int classes = logits.Size(1);
                for (int n = 0; n < batch.Count; n++)
                {
                    ReadOnlySpan<float> row = scores.Slice(n * classes, classes);
                    int best = 0;
                    for (int c = 1; c < classes; c++)
                    {
                        if (row[c] > row[best])
                        {
                            best = c;
                        }
                    }
                    correct += best == batch.Labels[n] ? 1 : 0;
                }
                total += batch.Count;
            }
        }
        model.Train();
        return ((double)correct / total, lossSum / total);
    }

    /// <summary>
    /// Adam (the paper's choice) or SGD with momentum 0.9. For paper-cifar, the paper's schedules per epoch: the
    /// learning rate constant for the first half, then linearly to zero (<c>lr·min(2 − epoch/100, 1)</c> for 200
    /// epochs), and Adam's β1 0.9, then 0.5 in the second half.
    /// </summary>
    private (Optimizer Optimizer, List<Scheduler> Schedulers) CreateOptimizer(Module model)
    {
        Optimizer optimizer = _options.Optimizer == "sgd"
            ? new Sgd(model.Parameters(), _options.LearningRate, momentum: 0.9)
            : new Adam(model.Parameters(), _options.LearningRate);
        var schedulers = new List<Scheduler>();
        if (_options.Model == "paper-cifar")
        {
            int hold = _options.Epochs / 2;
            schedulers.Add(Scheduler.ForLearningRate(optimizer, new LinearDecaySchedule(holdSteps: hold, decaySteps: _options.Epochs - hold)));
            if (optimizer is Adam && hold >= 1) // a 1-epoch run has no first half: β1 stays 0.9
            {
                schedulers.Add(Scheduler.ForBeta1(optimizer, new PiecewiseConstantSchedule([hold], [0.9, 0.5])));
            }
        }
        return (optimizer, schedulers);
    }
}
