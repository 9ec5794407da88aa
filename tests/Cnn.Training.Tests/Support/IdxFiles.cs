using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnGen.Training.Tests.Support;

/// <summary>Writes IDX files for tests.</summary>
public static class IdxFiles
{
    public static byte[] Bytes(byte typeCode, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }

    /// <summary>Images N x H x W of unsigned bytes.</summary>
    public static void WriteImages(string path, int count, int height, int width, Func<int, byte> pixel, bool gzip = false)
    {
        var data = new byte[count * height * width];
        for (int i = 0; i < data.Length; i++) data[i] = pixel(i);
        Write(path, Bytes(0x08, [count, height, width], data), gzip);
    }

    public static void WriteLabels(string path, byte[] labels, bool gzip = false) =>
        Write(path, Bytes(0x08, [labels.Length], labels), gzip);
}
