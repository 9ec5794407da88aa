using CnnGen.Checkpoints;
using System.Buffers.Binary;

namespace CnnGen.Onnx;

/// <summary>
/// A protocol-buffer reader of the parts of ONNX's <c>ModelProto</c> an import needs: the opset, and the graph's nodes,
/// attributes, initializers (float32 from <c>raw_data</c> or <c>float_data</c>, int64 from <c>int64_data</c> or
/// <c>raw_data</c>), inputs and outputs. Every length and count is checked against the bytes left; a tensor whose values
/// disagree with its dimensions is named.
/// </summary>
public static class OnnxModelReader
{
    // Field numbers of onnx.proto.
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelGraph = 7, ModelOpset = 8;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeString = 4, AttributeTensor = 5,
        AttributeFloats = 7, AttributeInts = 8;
    private const int TensorDims = 1, TensorDataType = 2, TensorFloatData = 4, TensorInt64Data = 7, TensorName = 8,
        TensorRawData = 9, TensorDataLocation = 14;
    private const int ValueName = 1, ValueType = 2, TypeTensor = 1, TensorTypeElement = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;

    public static OnnxModel Read(string path)
    {
        byte[] bytes;
        try
        {
            // Read the length the file system gives, never "until the end": a device such as /dev/zero has none.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.CanSeek ? stream.Length : 0;
            if (length == 0) throw new OnnxImportException($"{path} is empty or not a regular file");
            if (length > Array.MaxLength) throw new OnnxImportException($"{path} is {length:N0} bytes; import reads models up to {Array.MaxLength:N0} bytes");
            bytes = new byte[length];
            stream.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxImportException($"cannot read {path}: {e.Message}", e);
        }
        return Read(bytes);
    }

    public static OnnxModel Read(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length == 0) throw new OnnxImportException("not a valid ONNX file: it is empty");
        var r = new ProtoReader(bytes, "model");
        long irVersion = 0, opset = -1;
        string producer = "";
        ProtoReader? graph = null;
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            switch (field)
            {
                case ModelIrVersion when wire == ProtoReader.VarintType: irVersion = r.Int64(); break;
                case ModelProducerName when wire == ProtoReader.LengthDelimitedType: producer = r.String(); break;
                case ModelGraph when wire == ProtoReader.LengthDelimitedType: graph = r.Message("graph"); break;
                case ModelOpset when wire == ProtoReader.LengthDelimitedType:
                {
                    var (domain, version) = Opset(r.Message("opset_import"));
                    if (domain is "" or "ai.onnx") opset = version;
                    break;
                }
                default: r.Skip(wire); break;
            }
        }
        if (graph is null) throw new OnnxImportException("not a valid ONNX file: the model holds no graph");
        if (opset < 0) throw new OnnxImportException("not a valid ONNX file: the model imports no version of the default ONNX opset");
        return ReadGraph(graph, irVersion, opset, producer);
    }

    private static (string Domain, long Version) Opset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            if (field == OpsetDomain && wire == ProtoReader.LengthDelimitedType) domain = r.String();
            else if (field == OpsetVersion && wire == ProtoReader.VarintType) version = r.Int64();
            else r.Skip(wire);
        }
        return (domain, version);
    }

    private static OnnxModel ReadGraph(ProtoReader r, long irVersion, long opset, string producer)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            if (wire != ProtoReader.LengthDelimitedType) { r.Skip(wire); continue; }
            switch (field)
            {
                case GraphNode: nodes.Add(Node(r.Message($"node {nodes.Count}"), nodes.Count)); break;
                case GraphName: name = r.String(); break;
                case GraphInitializer: initializers.Add(Tensor(r.Message($"initializer {initializers.Count}"))); break;
                case GraphInput: inputs.Add(ValueInfo(r.Message($"graph input {inputs.Count}"))); break;
                case GraphOutput: outputs.Add(ValueInfo(r.Message($"graph output {outputs.Count}"))); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxModel(irVersion, opset, producer, name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNode Node(ProtoReader r, int index)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxNodeAttribute>(StringComparer.Ordinal);
        string name = "", opType = "", domain = "";
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            if (wire != ProtoReader.LengthDelimitedType) { r.Skip(wire); continue; }
            switch (field)
            {
                case NodeInput: inputs.Add(r.String()); break;
                case NodeOutput: outputs.Add(r.String()); break;
                case NodeName: name = r.String(); break;
                case NodeOpType: opType = r.String(); break;
                case NodeDomain: domain = r.String(); break;
                case NodeAttribute:
                {
                    var a = Attribute(r.Message($"{r.What} attribute {attributes.Count}"));
                    if (!attributes.TryAdd(a.Name, a)) throw r.Broken($"attribute {a.Name} is given twice");
                    break;
                }
                default: r.Skip(wire); break;
            }
        }
        if (opType.Length == 0) throw r.Broken("a node without an op type");
        return new OnnxNode(index, name, opType, domain, inputs, outputs, attributes);
    }

    private static OnnxNodeAttribute Attribute(ProtoReader r)
    {
        string name = "";
        long? i = null;
        float? f = null;
        string? s = null;
        OnnxTensor? t = null;
        List<long>? ints = null;
        List<float>? floats = null;
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            switch (field)
            {
                case AttributeName when wire == ProtoReader.LengthDelimitedType: name = r.String(); break;
                case AttributeFloat when wire == ProtoReader.Fixed32Type: f = r.Fixed32Float(); break;
                case AttributeInt when wire == ProtoReader.VarintType: i = r.Int64(); break;
                case AttributeString when wire == ProtoReader.LengthDelimitedType: s = r.String(); break;
                case AttributeTensor when wire == ProtoReader.LengthDelimitedType: t = Tensor(r.Message($"{r.What} tensor")); break;
                case AttributeInts: r.Int64s(wire, ints ??= [], "ints"); break;
                case AttributeFloats: r.Floats(wire, floats ??= [], "floats"); break;
                default: r.Skip(wire); break;
            }
        }
        if (name.Length == 0) throw r.Broken("an attribute without a name");
        return new OnnxNodeAttribute(name, i, f, s, ints, floats, t);
    }

    private static OnnxTensor Tensor(ProtoReader r)
    {
        var dims = new List<long>();
        int dataType = 0;
        string name = "";
        ReadOnlyMemory<byte>? raw = null;
        List<float>? floats = null;
        List<long>? int64s = null;
        bool external = false;
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            switch (field)
            {
                case TensorDims: r.Int64s(wire, dims, "dims"); break;
                case TensorDataType when wire == ProtoReader.VarintType: dataType = (int)Math.Clamp(r.Int64(), int.MinValue, int.MaxValue); break;
                case TensorFloatData: r.Floats(wire, floats ??= [], "float_data"); break;
                case TensorInt64Data: r.Int64s(wire, int64s ??= [], "int64_data"); break;
                case TensorName when wire == ProtoReader.LengthDelimitedType: name = r.String(); break;
                case TensorRawData when wire == ProtoReader.LengthDelimitedType: raw = r.LengthDelimited(); break;
                case TensorDataLocation when wire == ProtoReader.VarintType: external = r.Int64() == 1; break;
                default: r.Skip(wire); break;
            }
        }
        string label = name.Length == 0 ? r.What : $"tensor {name}";
        if (external)
            throw new OnnxImportException($"{label}: its values are in an external file, which import does not read (save the model with its weights inside)");
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new OnnxImportException($"not a valid ONNX file: {label} has a negative dimension in [{string.Join(", ", dims)}]");
            if (d != 0 && count > long.MaxValue / d) throw new OnnxImportException($"not a valid ONNX file: {label}: dimensions [{string.Join(", ", dims)}] overflow");
            count *= d;
        }
        if (count > int.MaxValue / 8) throw new OnnxImportException($"{label}: dimensions [{string.Join(", ", dims)}] hold {count} values, more than import reads");
        float[]? floatValues = null;
        long[]? int64Values = null;
        if (dataType == OnnxTensor.FloatType)
        {
            if (raw is { } bytes)
            {
                if (bytes.Length != 4 * count)
                    throw new OnnxImportException($"not a valid ONNX file: {label} of shape [{string.Join(", ", dims)}] needs {count} float32 values ({4 * count} bytes) but holds {bytes.Length} bytes");
                floatValues = new float[count];
                LittleEndianFloats.Read(bytes.Span, floatValues);
            }
            else
            {
                floatValues = floats?.ToArray() ?? [];
                if (floatValues.Length != count)
                    throw new OnnxImportException($"not a valid ONNX file: {label} of shape [{string.Join(", ", dims)}] needs {count} float32 values but holds {floatValues.Length}");
            }
        }
        else if (dataType == OnnxTensor.Int64Type)
        {
            if (raw is { } bytes)
            {
                if (bytes.Length != 8 * count)
                    throw new OnnxImportException($"not a valid ONNX file: {label} of shape [{string.Join(", ", dims)}] needs {count} int64 values ({8 * count} bytes) but holds {bytes.Length} bytes");
                int64Values = new long[count];
                var span = bytes.Span;
                for (int k = 0; k < int64Values.Length; k++) int64Values[k] = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(8 * k, 8));
            }
            else
            {
                int64Values = int64s?.ToArray() ?? [];
                if (int64Values.Length != count)
                    throw new OnnxImportException($"not a valid ONNX file: {label} of shape [{string.Join(", ", dims)}] needs {count} int64 values but holds {int64Values.Length}");
            }
        }
        return new OnnxTensor(name, dataType, dims, floatValues, int64Values);
    }

    private static OnnxValueInfo ValueInfo(ProtoReader r)
    {
        string name = "";
        int elementType = 0;
        List<OnnxDimension>? shape = null;
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            if (field == ValueName && wire == ProtoReader.LengthDelimitedType) name = r.String();
            else if (field == ValueType && wire == ProtoReader.LengthDelimitedType)
            {
                var type = r.Message($"{r.What} type");
                while (!type.AtEnd)
                {
                    var (tf, tw) = type.Tag();
                    if (tf != TypeTensor || tw != ProtoReader.LengthDelimitedType) { type.Skip(tw); continue; }
                    var tensor = type.Message($"{r.What} tensor type");
                    while (!tensor.AtEnd)
                    {
                        var (f, w) = tensor.Tag();
                        if (f == TensorTypeElement && w == ProtoReader.VarintType) elementType = (int)Math.Clamp(tensor.Int64(), 0, int.MaxValue);
                        else if (f == TensorTypeShape && w == ProtoReader.LengthDelimitedType) shape = Shape(tensor.Message($"{r.What} shape"));
                        else tensor.Skip(w);
                    }
                }
            }
            else r.Skip(wire);
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    private static List<OnnxDimension> Shape(ProtoReader r)
    {
        var dims = new List<OnnxDimension>();
        while (!r.AtEnd)
        {
            var (field, wire) = r.Tag();
            if (field != ShapeDim || wire != ProtoReader.LengthDelimitedType) { r.Skip(wire); continue; }
            var dim = r.Message($"{r.What} dimension {dims.Count}");
            long? value = null;
            string? symbol = null;
            while (!dim.AtEnd)
            {
                var (f, w) = dim.Tag();
                if (f == DimValue && w == ProtoReader.VarintType) value = dim.Int64();
                else if (f == DimParam && w == ProtoReader.LengthDelimitedType) symbol = dim.String();
                else dim.Skip(w);
            }
            dims.Add(new OnnxDimension(value, symbol));
        }
        return dims;
    }
}
