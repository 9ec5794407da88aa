using CnnGen.Optimizers;

namespace CnnGen.Checkpoints;

/// <summary>
/// Saves and loads a network's parameters and state tensors (BatchNorm's running statistics), and optionally its
/// optimiser's state, as safetensors, under the network's PyTorch tensor names so PyTorch reads the file as a state_dict. Saving replaces the file atomically;
/// loading validates the whole file and its fit to the network before changing anything.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes <paramref name="network"/>'s tensors, metadata (format, network, fingerprint, summary,
    /// <paramref name="training"/>) and <paramref name="optimizer"/>'s state as <c>optimizer.SLOT.TENSOR</c> tensors.</summary>
    public static void Save(string path, INetwork network, IOptimizer? optimizer = null, TrainingState? training = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var metadata = CheckpointMetadata.Build(network, optimizer, training);
        float[] parameters = network.Parameters.ToArray();
        float[] state = network.State.ToArray();
        var tensors = new List<NamedTensor>();
        foreach (var t in network.Tensors)
            tensors.Add(new NamedTensor(t.Name, t.Shape, parameters.AsMemory(t.Offset, t.Length)));
        foreach (var t in network.StateTensors)
            tensors.Add(new NamedTensor(t.Name, t.Shape, state.AsMemory(t.Offset, t.Length)));
        if (optimizer is not null)
        {
            foreach (var (slot, values) in optimizer.State.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (values.Length != parameters.Length)
                    throw new ArgumentException($"{optimizer.Name} state '{slot}' has {values.Length} values but {network.Name} has {parameters.Length} parameters", nameof(optimizer));
                float[] copy = (float[])values.Clone();
                foreach (var t in network.Tensors)
                    tensors.Add(new NamedTensor(CheckpointKeys.StateTensor(slot, t.Name), t.Shape, copy.AsMemory(t.Offset, t.Length)));
            }
        }
        AtomicFile.Write(path, stream => SafeTensorsWriter.Write(stream, tensors, metadata));
    }

    /// <summary>
    /// Loads a checkpoint saved from the same architecture. Every network tensor must be present with its shape and
    /// the checkpoint must hold no other parameter tensors; otherwise the error names the first tensor that differs.
    /// With <paramref name="optimizer"/>, its state, step count and learning rate are restored too (the checkpoint
    /// must hold state of an optimiser of the same name). Nothing is changed unless everything checks out.
    /// </summary>
    public static CheckpointInfo Load(string path, INetwork network, IOptimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var file = SafeTensorsFile.Read(path);
        var info = CheckpointMetadata.Parse(path, file.Metadata, network);

        var scratch = new float[network.ParameterCount];
        var stateScratch = new float[network.State.Length];
        foreach (var (t, buffer) in Stored(network, scratch, stateScratch))
        {
            var entry = file.Find(t.Name)
                ?? throw new CheckpointException(path, $"{t.Name} is missing from the checkpoint{SavedFrom(info)}");
            if (!entry.HasShape(t.Shape))
                throw new CheckpointException(path, $"{t.Name}: checkpoint has shape {entry.ShapeText}, network expects {t.ShapeText}{SavedFrom(info)}");
            CopyFinite(path, file, entry, buffer.AsSpan(t.Offset, t.Length));
        }
        var names = Names(network);
        var unexpected = file.Tensors.FirstOrDefault(e => !IsOptimizerTensor(e.Name) && !names.Contains(e.Name));
        if (unexpected is not null)
            throw new CheckpointException(path, $"{unexpected.Name} is in the checkpoint but not in {network.Name}{SavedFrom(info)}");

        if (optimizer is not null) RestoreOptimizer(path, file, network, optimizer, info);
        scratch.CopyTo(network.Parameters);
        stateScratch.CopyTo(network.State);
        return info;
    }

    /// <summary>
    /// For fine-tuning: loads the tensors whose name and shape match, leaves the others as they are, and reports
    /// which were loaded, skipped (shape differs), missing (not in the checkpoint) and unused. The file is fully
    /// validated first; a broken file changes nothing.
    /// </summary>
    public static MatchReport LoadMatching(string path, INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var file = SafeTensorsFile.Read(path);
        var info = CheckpointMetadata.Parse(path, file.Metadata, network);
        List<string> loaded = [], skipped = [], missing = [];
        List<ShapeMismatch> mismatches = [];
        var scratch = new float[network.ParameterCount];
        var stateScratch = new float[network.State.Length];
        foreach (var (t, buffer) in Stored(network, scratch, stateScratch))
        {
            var entry = file.Find(t.Name);
            if (entry is null)
            {
                missing.Add(t.Name);
            }
            else if (!entry.HasShape(t.Shape))
            {
                skipped.Add(t.Name);
                mismatches.Add(new ShapeMismatch(t.Name, entry.ShapeText, t.ShapeText));
            }
            else
            {
                CopyFinite(path, file, entry, buffer.AsSpan(t.Offset, t.Length));
                loaded.Add(t.Name);
            }
        }
        var names = Names(network);
        var unused = file.Tensors.Where(e => !IsOptimizerTensor(e.Name) && !names.Contains(e.Name)).Select(e => e.Name).ToList();

        var parameters = network.Parameters;
        foreach (var t in network.Tensors)
            if (loaded.Contains(t.Name)) scratch.AsSpan(t.Offset, t.Length).CopyTo(parameters.Slice(t.Offset, t.Length));
        var state = network.State;
        foreach (var t in network.StateTensors)
            if (loaded.Contains(t.Name)) stateScratch.AsSpan(t.Offset, t.Length).CopyTo(state.Slice(t.Offset, t.Length));
        return new MatchReport(loaded, skipped, missing, unused, mismatches, info);
    }

    /// <summary>Every tensor a checkpoint holds for the network: parameters, then state, each with the buffer it goes to.</summary>
    private static IEnumerable<(TensorInfo Tensor, float[] Buffer)> Stored(INetwork network, float[] parameters, float[] state) =>
        network.Tensors.Select(t => (t, parameters)).Concat(network.StateTensors.Select(t => (t, state)));

    private static HashSet<string> Names(INetwork network) =>
        network.Tensors.Concat(network.StateTensors).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Reads and validates a checkpoint's metadata without a network.</summary>
    public static CheckpointInfo ReadInfo(string path) =>
        CheckpointMetadata.Parse(path, SafeTensorsFile.Read(path).Metadata, network: null);

    private static void RestoreOptimizer(string path, SafeTensorsFile file, INetwork network, IOptimizer optimizer, CheckpointInfo info)
    {
        if (info.Optimizer is null)
            throw new CheckpointException(path, "holds no optimizer state; load it without an optimizer to start the optimizer afresh");
        if (info.Optimizer != optimizer.Name)
            throw new CheckpointException(path, $"holds {info.Optimizer} state, but the optimizer given is {optimizer.Name}");

        string slotList = file.Metadata.GetValueOrDefault(CheckpointKeys.OptimizerSlots, "");
        var state = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (string slot in slotList.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var values = new float[network.ParameterCount];
            foreach (var t in network.Tensors)
            {
                string name = CheckpointKeys.StateTensor(slot, t.Name);
                var entry = file.Find(name)
                    ?? throw new CheckpointException(path, $"{name} is missing from the checkpoint");
                if (!entry.HasShape(t.Shape))
                    throw new CheckpointException(path, $"{name}: checkpoint has shape {entry.ShapeText}, network expects {t.ShapeText}");
                CopyFinite(path, file, entry, values.AsSpan(t.Offset, t.Length));
            }
            state[slot] = values;
        }

        long step = CheckpointMetadata.Integer(path, file.Metadata, CheckpointKeys.OptimizerStep, long.MaxValue);
        float? learningRate = CheckpointMetadata.Float(path, file.Metadata, CheckpointKeys.OptimizerPrefix + "lr");
        try
        {
            optimizer.LoadState(state, step);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(path, $"optimizer state does not fit: {e.Message}", e);
        }
        if (learningRate is float lr) optimizer.LearningRate = lr;
    }

    /// <summary>Copies a tensor's values, refusing NaN and infinite ones: a network would turn them into NaN
    /// outputs (every class tied, a NaN loss) without a word.</summary>
    private static void CopyFinite(string path, SafeTensorsFile file, SafeTensorEntry entry, Span<float> target)
    {
        file.CopyTo(entry, target);
        int bad = FirstNonFinite(target);
        if (bad >= 0)
            throw new CheckpointException(path, $"{entry.Name} holds {Describe(target[bad])} at index {bad}; a checkpoint must hold finite values (was it saved from a diverged run?)");
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    private static bool IsOptimizerTensor(string name) => name.StartsWith(CheckpointKeys.OptimizerPrefix, StringComparison.Ordinal);

    private static string SavedFrom(CheckpointInfo info) =>
        info.Network is null ? "" : $" (saved from {info.Network})";
}
