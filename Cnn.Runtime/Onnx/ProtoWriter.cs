using System.Buffers.Binary;
using System.Text;

namespace CnnGen.Onnx;

/// <summary>
/// The few protocol-buffer encodings an ONNX file needs: varints, 32-bit floats, strings and length-delimited
/// nested messages. A nested message is written into its own writer and then copied in behind its length.
/// </summary>
internal sealed class ProtoWriter
{
    private const int VarintType = 0, Fixed32Type = 5, LengthDelimitedType = 2;

    private readonly MemoryStream _bytes = new();

    public long Length => _bytes.Length;

    public byte[] ToArray() => _bytes.ToArray();

    public void Varint(int field, long value)
    {
        Tag(field, VarintType);
        WriteVarint((ulong)value);
    }

    public void Float(int field, float value)
    {
        Tag(field, Fixed32Type);
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
        _bytes.Write(buffer);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimitedType);
        WriteVarint((ulong)value.Length);
        _bytes.Write(value);
    }

    /// <summary>Repeated int64 values, packed (proto3's default for repeated scalars).</summary>
    public void PackedVarints(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (long v in values) inner.WriteVarint((ulong)v);
        Bytes(field, inner._bytes.GetBuffer().AsSpan(0, (int)inner._bytes.Length));
    }

    public void Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        Bytes(field, inner._bytes.GetBuffer().AsSpan(0, (int)inner._bytes.Length));
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
    }
}
