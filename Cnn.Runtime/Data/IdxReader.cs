using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnGen.Data;

/// <summary>
/// Reads IDX files (the MNIST format): two zero bytes, an element type code, a dimension count, one big-endian
/// int32 size per dimension, then the values big-endian and row-major. Gzipped files are recognised by their
/// magic bytes, not their name. Each file is read once, straight into the returned array.
/// </summary>
public static class IdxReader
{
    /// <summary>The most dimensions accepted (items, channels, height, width).</summary>
    public const int MaxDimensions = 4;

    private const int ChunkBytes = 1 << 16;

    /// <summary>Byte b as b / 255f, exactly as <c>tensor.float().div(255)</c> gives it.</summary>
    private static readonly float[] UnitBytes = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();
    private static readonly float[] PlainBytes = Enumerable.Range(0, 256).Select(b => (float)b).ToArray();

    /// <summary>Reads any element type as floats. With <paramref name="scaleBytesToUnit"/>, unsigned bytes are
    /// divided by 255 so pixels land in [0, 1]; other types are returned as stored.</summary>
    public static IdxArray<float> ReadFloats(string path, bool scaleBytesToUnit = false)
    {
        var (stream, length) = Open(path);
        using (stream)
        {
            var (type, dims, count) = ReadHeader(stream, path);
            float[] byteValues = scaleBytesToUnit ? UnitBytes : PlainBytes;
            var values = ReadValues<float>(stream, length, path, type, dims, count, (bytes, target) => Convert(bytes, type, target, byteValues));
            return new IdxArray<float>(path, type, dims, values);
        }
    }

    /// <summary>Reads an integer-typed file (labels) as int32 values.</summary>
    public static IdxArray<int> ReadInts(string path)
    {
        var (stream, length) = Open(path);
        using (stream)
        {
            var (type, dims, count) = ReadHeader(stream, path);
            if (!IdxElementTypes.IsInteger(type))
                throw new DatasetException(path, $"holds {type} values where integers were expected");
            var values = ReadValues<int>(stream, length, path, type, dims, count, (bytes, target) => Convert(bytes, type, target));
            return new IdxArray<int>(path, type, dims, values);
        }
    }

    /// <summary>Opens the file, unwrapping gzip when the first bytes are 1f 8b. The length is the file's for a plain
    /// file, null for a gzipped one (its decompressed length is known only by reading it).</summary>
    private static (Stream Stream, long? Length) Open(string path)
    {
        // A pipe would block the open itself, and a device never ends: neither reports a length, so neither is opened.
        if (new FileInfo(path) is { Exists: true, Length: 0 })
            throw new DatasetException(path, "truncated: 0 bytes (an empty file, or not a regular file: a device or pipe has no length to check)");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
                return (new GZipStream(file, CompressionMode.Decompress, leaveOpen: false), null);
            return (file, file.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static (IdxElementType Type, int[] Dimensions, int Count) ReadHeader(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = Fill(stream, path, magic);
        if (got < 4)
            throw new DatasetException(path, $"truncated: expected a 4-byte IDX header, found {got} bytes");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DatasetException(path, $"wrong magic number 0x{magic[0]:x2}{magic[1]:x2}{magic[2]:x2}{magic[3]:x2}: an IDX file starts with two zero bytes");
        if (!IdxElementTypes.IsKnown(magic[2]))
            throw new DatasetException(path, $"unsupported element type code 0x{magic[2]:x2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)");
        var type = (IdxElementType)magic[2];
        int rank = magic[3];
        if (rank == 0)
            throw new DatasetException(path, "has zero dimensions");
        if (rank > MaxDimensions)
            throw new DatasetException(path, $"has too many dimensions: {rank} (at most {MaxDimensions})");

        Span<byte> sizeBytes = stackalloc byte[4 * rank];
        got = Fill(stream, path, sizeBytes);
        if (got < sizeBytes.Length)
            throw new DatasetException(path, $"truncated: expected {4 + sizeBytes.Length} header bytes, found {4 + got}");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(sizeBytes.Slice(4 * d));
            if (dims[d] < 0)
                throw new DatasetException(path, $"dimension {d} has negative size {dims[d]}");
            count *= dims[d];
            if (count > Array.MaxLength)
                throw new DatasetException(path, $"too large: dimensions [{string.Join(", ", dims.Take(d + 1))}...] exceed {Array.MaxLength} values");
        }
        return (type, dims, (int)count);
    }

    private delegate void Converter<T>(ReadOnlySpan<byte> bytes, Span<T> target);

    /// <summary>Values allocated at first for a gzipped file, whose header alone is not trusted with the size.</summary>
    private const int InitialGzipValues = 1 << 16;

    /// <summary>Reads <paramref name="count"/> values through a reused chunk buffer, then insists the file ends there.
    /// Nothing is allocated on the header's word alone: a plain file's length must hold the values it announces, and a
    /// gzipped file's array grows (doubling) only as its values actually arrive.</summary>
    private static T[] ReadValues<T>(Stream stream, long? fileLength, string path, IdxElementType type, int[] dims, int count, Converter<T> convert)
    {
        int size = IdxElementTypes.Size(type);
        long expected = (long)count * size;
        long header = 4 + 4L * dims.Length;
        if (fileLength is long length && header + expected > length)
            throw Truncated(path, type, dims, expected, length);

        var values = new T[fileLength is null ? Math.Min(count, InitialGzipValues) : count];
        var buffer = new byte[ChunkBytes - ChunkBytes % size];
        long done = 0;
        while (done < expected)
        {
            int want = (int)Math.Min(buffer.Length, expected - done);
            int got = Fill(stream, path, buffer.AsSpan(0, want));
            int whole = got - got % size;
            if (whole > 0)
            {
                int first = (int)(done / size), n = whole / size;
                if (first + n > values.Length)
                    Array.Resize(ref values, (int)Math.Min(count, Math.Max(2L * values.Length, first + n)));
                convert(buffer.AsSpan(0, whole), values.AsSpan(first, n));
            }
            done += got;
            if (got < want)
                throw Truncated(path, type, dims, expected, header + done);
        }

        long trailing = 0;
        int extra;
        while ((extra = Fill(stream, path, buffer)) > 0) trailing += extra;
        if (trailing > 0)
            throw new DatasetException(path, $"trailing garbage: {trailing} bytes after the {count} values the header announces");
        return values;
    }

    private static DatasetException Truncated(string path, IdxElementType type, int[] dims, long expected, long found)
    {
        long header = 4 + 4L * dims.Length;
        return new DatasetException(path, $"truncated: expected {header + expected} bytes ({string.Join(" x ", dims)} {type} values after a {header}-byte header), found {found}");
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    private static int Fill(Stream stream, string path, Span<byte> buffer)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException(path, $"corrupt gzip data: {e.Message}", e);
        }
    }

    private static void Convert(ReadOnlySpan<byte> bytes, IdxElementType type, Span<float> target, float[] byteValues)
    {
        switch (type)
        {
            case IdxElementType.UInt8:
                for (int i = 0; i < bytes.Length; i++) target[i] = byteValues[bytes[i]];
                break;
            case IdxElementType.Int8:
                for (int i = 0; i < bytes.Length; i++) target[i] = (sbyte)bytes[i];
                break;
            case IdxElementType.Int16:
                for (int i = 0; i < bytes.Length / 2; i++) target[i] = BinaryPrimitives.ReadInt16BigEndian(bytes.Slice(2 * i));
                break;
            case IdxElementType.Int32:
                for (int i = 0; i < bytes.Length / 4; i++) target[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 * i));
                break;
            case IdxElementType.Float32:
                for (int i = 0; i < bytes.Length / 4; i++) target[i] = BinaryPrimitives.ReadSingleBigEndian(bytes.Slice(4 * i));
                break;
            case IdxElementType.Float64:
                for (int i = 0; i < bytes.Length / 8; i++) target[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(bytes.Slice(8 * i));
                break;
        }
    }

    private static void Convert(ReadOnlySpan<byte> bytes, IdxElementType type, Span<int> target)
    {
        switch (type)
        {
            case IdxElementType.UInt8:
                for (int i = 0; i < bytes.Length; i++) target[i] = bytes[i];
                break;
            case IdxElementType.Int8:
                for (int i = 0; i < bytes.Length; i++) target[i] = (sbyte)bytes[i];
                break;
            case IdxElementType.Int16:
                for (int i = 0; i < bytes.Length / 2; i++) target[i] = BinaryPrimitives.ReadInt16BigEndian(bytes.Slice(2 * i));
                break;
            case IdxElementType.Int32:
                for (int i = 0; i < bytes.Length / 4; i++) target[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 * i));
                break;
        }
    }
}
