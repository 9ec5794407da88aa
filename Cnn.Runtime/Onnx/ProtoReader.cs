using System.Buffers.Binary;
using System.Text;

namespace CnnGen.Onnx;

/// <summary>
/// Reads protocol-buffer fields from a span of bytes, checking every varint, length and count against the bytes left:
/// a truncated or hostile message is an <see cref="OnnxImportException"/> naming <see cref="What"/>, never an
/// allocation sized by an unchecked field or an index out of range.
/// </summary>
internal sealed class ProtoReader
{
    public const int VarintType = 0, Fixed64Type = 1, LengthDelimitedType = 2, Fixed32Type = 5;

    private readonly ReadOnlyMemory<byte> _bytes;
    private int _position;

    public ProtoReader(ReadOnlyMemory<byte> bytes, string what)
    {
        _bytes = bytes;
        What = what;
    }

    /// <summary>The message being read, for errors (e.g. <c>node 3</c>).</summary>
    public string What { get; }

    public bool AtEnd => _position >= _bytes.Length;

    private int Left => _bytes.Length - _position;

    /// <summary>The next field's number and wire type.</summary>
    public (int Field, int WireType) Tag()
    {
        ulong tag = Varint();
        int wireType = (int)(tag & 7);
        ulong field = tag >> 3;
        if (field == 0 || field > int.MaxValue) throw Broken($"field number {field}");
        return ((int)field, wireType);
    }

    public ulong Varint()
    {
        var span = _bytes.Span;
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= span.Length) throw Broken("a number that runs past the end (truncated file?)");
            byte b = span[_position++];
            if (shift == 63 && b > 1) throw Broken("a number longer than 64 bits");
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Broken("a number longer than 10 bytes");
    }

    public long Int64() => (long)Varint();

    public float Fixed32Float()
    {
        if (Left < 4) throw Broken("a 4-byte value that runs past the end (truncated file?)");
        float value = BinaryPrimitives.ReadSingleLittleEndian(_bytes.Span.Slice(_position, 4));
        _position += 4;
        return value;
    }

    /// <summary>The bytes of a length-delimited field.</summary>
    public ReadOnlyMemory<byte> LengthDelimited()
    {
        ulong length = Varint();
        if (length > (ulong)Left)
            throw Broken($"a field of {length} bytes where {Left} are left (truncated file?)");
        var slice = _bytes.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    public string String() => Encoding.UTF8.GetString(LengthDelimited().Span);

    public ProtoReader Message(string what) => new(LengthDelimited(), what);

    /// <summary>A repeated int64 field, packed (wire type 2) or one value (wire type 0), appended to <paramref name="values"/>.</summary>
    public void Int64s(int wireType, List<long> values, string field)
    {
        if (wireType == VarintType) { values.Add(Int64()); return; }
        Expect(wireType, LengthDelimitedType, field);
        var packed = new ProtoReader(LengthDelimited(), $"{What} {field}");
        while (!packed.AtEnd) values.Add(packed.Int64());
    }

    /// <summary>A repeated float field, packed (wire type 2) or one value (wire type 5), appended to <paramref name="values"/>.</summary>
    public void Floats(int wireType, List<float> values, string field)
    {
        if (wireType == Fixed32Type) { values.Add(Fixed32Float()); return; }
        Expect(wireType, LengthDelimitedType, field);
        var packed = LengthDelimited();
        if (packed.Length % 4 != 0) throw Broken($"{field}: {packed.Length} bytes of packed floats, not a multiple of 4");
        var span = packed.Span;
        for (int i = 0; i < span.Length; i += 4) values.Add(BinaryPrimitives.ReadSingleLittleEndian(span.Slice(i, 4)));
    }

    public void Expect(int wireType, int expected, string field)
    {
        if (wireType != expected) throw Broken($"{field} has wire type {wireType}, expected {expected}");
    }

    /// <summary>Skips a field this reader does not use.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case VarintType: Varint(); break;
            case Fixed64Type: Advance(8); break;
            case LengthDelimitedType: LengthDelimited(); break;
            case Fixed32Type: Advance(4); break;
            default: throw Broken($"wire type {wireType}, which no ONNX field uses");
        }
    }

    private void Advance(int count)
    {
        if (Left < count) throw Broken($"a {count}-byte value that runs past the end (truncated file?)");
        _position += count;
    }

    public OnnxImportException Broken(string problem) => new($"not a valid ONNX file: {What}: {problem}");
}
