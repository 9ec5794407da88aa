using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace CnnGen.Checkpoints;

/// <summary>
/// Writes the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"__metadata__": {...}, "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}</c>,
/// padded with spaces so the data starts 8-byte aligned), then the tensors' little-endian bytes back to back.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>Metadata key holding the SHA-256 of the data section, checked by <see cref="SafeTensorsFile"/>.</summary>
    public const string DataChecksumKey = "data_sha256";

    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata, bool addDataChecksum = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        CheckTensors(tensors);

        long dataLength = 0;
        foreach (var t in tensors) dataLength += 4L * t.Values.Length;
        var data = new byte[dataLength];
        long offset = 0;
        foreach (var t in tensors)
        {
            var target = data.AsSpan((int)offset, 4 * t.Values.Length);
            LittleEndianFloats.Write(t.Values.Span, target);
            offset += target.Length;
        }

        var allMetadata = new Dictionary<string, string>(metadata);
        if (addDataChecksum) allMetadata[DataChecksumKey] = Convert.ToHexStringLower(SHA256.HashData(data));

        byte[] header = Header(tensors, allMetadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        stream.Write(data);
    }

    private static void CheckTensors(IReadOnlyList<NamedTensor> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__")
                throw new ArgumentException($"'{t.Name}' cannot name a tensor");
            if (!names.Add(t.Name))
                throw new ArgumentException($"tensor {t.Name} is listed twice");
            long count = 1;
            foreach (int d in t.Shape)
            {
                if (d < 0) throw new ArgumentException($"tensor {t.Name} has negative dimension in [{string.Join(", ", t.Shape)}]");
                count *= d;
            }
            if (count != t.Values.Length)
                throw new ArgumentException($"tensor {t.Name} has shape [{string.Join(", ", t.Shape)}] ({count} values) but {t.Values.Length} values were given");
        }
    }

    private static byte[] Header(IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * t.Values.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while ((8 + buffer.Length) % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
