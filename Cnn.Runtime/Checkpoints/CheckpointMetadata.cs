using System.Globalization;
using CnnGen.Optimizers;

namespace CnnGen.Checkpoints;

/// <summary>Builds and parses the metadata of a CnnGen checkpoint.</summary>
internal static class CheckpointMetadata
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Dictionary<string, string> Build(INetwork network, IOptimizer? optimizer, TrainingState? training)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [CheckpointKeys.Format] = CheckpointKeys.FormatValue,
            [CheckpointKeys.FormatVersion] = "1",
            [CheckpointKeys.Network] = network.Name,
            [CheckpointKeys.Fingerprint] = network.Fingerprint,
            [CheckpointKeys.Summary] = network.Summary,
            [CheckpointKeys.ParameterCount] = network.ParameterCount.ToString(Invariant),
        };
        if (training is not null)
        {
            metadata[CheckpointKeys.Epoch] = training.Epoch.ToString(Invariant);
            metadata[CheckpointKeys.Step] = training.Step.ToString(Invariant);
            if (training.LearningRate is float lr) metadata[CheckpointKeys.LearningRate] = lr.ToString("R", Invariant);
            if (training.Seed is int seed) metadata[CheckpointKeys.Seed] = seed.ToString(Invariant);
            if (training.Schedule is string schedule) metadata[CheckpointKeys.Schedule] = schedule;
            foreach (var (key, value) in training.Extra)
            {
                if (CheckpointKeys.IsReserved(key))
                    throw new ArgumentException($"extra metadata key '{key}' clashes with a checkpoint key", nameof(training));
                metadata[key] = value;
            }
        }
        if (optimizer is not null)
        {
            metadata[CheckpointKeys.Optimizer] = optimizer.Name;
            metadata[CheckpointKeys.OptimizerStep] = optimizer.StepCount.ToString(Invariant);
            metadata[CheckpointKeys.OptimizerSlots] = string.Join(",", optimizer.State.Keys.Order(StringComparer.Ordinal));
            metadata[CheckpointKeys.OptimizerPrefix + "lr"] = optimizer.LearningRate.ToString("R", Invariant);
            foreach (var (key, value) in optimizer.HyperParameters) metadata[CheckpointKeys.OptimizerPrefix + key] = value;
            if (training?.LearningRate is null) metadata[CheckpointKeys.LearningRate] = optimizer.LearningRate.ToString("R", Invariant);
        }
        return metadata;
    }

    public static CheckpointInfo Parse(string path, IReadOnlyDictionary<string, string> metadata, INetwork? network)
    {
        string? fingerprint = metadata.GetValueOrDefault(CheckpointKeys.Fingerprint);
        var training = new TrainingState
        {
            Epoch = (int)Integer(path, metadata, CheckpointKeys.Epoch, int.MaxValue),
            Step = Integer(path, metadata, CheckpointKeys.Step, long.MaxValue),
            LearningRate = Float(path, metadata, CheckpointKeys.LearningRate),
            Seed = metadata.ContainsKey(CheckpointKeys.Seed) ? (int)Integer(path, metadata, CheckpointKeys.Seed, int.MaxValue, int.MinValue) : null,
            Schedule = metadata.GetValueOrDefault(CheckpointKeys.Schedule),
            Extra = metadata.Where(p => !CheckpointKeys.IsReserved(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
        return new CheckpointInfo(
            path,
            metadata.GetValueOrDefault(CheckpointKeys.Network),
            fingerprint,
            network is null || fingerprint is null ? null : fingerprint == network.Fingerprint,
            metadata.GetValueOrDefault(CheckpointKeys.Optimizer),
            training,
            metadata);
    }

    public static long Integer(string path, IReadOnlyDictionary<string, string> metadata, string key, long max, long min = 0)
    {
        if (!metadata.TryGetValue(key, out var text)) return 0;
        if (!long.TryParse(text, NumberStyles.Integer, Invariant, out long value) || value < min || value > max)
            throw new CheckpointException(path, $"metadata {key} is '{text}', not an integer in [{min}, {max}]");
        return value;
    }

    public static float? Float(string path, IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (!metadata.TryGetValue(key, out var text)) return null;
        if (!float.TryParse(text, NumberStyles.Float, Invariant, out float value))
            throw new CheckpointException(path, $"metadata {key} is '{text}', not a number");
        return value;
    }
}
