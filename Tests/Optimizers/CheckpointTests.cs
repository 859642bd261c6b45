using System.IO;
using NeuralCore.Benchmarks.Data;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;
using NeuralCore.Layers;
using NeuralCore.Optimizers;
using NeuralCore.Optimizers.Schedules;
using NUnit.Framework;

namespace NeuralCore.Tests.Optimizers;

/// <summary>
/// Checkpoint: a run saved at step k and restored into freshly built objects continues bit for bit like the run
/// that never stopped; a checkpoint that does not fit is refused, naming what is wrong, and changes nothing.
/// </summary>
[TestFixture]
public sealed class CheckpointTests
{
    private const int Total = 23;
    private string _directory = "";

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "neuralcore-checkpoint-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    /// <summary>
    /// Everything a small training run has: a weight-normed MLP with batch norm (buffers) and dropout (a generator),
    /// Adam with a per-step learning-rate schedule and a β1 schedule, a Polyak average, and a shuffled data loader.
    /// </summary>
    private sealed class Run
    {
        private static readonly Dataset s_data = SyntheticData();

        public Run()
        {
            var weights = new RandomGenerator(7);
            Model = new Sequential(
                new Linear(12, 16, random: weights).WithWeightNorm(),
                new BatchNorm1d(16),
                new LeakyReLU(0.1f),
                new Dropout(0.3f, DropoutRandom),
                new Linear(16, 4, random: weights).WithWeightNorm());
            Optimizer = new Adam(Model.Parameters(), learningRate: 0.01);
            Schedulers =
            [
                Scheduler.ForLearningRate(Optimizer, new CosineSchedule(Total, minimum: 0.1).WithWarmup(3)),
                Scheduler.ForBeta1(Optimizer, new PiecewiseConstantSchedule([12], [0.9, 0.5])),
            ];
            Average = new ExponentialMovingAverage(Model.Parameters(), decay: 0.9);
            Loader = new DataLoader(s_data, new DataLoaderOptions { BatchSize = 16, Seed = 5, Flatten = true });
        }

        public RandomGenerator DropoutRandom { get; } = new(11);

        public Sequential Model { get; }

        public Adam Optimizer { get; }

        public Scheduler[] Schedulers { get; }

        public ExponentialMovingAverage Average { get; }

        public DataLoader Loader { get; }

        public List<float> LossHistory { get; } = [];

        /// <summary>Global steps [from, to); step s is batch s mod B of epoch s / B (B batches per epoch).</summary>
        public void Train(int from, int to)
        {
            int perEpoch = Loader.BatchCount;
            for (int step = from; step < to;)
            {
                int epoch = step / perEpoch;
                // Epoch e's order depends on (seed, e) only: skipping the batches already done resumes mid-epoch.
                foreach (Batch batch in Loader.Epoch(epoch).Skip(step % perEpoch))
                {
                    Optimizer.ZeroGrad();
                    Tensor loss = Losses.CrossEntropy(Model.Forward(batch.Images), batch.Labels);
                    loss.Backward();
                    Optimizer.Step();
                    Average.Update();
                    foreach (Scheduler scheduler in Schedulers)
                    {
                        scheduler.Step();
                    }
                    LossHistory.Add(loss.Item());
                    if (++step == to)
                    {
                        break;
                    }
                }
            }
        }

        public void Save(string path, int step) =>
            Checkpoint.Save(path, Model.StateDict(), Optimizer, new CheckpointProgress(step / Loader.BatchCount, step), Schedulers, [DropoutRandom], Average);

        public CheckpointProgress Load(string path) =>
            Checkpoint.Load(path, Model.StateDict(), Optimizer, Schedulers, [DropoutRandom], Average);

        /// <summary>The raw bits of every parameter, buffer and average, by name.</summary>
        public Dictionary<string, int[]> Bits()
        {
            var bits = new Dictionary<string, int[]>();
            foreach ((string name, Tensor tensor) in Model.StateDict())
            {
                bits[name] = RawBits(tensor);
            }
            foreach ((string name, Tensor tensor) in Average.StateDict().Tensors)
            {
                bits["ema." + name] = RawBits(tensor);
            }
            return bits;
        }

        private static int[] RawBits(Tensor tensor) => [.. tensor.ToArray().Select(BitConverter.SingleToInt32Bits)];

        // 70 examples of 1 × 3 × 4 in 4 classes: 5 batches of 16 per epoch, the last one short.
        private static Dataset SyntheticData()
        {
            var random = new RandomGenerator(3);
            var images = new float[70 * 12];
            random.FillNormal(images);
            var labels = new int[70];
            for (int i = 0; i < labels.Length; i++)
            {
                labels[i] = random.NextInt(4);
            }
            return new Dataset(images, labels, 1, 3, 4, ["a", "b", "c", "d"]);
        }
    }

    [TestCase(9)]   // mid-epoch, before the β1 switch
    [TestCase(15)]  // an epoch boundary (3 × 5 batches), after it
    public void ResumingIsBitIdenticalToTheUninterruptedRun(int saveAt)
    {
        var straight = new Run();
        straight.Train(0, Total);

        var first = new Run();
        first.Train(0, saveAt);
        first.Save(PathOf("run.ckpt"), saveAt);
        first.Train(saveAt, saveAt + 3); // training on after the save must not change what was saved

        var resumed = new Run();
        CheckpointProgress progress = resumed.Load(PathOf("run.ckpt"));
        resumed.Train(saveAt, Total);

        Assert.That((progress.Epoch, progress.Step), Is.EqualTo((saveAt / 5, (long)saveAt)));
        // The loss at every step after the resume is the uninterrupted run's, to the bit.
        Assert.That(resumed.LossHistory.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(straight.LossHistory.Skip(saveAt).Select(BitConverter.SingleToInt32Bits)));
        Dictionary<string, int[]> expected = straight.Bits(), actual = resumed.Bits();
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (string name in expected.Keys)
        {
            Assert.That(actual[name], Is.EqualTo(expected[name]), name);
        }
        Assert.That(resumed.DropoutRandom.GetState(), Is.EqualTo(straight.DropoutRandom.GetState()));
    }

    [Test]
    public void WithoutTheGeneratorStateTheResumeDiverges()
    {
        // The control: the dropout generator matters, so the test above would notice if its state were not restored.
        var straight = new Run();
        straight.Train(0, Total);
        var first = new Run();
        first.Train(0, 9);
        first.Save(PathOf("run.ckpt"), 9);

        var resumed = new Run();
        resumed.Load(PathOf("run.ckpt"));
        resumed.DropoutRandom.SetState(new RandomGenerator(11).GetState());
        resumed.Train(9, Total);

        Assert.That(resumed.LossHistory, Is.Not.EqualTo(straight.LossHistory.Skip(9)));
    }

    [Test]
    public void ScalarsGeneratorsAndNotesReadBackExactly()
    {
        var run = new Run();
        run.Train(0, 2);
        run.Optimizer.Groups[0].WeightDecay = 0.1 + 0.2;          // 0.30000000000000004: needs all 17 digits
        run.Optimizer.Epsilon = double.Epsilon;                  // the smallest subnormal
        run.DropoutRandom.NextNormal();                          // leaves a spare normal in the state
        var notes = new Dictionary<string, string> { ["text"] = "a \"quoted\", comma\nand é", ["empty"] = "" };
        Checkpoint.Save(PathOf("exact.ckpt"), run.Model.StateDict(), run.Optimizer, new CheckpointProgress(int.MaxValue, long.MaxValue) { Notes = notes },
            run.Schedulers, [run.DropoutRandom], run.Average);

        var fresh = new Run();
        CheckpointProgress progress = fresh.Load(PathOf("exact.ckpt"));

        Assert.That(progress.Epoch, Is.EqualTo(int.MaxValue));
        Assert.That(progress.Step, Is.EqualTo(long.MaxValue));
        Assert.That(progress.Notes, Is.EquivalentTo(notes));
        Assert.That(Checkpoint.ReadProgress(PathOf("exact.ckpt")).Notes, Is.EquivalentTo(notes));
        Assert.That(BitConverter.DoubleToInt64Bits(fresh.Optimizer.Groups[0].WeightDecay!.Value), Is.EqualTo(BitConverter.DoubleToInt64Bits(0.1 + 0.2)));
        Assert.That(fresh.Optimizer.Epsilon, Is.EqualTo(double.Epsilon));
        Assert.That(fresh.Optimizer.Groups[0].LearningRate, Is.EqualTo(run.Optimizer.Groups[0].LearningRate)); // the scheduler's, at the saved step
        Assert.That(fresh.DropoutRandom.GetState(), Is.EqualTo(run.DropoutRandom.GetState()));
        Assert.That(fresh.DropoutRandom.NextNormal(), Is.EqualTo(run.DropoutRandom.NextNormal()));
    }

    [Test]
    public void AModelThatDoesNotMatchIsRefusedNamingTheTensor()
    {
        var run = new Run();
        run.Train(0, 2);
        string path = PathOf("model.ckpt");
        run.Save(path, 2);
        var fresh = new Run();
        Dictionary<string, Tensor> state = fresh.Model.StateDict();

        var missing = new Dictionary<string, Tensor>(state) { ["extra.weight"] = Tensor.Zeros(2) };
        Assert.That(() => Checkpoint.Load(path, missing, fresh.Optimizer, fresh.Schedulers, [fresh.DropoutRandom], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("missing from the checkpoint: extra.weight"));

        var unexpected = new Dictionary<string, Tensor>(state);
        unexpected.Remove("1.running_mean");
        Assert.That(() => Checkpoint.Load(path, unexpected, fresh.Optimizer, fresh.Schedulers, [fresh.DropoutRandom], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("not in the model: 1.running_mean"));

        var misshaped = new Dictionary<string, Tensor>(state) { ["1.running_mean"] = Tensor.Zeros(17) };
        Assert.That(() => Checkpoint.Load(path, misshaped, fresh.Optimizer, fresh.Schedulers, [fresh.DropoutRandom], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("'1.running_mean' has shape (16) in the checkpoint, (17) in the model"));

        Assert.That(() => Checkpoint.Load(path, state, fresh.Optimizer, fresh.Schedulers, [], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("holds 1 random generators, 0 were given"));
        Assert.That(() => Checkpoint.Load(path, state, fresh.Optimizer, fresh.Schedulers[..1], [fresh.DropoutRandom], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("holds 2 schedulers, 1 were given"));
        Assert.That(() => Checkpoint.Load(path, state, fresh.Optimizer, fresh.Schedulers, [fresh.DropoutRandom]),
            Throws.ArgumentException.With.Message.Contains("holds an average, but none was given"));
        // Nothing was changed by the refused loads: the fresh run still has its initial weights.
        Assert.That(fresh.Bits(), Is.EqualTo(new Run().Bits()));
    }

    [Test]
    public void AFailedLoadRollsBackWhatItHadRestored()
    {
        var run = new Run();
        run.Train(0, 4);
        string path = PathOf("rollback.ckpt");
        run.Save(path, 4);

        // The schedulers given in the other order: the optimizer loads, then the first scheduler refuses its state
        // (it schedules β1, the state lr), so the optimizer must be put back.
        var fresh = new Run();
        TrainingState before = fresh.Optimizer.StateDict();
        Assert.That(() => Checkpoint.Load(path, fresh.Model.StateDict(), fresh.Optimizer, [fresh.Schedulers[1], fresh.Schedulers[0]], [fresh.DropoutRandom], fresh.Average),
            Throws.ArgumentException.With.Message.Contains("another hyperparameter"));
        TrainingState after = fresh.Optimizer.StateDict();

        Assert.That(after.Scalars, Is.EquivalentTo(before.Scalars));
        Assert.That(after.Tensors, Is.Empty);
        Assert.That(fresh.Bits(), Is.EqualTo(new Run().Bits()));
    }

    [Test]
    public void DamagedOrForeignFilesThrowInvalidDataException()
    {
        var run = new Run();
        run.Save(PathOf("good.ckpt"), 0);
        byte[] bytes = File.ReadAllBytes(PathOf("good.ckpt"));
        File.WriteAllBytes(PathOf("truncated.ckpt"), bytes[..(bytes.Length - 5)]);
        SafeTensors.Save(PathOf("plain.safetensors"), run.Model.StateDict());
        var metadata = SafeTensors.LoadMetadata(PathOf("good.ckpt"));
        metadata["generator.0"] = "1,2,3";
        SafeTensors.Save(PathOf("generator.ckpt"), SafeTensors.Load(PathOf("good.ckpt")), metadata);
        metadata = SafeTensors.LoadMetadata(PathOf("good.ckpt"));
        metadata["optimizer.extra_setting"] = "x";
        SafeTensors.Save(PathOf("scalar.ckpt"), SafeTensors.Load(PathOf("good.ckpt")), metadata);
        metadata = SafeTensors.LoadMetadata(PathOf("good.ckpt"));
        metadata["surprise"] = "1";
        SafeTensors.Save(PathOf("unknown.ckpt"), SafeTensors.Load(PathOf("good.ckpt")), metadata);

        var fresh = new Run();
        Assert.Multiple(() =>
        {
            Assert.That(() => fresh.Load(PathOf("truncated.ckpt")), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("truncated.ckpt"));
            Assert.That(() => fresh.Load(PathOf("plain.safetensors")), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'format'"));
            Assert.That(() => fresh.Load(PathOf("generator.ckpt")), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("generator.0"));
            Assert.That(() => fresh.Load(PathOf("scalar.ckpt")), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("optimizer.extra_setting"));
            Assert.That(() => fresh.Load(PathOf("unknown.ckpt")), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'surprise'"));
        });
        Assert.That(fresh.Bits(), Is.EqualTo(new Run().Bits()));
    }

    [Test]
    public void LeftoverTemporaryFilesAreIgnoredByLoadAndRemovedByTheNextSave()
    {
        var run = new Run();
        string path = PathOf("run.ckpt");
        run.Save(path, 0);
        // What a writer killed mid-save leaves: a partial temporary file next to the checkpoint.
        string leftover = PathOf(".run.ckpt.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllBytes(leftover, File.ReadAllBytes(path)[..100]);
        string unrelated = PathOf(".other.ckpt.0123.tmp");
        File.WriteAllText(unrelated, "another file's temporary");

        Assert.That(() => new Run().Load(path), Throws.Nothing);
        run.Train(0, 1);
        run.Save(path, 1);

        Assert.That(File.Exists(leftover), Is.False);
        Assert.That(File.Exists(unrelated), Is.True);
        Assert.That(Directory.GetFiles(_directory).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { ".other.ckpt.0123.tmp", "run.ckpt" }));
        Assert.That(new Run().Load(path).Step, Is.EqualTo(1));
    }

    [Test]
    public void SaveRejectsANegativeStepOrAnEmptyNoteKey()
    {
        var run = new Run();
        Assert.That(() => Checkpoint.Save(PathOf("x"), run.Model.StateDict(), run.Optimizer, new CheckpointProgress(0, -1)),
            Throws.ArgumentException.With.Message.Contains("step -1"));
        Assert.That(() => Checkpoint.Save(PathOf("x"), run.Model.StateDict(), run.Optimizer,
                new CheckpointProgress(0, 0) { Notes = new Dictionary<string, string> { [""] = "v" } }),
            Throws.ArgumentException.With.Message.Contains("empty key"));
        Assert.That(File.Exists(PathOf("x")), Is.False);
    }
}
