namespace CnnGen.Parallelism;

/// <summary>
/// Work on one contiguous chunk of a batch: images <c>[start, start + count)</c>, with the chunk's slices of the
/// inputs, labels (empty when there are none) and outputs (empty when there are none).
/// </summary>
public delegate void BatchChunk(int worker, int start, int count,
    ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> outputs);
