namespace CnnGen.Onnx;

/// <summary>
/// An ONNX model under construction: float32 graph inputs and outputs (a null dimension is the dynamic batch),
/// initializers, and nodes in topological order. <see cref="ToBytes"/> encodes it as an ONNX <c>ModelProto</c>
/// (IR version 8, the default opset 17), which ONNX Runtime and <c>onnx.checker</c> read.
/// </summary>
public sealed class OnnxGraph
{
    // Field numbers of onnx.proto.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelGraph = 7, ModelOpset = 8, ModelMetadata = 14;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeString = 4, AttributeInts = 8, AttributeType = 20;
    private const int AttributeTypeFloat = 1, AttributeTypeInt = 2, AttributeTypeString = 3, AttributeTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorInt64Data = 7, TensorName = 8, TensorRawData = 9;
    private const int DataTypeFloat = 1, DataTypeInt64 = 7;
    private const int ValueName = 1, ValueType = 2, TypeTensor = 1, TensorTypeElement = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    private const int EntryKey = 1, EntryValue = 2;

    /// <summary>The ONNX IR version written (the one that goes with opset 17).</summary>
    public const int IrVersion = 8;

    private readonly string _name;
    private readonly List<Action<ProtoWriter>> _nodes = new(), _initializers = new(), _inputs = new(), _outputs = new();
    private readonly HashSet<string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => _name = name;

    /// <summary>The name the dynamic batch dimension gets in inputs and outputs.</summary>
    public string BatchDimension { get; init; } = "batch";

    public void Input(string name, params long?[] dims)
    {
        Define(name);
        _inputs.Add(w => ValueInfo(w, name, dims));
    }

    public void Output(string name, params long?[] dims)
    {
        if (!_values.Contains(name)) throw new InvalidOperationException($"ONNX graph {_name}: output {name} is not produced by any node.");
        _outputs.Add(w => ValueInfo(w, name, dims));
    }

    public void Initializer(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
    {
        long count = 1;
        foreach (long d in dims) count *= d;
        if (count != values.Length)
            throw new ArgumentException($"ONNX graph {_name}: initializer {name} of shape [{string.Join(", ", dims)}] needs {count} values, got {values.Length}.");
        Define(name);
        var raw = Checkpoints.LittleEndianFloats.ToBytes(values);
        var shape = dims.ToArray();
        _initializers.Add(w =>
        {
            w.PackedVarints(TensorDims, shape);
            w.Varint(TensorDataType, DataTypeFloat);
            w.String(TensorName, name);
            w.Bytes(TensorRawData, raw);
        });
    }

    public void Int64Initializer(string name, params long[] values)
    {
        Define(name);
        var copy = values.ToArray();
        _initializers.Add(w =>
        {
            w.PackedVarints(TensorDims, [copy.Length]);
            w.Varint(TensorDataType, DataTypeInt64);
            w.PackedVarints(TensorInt64Data, copy);
            w.String(TensorName, name);
        });
    }

    /// <summary>Adds a node; its inputs must be defined already (nodes go in topological order).</summary>
    public void Node(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        foreach (var input in inputs)
            if (input.Length != 0 && !_values.Contains(input))
                throw new InvalidOperationException($"ONNX graph {_name}: node {name} ({opType}) reads {input}, which nothing defines before it.");
        foreach (var output in outputs) Define(output);
        var ins = inputs.ToArray();
        var outs = outputs.ToArray();
        _nodes.Add(w =>
        {
            foreach (var i in ins) w.String(NodeInput, i);
            foreach (var o in outs) w.String(NodeOutput, o);
            w.String(NodeName, name);
            w.String(NodeOpType, opType);
            foreach (var a in attributes) w.Message(NodeAttribute, aw => Attribute(aw, a));
        });
    }

    public void Metadata(string key, string value) => _metadata[key] = value;

    public byte[] ToBytes(int opset = 17, string producer = "CnnGen", string producerVersion = "")
    {
        var model = new ProtoWriter();
        model.Varint(ModelIrVersion, IrVersion);
        model.String(ModelProducerName, producer);
        if (producerVersion.Length != 0) model.String(ModelProducerVersion, producerVersion);
        model.Message(ModelGraph, g =>
        {
            foreach (var node in _nodes) g.Message(GraphNode, node);
            g.String(GraphName, _name);
            foreach (var initializer in _initializers) g.Message(GraphInitializer, initializer);
            foreach (var input in _inputs) g.Message(GraphInput, input);
            foreach (var output in _outputs) g.Message(GraphOutput, output);
        });
        model.Message(ModelOpset, o =>
        {
            o.String(OpsetDomain, "");
            o.Varint(OpsetVersion, opset);
        });
        foreach (var (key, value) in _metadata)
            model.Message(ModelMetadata, e =>
            {
                e.String(EntryKey, key);
                e.String(EntryValue, value);
            });
        return model.ToArray();
    }

    private void Define(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException($"ONNX graph {_name}: a value needs a name.");
        if (!_values.Add(name)) throw new InvalidOperationException($"ONNX graph {_name}: value {name} is defined twice.");
    }

    private void ValueInfo(ProtoWriter w, string name, long?[] dims)
    {
        w.String(ValueName, name);
        w.Message(ValueType, t => t.Message(TypeTensor, tensor =>
        {
            tensor.Varint(TensorTypeElement, DataTypeFloat);
            tensor.Message(TensorTypeShape, shape =>
            {
                foreach (var d in dims)
                    shape.Message(ShapeDim, dim =>
                    {
                        if (d is long value) dim.Varint(DimValue, value);
                        else dim.String(DimParam, BatchDimension);
                    });
            });
        }));
    }

    private static void Attribute(ProtoWriter w, OnnxAttribute a)
    {
        w.String(AttributeName, a.Name);
        if (a.Int is long i)
        {
            w.Varint(AttributeInt, i);
            w.Varint(AttributeType, AttributeTypeInt);
        }
        else if (a.Float is float f)
        {
            w.Float(AttributeFloat, f);
            w.Varint(AttributeType, AttributeTypeFloat);
        }
        else if (a.Ints is { } ints)
        {
            w.PackedVarints(AttributeInts, ints);
            w.Varint(AttributeType, AttributeTypeInts);
        }
        else if (a.Text is { } s)
        {
            w.String(AttributeString, s);
            w.Varint(AttributeType, AttributeTypeString);
        }
    }
}
