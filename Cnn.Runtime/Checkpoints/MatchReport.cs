namespace CnnGen.Checkpoints;

/// <summary>A tensor present in both checkpoint and network with different shapes.</summary>
public sealed record ShapeMismatch(string Name, string CheckpointShape, string NetworkShape)
{
    public override string ToString() => $"{Name}: checkpoint has shape {CheckpointShape}, network expects {NetworkShape}";
}

/// <summary>What <see cref="Checkpoint.LoadMatching"/> did.</summary>
/// <param name="Loaded">Network tensors loaded (same name and shape).</param>
/// <param name="Skipped">Network tensors left as they were because the checkpoint's shape differs.</param>
/// <param name="Missing">Network tensors the checkpoint lacks, left as they were.</param>
/// <param name="Unused">Checkpoint tensors (other than optimiser state) the network has no place for.</param>
/// <param name="Mismatches">Shapes of the skipped tensors.</param>
/// <param name="Info">The checkpoint's metadata.</param>
public sealed record MatchReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unused,
    IReadOnlyList<ShapeMismatch> Mismatches,
    CheckpointInfo Info)
{
    public override string ToString() =>
        $"loaded {Loaded.Count}, skipped {Skipped.Count}" + (Mismatches.Count > 0 ? $" ({string.Join("; ", Mismatches)})" : "") +
        $", missing {Missing.Count}" + (Missing.Count > 0 ? $" ({string.Join(", ", Missing)})" : "") +
        $", unused {Unused.Count}" + (Unused.Count > 0 ? $" ({string.Join(", ", Unused)})" : "");
}
