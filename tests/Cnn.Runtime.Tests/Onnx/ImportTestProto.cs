using System.Text;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Hand-made ONNX bytes for the import's error tests: graphs the model writer refuses to build (a cycle, a node reading
/// nothing), tensors whose bytes disagree with their dimensions, dynamic sizes. Field numbers are onnx.proto's.
/// </summary>
internal sealed class ImportTestProto
{
    private readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    public ImportTestProto Varint(int field, long value) => Tag(field, 0).Raw((ulong)value);

    public ImportTestProto Bytes(int field, byte[] value)
    {
        Tag(field, 2).Raw((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    public ImportTestProto Fixed32(int field, float value)
    {
        Tag(field, 5);
        _bytes.Write(BitConverter.GetBytes(value));
        return this;
    }

    public ImportTestProto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ImportTestProto Message(int field, ImportTestProto inner) => Bytes(field, inner.ToArray());

    public ImportTestProto Packed(int field, params long[] values)
    {
        var inner = new ImportTestProto();
        foreach (long v in values) inner.Raw((ulong)v);
        return Bytes(field, inner.ToArray());
    }

    private ImportTestProto Tag(int field, int wire) => Raw((ulong)((field << 3) | wire));

    public ImportTestProto Raw(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
        return this;
    }

    // ---- ONNX pieces ----

    public static ImportTestProto Model(ImportTestProto graph, long opset = 13) =>
        new ImportTestProto().Varint(1, 8).Message(7, graph).Message(8, new ImportTestProto().String(1, "").Varint(2, opset));

    public static ImportTestProto Node(string op, string name, string[] inputs, string[] outputs, params ImportTestProto[] attributes)
    {
        var node = new ImportTestProto();
        foreach (var i in inputs) node.String(1, i);
        foreach (var o in outputs) node.String(2, o);
        node.String(3, name).String(4, op);
        foreach (var a in attributes) node.Message(5, a);
        return node;
    }

    public static ImportTestProto Ints(string name, params long[] values) => new ImportTestProto().String(1, name).Packed(8, values).Varint(20, 7);

    /// <summary>A float32 initializer: raw_data of <paramref name="byteCount"/> bytes whatever the dims say.</summary>
    public static ImportTestProto FloatTensor(string name, long[] dims, int byteCount) =>
        new ImportTestProto().Packed(1, dims).Varint(2, 1).String(8, name).Bytes(9, new byte[byteCount]);

    /// <summary>A float32 initializer with its values as raw_data, or as packed float_data.</summary>
    public static ImportTestProto FloatTensor(string name, long[] dims, float[] values, bool asFloatData = false)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        var tensor = new ImportTestProto().Packed(1, dims).Varint(2, 1).String(8, name);
        return asFloatData ? tensor.Bytes(4, bytes) : tensor.Bytes(9, bytes);
    }

    /// <summary>A float32 value: dims are numbers, or null for a symbolic dimension.</summary>
    public static ImportTestProto Value(string name, params long?[] dims)
    {
        var shape = new ImportTestProto();
        foreach (var d in dims)
            shape.Message(1, d is long v ? new ImportTestProto().Varint(1, v) : new ImportTestProto().String(2, "n"));
        var tensorType = new ImportTestProto().Varint(1, 1).Message(2, shape);
        return new ImportTestProto().String(1, name).Message(2, new ImportTestProto().Message(1, tensorType));
    }

    /// <summary>A graph (nodes, initializers, one input, one output).</summary>
    public static ImportTestProto Graph(IEnumerable<ImportTestProto> nodes, IEnumerable<ImportTestProto> initializers, ImportTestProto input, ImportTestProto output)
    {
        var graph = new ImportTestProto();
        foreach (var n in nodes) graph.Message(1, n);
        graph.String(2, "test");
        foreach (var t in initializers) graph.Message(5, t);
        return graph.Message(11, input).Message(12, output);
    }
}
