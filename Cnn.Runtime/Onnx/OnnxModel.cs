namespace CnnGen.Onnx;

/// <summary>What <see cref="OnnxModelReader"/> reads of an ONNX <c>ModelProto</c>: the default-domain opset and the graph.</summary>
public sealed record OnnxModel(
    long IrVersion,
    long Opset,
    string Producer,
    string GraphName,
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>One <c>NodeProto</c>; <paramref name="Index"/> is its position in the graph's node list.</summary>
public sealed record OnnxNode(
    int Index,
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxNodeAttribute> Attributes)
{
    /// <summary>How errors name the node: <c>node 12 'conv1' (Conv)</c>.</summary>
    public string Label => Name.Length == 0 ? $"node {Index} ({OpType})" : $"node {Index} '{Name}' ({OpType})";
}

/// <summary>One <c>AttributeProto</c> with the value its type says (graphs and strings lists are not read).</summary>
public sealed record OnnxNodeAttribute(
    string Name,
    long? Int = null,
    float? Float = null,
    string? Text = null,
    IReadOnlyList<long>? Ints = null,
    IReadOnlyList<float>? Floats = null,
    OnnxTensor? Tensor = null);

/// <summary>One <c>TensorProto</c>: float32 values (from <c>raw_data</c> or <c>float_data</c>) or int64 ones; the
/// value count always equals the product of <paramref name="Dims"/>.</summary>
public sealed record OnnxTensor(string Name, int DataType, IReadOnlyList<long> Dims, float[]? Floats, long[]? Int64s)
{
    public const int FloatType = 1, Int64Type = 7;

    public long Count => Floats?.Length ?? Int64s?.Length ?? 0;

    public string ShapeText => "[" + string.Join(", ", Dims) + "]";
}

/// <summary>One <c>ValueInfoProto</c> of a tensor: element type and dimensions, each a number or a symbol (null value).</summary>
public sealed record OnnxValueInfo(string Name, int ElementType, IReadOnlyList<OnnxDimension>? Shape);

/// <summary>A dimension: <paramref name="Value"/> when fixed, else the symbol (e.g. <c>batch</c>) or nothing.</summary>
public sealed record OnnxDimension(long? Value, string? Symbol)
{
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? (Symbol is { Length: > 0 } ? Symbol : "?");
}
