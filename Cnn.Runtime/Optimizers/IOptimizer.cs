namespace CnnGen.Optimizers;

/// <summary>
/// Updates a flat parameter buffer from its gradients. State (moments) is kept per value in buffers with the
/// parameters' layout, named by PyTorch's state keys, so checkpoints can save it and training resume exactly.
/// </summary>
/// <remarks>Threads: an optimiser's state belongs to one training run, stepped by one thread between
/// <c>ComputeGradients</c> calls (as the trainer does); it is not safe to step one optimiser from two threads at once.
/// Its work is single-threaded element-wise arithmetic, so its results do not depend on any thread count.</remarks>
public interface IOptimizer
{
    /// <summary>The optimiser's name as recorded in checkpoints, e.g. <c>SGD</c>, <c>Adam</c>.</summary>
    string Name { get; }

    float LearningRate { get; set; }

    /// <summary>Steps taken so far (PyTorch's <c>step</c>).</summary>
    long StepCount { get; }

    /// <summary>Hyper-parameters other than the learning rate, as text for checkpoint metadata.</summary>
    IReadOnlyDictionary<string, string> HyperParameters { get; }

    /// <summary>Names of the state buffers this optimiser keeps once it has stepped, e.g. <c>exp_avg</c>.</summary>
    IReadOnlyList<string> StateSlots { get; }

    /// <summary>The state buffers that exist now (none before the first step), by slot name.</summary>
    IReadOnlyDictionary<string, float[]> State { get; }

    /// <summary>One update: <paramref name="parameters"/> change in place.</summary>
    void Step(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>Replaces the state with copies of <paramref name="state"/>. Validates everything first
    /// (known slots, equal lengths) and changes nothing when it throws.</summary>
    void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount);

    /// <summary>Forgets all state, as if freshly made.</summary>
    void Reset();
}
