namespace CnnGen.Checkpoints;

/// <summary>What a loaded checkpoint says about itself.</summary>
/// <param name="Path">The file.</param>
/// <param name="Network">The saving network's name, if recorded.</param>
/// <param name="Fingerprint">The saving network's architecture fingerprint, if recorded.</param>
/// <param name="ArchitectureMatches">Whether that fingerprint equals the loading network's (null when none is recorded or no network was given).</param>
/// <param name="Optimizer">The optimiser's name, if its state was saved.</param>
/// <param name="Training">Epoch, step, learning rate and extra values.</param>
/// <param name="Metadata">All metadata as stored.</param>
public sealed record CheckpointInfo(
    string Path,
    string? Network,
    string? Fingerprint,
    bool? ArchitectureMatches,
    string? Optimizer,
    TrainingState Training,
    IReadOnlyDictionary<string, string> Metadata);
