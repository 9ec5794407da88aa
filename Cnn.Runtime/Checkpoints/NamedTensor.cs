namespace CnnGen.Checkpoints;

/// <summary>A float32 tensor to write: its name, shape and values (row-major).</summary>
public sealed record NamedTensor(string Name, IReadOnlyList<int> Shape, ReadOnlyMemory<float> Values);
