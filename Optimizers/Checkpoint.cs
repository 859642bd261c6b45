using System.Globalization;
using System.IO;
using System.Linq;
using NeuralCore.Engine;
using NeuralCore.Engine.IO;
using NeuralCore.Optimizers.Schedules;

namespace NeuralCore.Optimizers;

/// <summary>
/// Training checkpoints: one call saves everything a run needs to continue (the model's parameters and buffers, the
/// optimizer's state, the schedulers, an optional average, the epoch and step, the application's notes and the state
/// of every random generator) to one safetensors file; one call restores it into freshly built objects, after which
/// training continues bit for bit as if it had never stopped.
/// </summary>
/// <remarks>
/// <para>
/// Why here, and why the model comes as a state dict: Optimizers references only Engine, and Layers should not
/// depend on the training machinery, so <c>Checkpoint</c> takes the model as <c>model.StateDict()</c>. Those tensors
/// share memory with the model, so <see cref="Load"/> copies the saved values straight into the model's parameters
/// and buffers, in place (references held by the optimizer stay valid). The dependency graph stays
/// Engine ← Layers, Engine ← Optimizers.
/// </para>
/// <para>
/// The file: tensors <c>model.{name}</c>, <c>optimizer.{key}</c>, <c>average.{key}</c> (float32, exact); everything
/// else in <c>__metadata__</c> as strings: doubles in round-trip form (<c>"R"</c>), counters and the generators'
/// 64-bit state words in decimal, so every number reads back exactly.
/// </para>
/// <para>
/// The write is atomic: a temporary file in the same folder, flushed to disk, then renamed over the old checkpoint,
/// so a crash or kill at any moment leaves either the previous checkpoint or the new one, never a mixture. Temporary
/// files left by a killed writer are deleted by the next save to the same path (so give each path one writer).
/// </para>
/// </remarks>
/// <example><code>
/// Checkpoint.Save(path, model.StateDict(), adam, new CheckpointProgress(epoch, step), schedulers: [learningRate], generators: [dropoutRandom]);
/// // later, in a new process, after building the same model, optimizer, schedulers and generators:
/// CheckpointProgress progress = Checkpoint.Load(path, model.StateDict(), adam, schedulers: [learningRate], generators: [dropoutRandom]);
/// </code></example>
public static class Checkpoint
{
    /// <summary>The value of the <c>format</c> metadata entry that marks a NeuralCore checkpoint.</summary>
    public const string FormatName = "neuralcore-checkpoint";

    /// <summary>The layout version written; <see cref="Load"/> reads this version only.</summary>
    public const int FormatVersion = 1;

    // Prefixes of the entries of each piece, and the keys of the counts.
    private const string ModelPrefix = "model", OptimizerPrefix = "optimizer", AveragePrefix = "average";
    private const string SchedulerPrefix = "scheduler", GeneratorPrefix = "generator", NotePrefix = "note.";
    private const string SchedulerCount = "schedulers", GeneratorCount = "generators";

    // ---------------------------------------------------------------- saving

    /// <summary>Saves a checkpoint to <paramref name="path"/>, atomically (see the remarks).</summary>
    /// <param name="path">The checkpoint file; its folder must exist.</param>
    /// <param name="model">The model's <c>StateDict()</c>: parameters and buffers by name.</param>
    /// <param name="optimizer">The optimizer: groups, settings, per-parameter steps and buffers.</param>
    /// <param name="progress">Epoch, step and the application's notes.</param>
    /// <param name="schedulers">The schedulers, in an order <see cref="Load"/> will repeat (none by default).</param>
    /// <param name="generators">Every generator the run draws from (dropout, noise, shuffling), in a fixed order.</param>
    /// <param name="average">An <see cref="ExponentialMovingAverage"/> of the parameters, if the run keeps one.</param>
    /// <exception cref="ArgumentException">A negative epoch or step, an empty note key, or an empty tensor name.</exception>
    /// <exception cref="IOException">The file cannot be written; the previous checkpoint is unchanged.</exception>
    public static void Save(
        string path, IReadOnlyDictionary<string, Tensor> model, Optimizer optimizer, CheckpointProgress progress,
        IReadOnlyList<Scheduler>? schedulers = null, IReadOnlyList<RandomGenerator>? generators = null, ExponentialMovingAverage? average = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(progress);
        schedulers ??= [];
        generators ??= [];
        if (progress.Epoch < 0 || progress.Step < 0)
        {
            throw new ArgumentException($"Checkpoint.Save: epoch {progress.Epoch} and step {progress.Step}; expected both >= 0.", nameof(progress));
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = progress.Epoch.ToString(CultureInfo.InvariantCulture),
            ["step"] = progress.Step.ToString(CultureInfo.InvariantCulture),
            [SchedulerCount] = schedulers.Count.ToString(CultureInfo.InvariantCulture),
            [GeneratorCount] = generators.Count.ToString(CultureInfo.InvariantCulture),
        };
        foreach ((string name, Tensor tensor) in model)
        {
            tensors.Add($"{ModelPrefix}.{name}", tensor);
        }
        Put(OptimizerPrefix, optimizer.StateDict(), tensors, metadata);
        for (int i = 0; i < schedulers.Count; i++)
        {
            Put($"{SchedulerPrefix}.{i}", schedulers[i].StateDict(), tensors, metadata);
        }
        if (average is not null)
        {
            Put(AveragePrefix, average.StateDict(), tensors, metadata);
        }
        for (int i = 0; i < generators.Count; i++)
        {
            metadata[$"{GeneratorPrefix}.{i}"] = string.Join(',', generators[i].GetState().Select(word => word.ToString(CultureInfo.InvariantCulture)));
        }
        foreach ((string key, string value) in progress.Notes)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new ArgumentException("Checkpoint.Save: a note has an empty key.", nameof(progress));
            }
            metadata[NotePrefix + key] = value;
        }
        WriteAtomically(path, tensors, metadata);
    }

    // A piece's kind under its prefix, its scalars as "prefix.key" metadata, its tensors as "prefix.key" tensors.
    private static void Put(string prefix, TrainingState state, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        metadata[prefix] = state.Kind;
        foreach ((string key, double value) in state.Scalars)
        {
            metadata[$"{prefix}.{key}"] = value.ToString("R", CultureInfo.InvariantCulture);
        }
        foreach ((string key, Tensor tensor) in state.Tensors)
        {
            tensors.Add($"{prefix}.{key}", tensor);
        }
    }

    private static void WriteAtomically(string path, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? ".";
        string name = Path.GetFileName(fullPath);
        DeleteLeftovers(directory, name);
        // Same folder as the target, so the rename stays within one file system and is atomic.
        string temporary = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                SafeTensors.Write(stream, tensors, metadata);
                // Data on disk before the rename makes it visible: otherwise a power cut could leave the new name
                // pointing at a file whose blocks were never written.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    // A writer killed mid-save leaves its temporary file behind; it is garbage once its writer is gone.
    private static void DeleteLeftovers(string directory, string name)
    {
        string prefix = $".{name}.";
        foreach (string file in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (Path.GetFileName(file).StartsWith(prefix, StringComparison.Ordinal))
            {
                TryDelete(file);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover is harmless, it only takes space until the next save.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    // ---------------------------------------------------------------- loading

    /// <summary>
    /// Restores the checkpoint at <paramref name="path"/> into freshly built objects of the same shapes and kinds as
    /// those saved, and returns the saved progress. Everything is checked before anything is changed; should an
    /// object still refuse its state, the ones already restored are rolled back, so a failed load leaves every object
    /// as it was.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The model's <c>StateDict()</c>; its tensors (which share memory with the model) are overwritten.</param>
    /// <param name="optimizer">An optimizer of the saved type over parameters of the same shapes in the same groups.</param>
    /// <param name="schedulers">As many schedulers as were saved, in the same order, of the same targets.</param>
    /// <param name="generators">As many generators as were saved, in the same order; each continues the saved sequence.</param>
    /// <param name="average">An average if, and only if, one was saved.</param>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint: damaged, another format, a malformed or unknown entry.</exception>
    /// <exception cref="ArgumentException">
    /// The checkpoint does not fit the objects: a model tensor missing, unexpected or of another shape, another
    /// optimizer type or group layout, another number of schedulers or generators; the message names the entry.
    /// </exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static CheckpointProgress Load(
        string path, IReadOnlyDictionary<string, Tensor> model, Optimizer optimizer,
        IReadOnlyList<Scheduler>? schedulers = null, IReadOnlyList<RandomGenerator>? generators = null, ExponentialMovingAverage? average = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        schedulers ??= [];
        generators ??= [];
        string source = $"Checkpoint.Load '{Path.GetFileName(path)}'";
        (Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata) = Read(path, source);
        var reader = new Entries(tensors, metadata, source);

        // 1. Parse and check everything.
        reader.CheckFormat();
        int epoch = (int)reader.Integer("epoch", int.MaxValue);
        long step = reader.Integer("step", long.MaxValue);
        Dictionary<string, Tensor> modelValues = reader.Tensors(ModelPrefix);
        CheckModel(modelValues, model, source);

        TrainingState optimizerState = reader.State(OptimizerPrefix);
        int schedulerCount = (int)reader.Integer(SchedulerCount, int.MaxValue);
        if (schedulerCount != schedulers.Count)
        {
            throw new ArgumentException($"{source}: the checkpoint holds {schedulerCount} schedulers, {schedulers.Count} were given.", nameof(schedulers));
        }
        TrainingState[] schedulerStates = [.. Enumerable.Range(0, schedulerCount).Select(i => reader.State($"{SchedulerPrefix}.{i}"))];
        TrainingState? averageState = reader.Has(AveragePrefix) ? reader.State(AveragePrefix) : null;
        if ((averageState is null) != (average is null))
        {
            throw new ArgumentException(
                averageState is null ? $"{source}: an average was given, but the checkpoint holds none." : $"{source}: the checkpoint holds an average, but none was given.",
                nameof(average));
        }
        int generatorCount = (int)reader.Integer(GeneratorCount, int.MaxValue);
        if (generatorCount != generators.Count)
        {
            throw new ArgumentException($"{source}: the checkpoint holds {generatorCount} random generators, {generators.Count} were given.", nameof(generators));
        }
        ulong[][] generatorStates = [.. Enumerable.Range(0, generatorCount).Select(i => reader.GeneratorState($"{GeneratorPrefix}.{i}"))];
        Dictionary<string, string> notes = reader.Notes(NotePrefix);
        reader.ThrowIfAnyUnread();

        // 2. Apply: the pieces that check their own state go first, each with an undo; then what cannot fail.
        var undo = new Stack<Action>();
        try
        {
            TrainingState optimizerBefore = optimizer.StateDict();
            optimizer.LoadStateDict(optimizerState);
            undo.Push(() => optimizer.LoadStateDict(optimizerBefore));
            for (int i = 0; i < schedulerStates.Length; i++)
            {
                Scheduler scheduler = schedulers[i];
                TrainingState before = scheduler.StateDict();
                scheduler.LoadStateDict(schedulerStates[i]);
                undo.Push(() => scheduler.LoadStateDict(before));
            }
            if (average is not null)
            {
                average.LoadStateDict(averageState!);
            }
        }
        catch
        {
            while (undo.Count > 0)
            {
                undo.Pop()();
            }
            throw;
        }
        for (int i = 0; i < generatorStates.Length; i++)
        {
            generators[i].SetState(generatorStates[i]);
        }
        foreach ((string name, Tensor target) in model)
        {
            modelValues[name].CopyTo(target.AsSpan());
        }
        return new CheckpointProgress(epoch, step) { Notes = notes };
    }

    /// <summary>
    /// The epoch, step and notes of the checkpoint at <paramref name="path"/>, without restoring anything (reads the
    /// header only): e.g. to check that a checkpoint belongs to this run before <see cref="Load"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The header is malformed or is not a NeuralCore checkpoint's.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static CheckpointProgress ReadProgress(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string source = $"Checkpoint.ReadProgress '{Path.GetFileName(path)}'";
        Dictionary<string, string> metadata;
        try
        {
            metadata = SafeTensors.LoadMetadata(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        var reader = new Entries([], metadata, source);
        reader.CheckFormat();
        int epoch = (int)reader.Integer("epoch", int.MaxValue);
        long step = reader.Integer("step", long.MaxValue);
        return new CheckpointProgress(epoch, step) { Notes = reader.Notes(NotePrefix) };
    }

    // One open file gives the metadata and the tensors of the same version, even if a writer renames a new one in.
    private static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path, string source)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
            Dictionary<string, string> metadata = SafeTensors.LoadMetadata(stream);
            stream.Position = 0;
            return (SafeTensors.Load(stream), metadata);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    private static void CheckModel(Dictionary<string, Tensor> saved, IReadOnlyDictionary<string, Tensor> model, string source)
    {
        var problems = new List<string>();
        string[] missing = [.. model.Keys.Where(name => !saved.ContainsKey(name))];
        string[] unexpected = [.. saved.Keys.Where(name => !model.ContainsKey(name))];
        if (missing.Length > 0)
        {
            problems.Add($"missing from the checkpoint: {string.Join(", ", missing)}");
        }
        if (unexpected.Length > 0)
        {
            problems.Add($"not in the model: {string.Join(", ", unexpected)}");
        }
        foreach ((string name, Tensor target) in model)
        {
            if (saved.TryGetValue(name, out Tensor? value) && !value.Shape.SequenceEqual(target.Shape))
            {
                problems.Add($"'{name}' has shape {value.ShapeText} in the checkpoint, {target.ShapeText} in the model");
            }
            else if (!target.IsContiguous)
            {
                problems.Add($"'{name}' of the model is not contiguous; pass model.StateDict()");
            }
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException($"{source}: the model does not match: {string.Join("; ", problems)}.", nameof(model));
        }
    }

    /// <summary>The file's entries, each marked as read when taken, so that anything left over is reported.</summary>
    private sealed class Entries(Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata, string source)
    {
        private readonly HashSet<string> _readTensors = new(StringComparer.Ordinal);
        private readonly HashSet<string> _readMetadata = new(StringComparer.Ordinal);

        public bool Has(string key) => metadata.ContainsKey(key);

        public string Text(string key)
        {
            if (!metadata.TryGetValue(key, out string? value))
            {
                throw new InvalidDataException($"{source}: the metadata has no '{key}' entry; is this a NeuralCore checkpoint?");
            }
            _readMetadata.Add(key);
            return value;
        }

        public void CheckFormat()
        {
            string format = Text("format");
            string version = Text("format_version");
            if (format != FormatName || version != FormatVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new InvalidDataException($"{source}: format '{format}' version {version}; expected '{FormatName}' version {FormatVersion}.");
            }
        }

        public long Integer(string key, long maximum)
        {
            string text = Text(key);
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value <= maximum
                ? value
                : throw new InvalidDataException($"{source}: '{key}' = '{text}', expected a whole number in [0, {maximum}].");
        }

        public ulong[] GeneratorState(string key)
        {
            string text = Text(key);
            string[] words = text.Split(',');
            var state = new ulong[words.Length];
            for (int i = 0; i < words.Length; i++)
            {
                if (!ulong.TryParse(words[i], NumberStyles.None, CultureInfo.InvariantCulture, out state[i]))
                {
                    throw new InvalidDataException($"{source}: '{key}' = '{text}' is not a list of 64-bit words.");
                }
            }
            // The generator's own check (6 words, non-zero core), reported as bad data rather than a bad argument.
            try
            {
                new RandomGenerator(0).SetState(state);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{source}: '{key}': {e.Message}", e);
            }
            return state;
        }

        /// <summary>The tensors named <c>prefix.*</c>, by the rest of their names.</summary>
        public Dictionary<string, Tensor> Tensors(string prefix)
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach ((string key, Tensor tensor) in tensors)
            {
                if (key.StartsWith(prefix + ".", StringComparison.Ordinal))
                {
                    result.Add(key[(prefix.Length + 1)..], tensor);
                    _readTensors.Add(key);
                }
            }
            return result;
        }

        /// <summary>A <see cref="TrainingState"/> written by <c>Put(prefix, …)</c>.</summary>
        public TrainingState State(string prefix)
        {
            var state = new TrainingState(Text(prefix));
            foreach ((string key, Tensor tensor) in Tensors(prefix))
            {
                state.Tensors.Add(key, tensor);
            }
            foreach ((string key, string text) in metadata)
            {
                if (!key.StartsWith(prefix + ".", StringComparison.Ordinal))
                {
                    continue;
                }
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    throw new InvalidDataException($"{source}: '{key}' = '{text}' is not a number.");
                }
                state.Scalars.Add(key[(prefix.Length + 1)..], value);
                _readMetadata.Add(key);
            }
            return state;
        }

        /// <summary>The entries named <c>prefix*</c>, by the rest of their names.</summary>
        public Dictionary<string, string> Notes(string prefix)
        {
            var notes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach ((string key, string value) in metadata)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    notes.Add(key[prefix.Length..], value);
                    _readMetadata.Add(key);
                }
            }
            return notes;
        }

        public void ThrowIfAnyUnread()
        {
            string? tensor = tensors.Keys.FirstOrDefault(key => !_readTensors.Contains(key));
            string? entry = metadata.Keys.FirstOrDefault(key => !_readMetadata.Contains(key));
            if (tensor is not null || entry is not null)
            {
                throw new InvalidDataException(tensor is not null
                    ? $"{source}: unknown tensor '{tensor}' (expected model.*, optimizer.*, scheduler.N.*, average.*)."
                    : $"{source}: unknown metadata entry '{entry}'.");
            }
        }
    }
}
