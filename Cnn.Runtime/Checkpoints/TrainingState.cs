namespace CnnGen.Checkpoints;

/// <summary>Where training stood when a checkpoint was written, recorded in its metadata.</summary>
public sealed record TrainingState
{
    /// <summary>Epochs completed.</summary>
    public int Epoch { get; init; }

    /// <summary>Optimiser steps taken over the whole run.</summary>
    public long Step { get; init; }

    /// <summary>The learning rate in use.</summary>
    public float? LearningRate { get; init; }

    /// <summary>The data-order seed, so batches can be replayed on resume.</summary>
    public int? Seed { get; init; }

    /// <summary>The learning-rate schedule's description.</summary>
    public string? Schedule { get; init; }

    /// <summary>Further metadata (e.g. <c>loss</c>, <c>accuracy</c>), stored as given; keys must not clash with the
    /// checkpoint's own keys.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}
