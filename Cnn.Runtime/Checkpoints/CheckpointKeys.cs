namespace CnnGen.Checkpoints;

/// <summary>Metadata keys and tensor-name prefixes of CnnGen checkpoints.</summary>
public static class CheckpointKeys
{
    public const string Format = "format";
    public const string FormatValue = "cnngen";
    public const string FormatVersion = "format_version";
    public const string Network = "network";
    public const string Fingerprint = "fingerprint";
    public const string Summary = "summary";
    public const string ParameterCount = "parameter_count";
    public const string Epoch = "epoch";
    public const string Step = "step";
    public const string LearningRate = "learning_rate";
    public const string Seed = "seed";
    public const string Schedule = "schedule";
    public const string Optimizer = "optimizer";

    /// <summary>Prefix of optimiser metadata (<c>optimizer.step</c>, <c>optimizer.slots</c>, hyper-parameters)
    /// and of optimiser state tensors (<c>optimizer.exp_avg.conv1.weight</c>).</summary>
    public const string OptimizerPrefix = "optimizer.";
    public const string OptimizerStep = "optimizer.step";
    public const string OptimizerSlots = "optimizer.slots";

    /// <summary>The state tensor of <paramref name="slot"/> for the network tensor <paramref name="tensor"/>.</summary>
    public static string StateTensor(string slot, string tensor) => $"{OptimizerPrefix}{slot}.{tensor}";

    /// <summary>Whether a metadata key belongs to the checkpoint format itself (extra metadata may not use it).</summary>
    public static bool IsReserved(string key) =>
        key is Format or FormatVersion or Network or Fingerprint or Summary or ParameterCount or Epoch or Step
            or LearningRate or Seed or Schedule or Optimizer or SafeTensorsWriter.DataChecksumKey
        || key.StartsWith(OptimizerPrefix, StringComparison.Ordinal);
}
