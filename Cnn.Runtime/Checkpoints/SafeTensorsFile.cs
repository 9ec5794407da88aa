using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace CnnGen.Checkpoints;

/// <summary>
/// A safetensors file read into memory and fully validated: header length sane, JSON well-formed, every tensor F32 (or I64)
/// with offsets that match its shape, stay in range, neither overlap nor leave gaps, and end where the file ends;
/// metadata all strings; the data checksum, when recorded, matches. Any failure is a <see cref="CheckpointException"/>.
/// </summary>
public sealed class SafeTensorsFile
{
    /// <summary>Largest header accepted, as in the reference implementation.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private readonly byte[] _data;
    private readonly Dictionary<string, SafeTensorEntry> _byName;

    private SafeTensorsFile(string path, IReadOnlyList<SafeTensorEntry> tensors, IReadOnlyDictionary<string, string> metadata, byte[] data)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _data = data;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    /// <summary>The tensors in file order (by data offset).</summary>
    public IReadOnlyList<SafeTensorEntry> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public SafeTensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Copies a tensor's values into <paramref name="target"/> (which must have exactly its element count).</summary>
    public void CopyTo(SafeTensorEntry tensor, Span<float> target)
    {
        if (target.Length != tensor.ElementCount)
            throw new ArgumentException($"{tensor.Name} has {tensor.ElementCount} values, the target {target.Length}");
        var bytes = _data.AsSpan((int)tensor.Begin, (int)(tensor.End - tensor.Begin));
        if (tensor.DType == "I64")
        {
            // An integer counter (PyTorch's num_batches_tracked): held as a float, exact up to 2^24.
            for (int i = 0; i < target.Length; i++) target[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(8 * i));
            return;
        }
        LittleEndianFloats.Read(bytes, target);
    }

    public float[] ToArray(SafeTensorEntry tensor)
    {
        var values = new float[tensor.ElementCount];
        CopyTo(tensor, values);
        return values;
    }

    public static SafeTensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(path, CheckpointBytes.Read(path, MaxHeaderLength));
    }

    private static SafeTensorsFile Parse(string path, byte[] file)
    {
        // CheckpointBytes.Read has checked the header length against the limit and the file's length.
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        var headerBytes = file.AsSpan(8, (int)headerLength);
        int invalid = CheckpointBytes.FirstInvalidUtf8(headerBytes);
        if (invalid >= 0)
            throw new CheckpointException(path, $"header is not valid UTF-8 (byte {8 + invalid} of the file, 0x{headerBytes[invalid]:x2}); not a safetensors file?");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes.ToArray());
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, "header is not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointException(path, $"header lists '{property.Name}' twice");
                if (property.Name == "__metadata__")
                    ReadMetadata(path, property.Value, metadata);
                else
                    tensors.Add(ReadEntry(path, property.Name, property.Value));
            }

            long dataStart = 8 + (long)headerLength;
            long dataLength = file.Length - dataStart;
            CheckLayout(path, tensors, dataLength, dataStart);
            byte[] data = file.AsSpan((int)dataStart).ToArray();
            if (metadata.TryGetValue(SafeTensorsWriter.DataChecksumKey, out var expected))
            {
                string actual = Convert.ToHexStringLower(SHA256.HashData(data));
                if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                    throw new CheckpointException(path, $"corrupted: tensor data has SHA-256 {actual}, the header records {expected}");
            }
            return new SafeTensorsFile(path, tensors, metadata, data);
        }
    }

    private static void ReadMetadata(string path, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, "__metadata__ is not a JSON object");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(path, $"metadata '{entry.Name}' is not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new CheckpointException(path, $"metadata '{entry.Name}' is listed twice");
        }
    }

    private static SafeTensorEntry ReadEntry(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(path, $"header entry for tensor {name} is not a JSON object");
        if (!element.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw new CheckpointException(path, $"tensor {name} has no dtype");
        string type = dtype.GetString()!;
        if (type != "F32" && type != "I64")
            throw new CheckpointException(path, $"tensor {name} has dtype {type}; only F32 (and I64 for counters) is supported");
        long[] shape = ReadIntegers(path, name, element, "shape", null);
        long[] offsets = ReadIntegers(path, name, element, "data_offsets", 2);
        return new SafeTensorEntry(name, type, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(string path, string name, JsonElement element, string property, int? length)
    {
        if (!element.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(path, $"tensor {name} has no {property} array");
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                throw new CheckpointException(path, $"tensor {name}: {property} holds {item.GetRawText()}, not a non-negative integer");
            values.Add(value);
        }
        if (length is int n && values.Count != n)
            throw new CheckpointException(path, $"tensor {name}: {property} has {values.Count} entries, expected {n}");
        return [.. values];
    }

    private static void CheckLayout(string path, List<SafeTensorEntry> tensors, long dataLength, long dataStart)
    {
        foreach (var t in tensors)
        {
            long count = 1;
            foreach (long d in t.Shape)
            {
                // Compared before multiplying, so the product never overflows (a zero dimension makes any shape empty).
                if (d != 0 && count > Array.MaxLength / d)
                    count = long.MaxValue;
                else
                    count *= d;
            }
            if (count > Array.MaxLength)
                throw new CheckpointException(path, $"tensor {t.Name} shape {t.ShapeText} is too large (more than {Array.MaxLength} values)");
            if (t.End < t.Begin)
                throw new CheckpointException(path, $"tensor {t.Name} has data_offsets [{t.Begin}, {t.End}] that end before they begin");
            if (t.End - t.Begin != t.ElementSize * count)
                throw new CheckpointException(path, $"tensor {t.Name} has shape {t.ShapeText} ({t.ElementSize * count} bytes) but data_offsets [{t.Begin}, {t.End}] span {t.End - t.Begin} bytes");
            if (t.End > dataLength)
                throw new CheckpointException(path, $"truncated: tensor {t.Name} needs bytes up to {dataStart + t.End} but the file has {dataStart + dataLength}");
        }

        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var t in tensors)
        {
            if (t.Begin < expected)
                throw new CheckpointException(path, $"tensor {t.Name} data_offsets [{t.Begin}, {t.End}] overlap the previous tensor (ending at {expected})");
            if (t.Begin > expected)
                throw new CheckpointException(path, $"tensor {t.Name} begins at {t.Begin}, leaving a gap after {expected}");
            expected = t.End;
        }
        if (expected != dataLength)
            throw new CheckpointException(path, $"file is {dataStart + dataLength} bytes but header and tensors account for {dataStart + expected}");
    }
}
