namespace CnnGen.Checkpoints;

/// <summary>One tensor listed in a safetensors header: its dtype, shape and byte range in the data section.</summary>
public sealed record SafeTensorEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Shape) count *= d;
            return count;
        }
    }

    /// <summary>Bytes per value: 4 for F32, 8 for I64 (PyTorch's <c>num_batches_tracked</c> counters).</summary>
    public int ElementSize => DType == "I64" ? 8 : 4;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Whether this tensor's shape equals <paramref name="shape"/>.</summary>
    public bool HasShape(IReadOnlyList<int> shape)
    {
        if (shape.Count != Shape.Length) return false;
        for (int i = 0; i < Shape.Length; i++) if (Shape[i] != shape[i]) return false;
        return true;
    }
}
