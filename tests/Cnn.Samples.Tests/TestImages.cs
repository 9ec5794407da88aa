using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace CnnGen.Samples.Tests;

/// <summary>Picture files written byte by byte for the reader tests: PNG of any colour type, bit depth, filter and
/// interlacing; BMP; PGM/PPM.</summary>
internal static class TestImages
{
    /// <summary>A PNG of <paramref name="samples"/> (rows of pixels, each pixel <paramref name="channels"/> samples in
    /// 0..2^depth-1), colour type <paramref name="colorType"/> (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA), every row with
    /// <paramref name="filter"/>, Adam7 interlaced or not.</summary>
    public static byte[] Png(int[,,] samples, int colorType, int depth = 8, int filter = 0, bool interlaced = false)
    {
        int h = samples.GetLength(0), w = samples.GetLength(1);
        var raw = new MemoryStream();
        if (!interlaced) WriteRows(raw, samples, 0, 0, 1, 1, depth, filter);
        else
            foreach (var (x0, y0, dx, dy) in new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) })
                if (x0 < w && y0 < h) WriteRows(raw, samples, x0, y0, dx, dy, depth, filter);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        return PngFile(ihdr, Deflate(raw.ToArray()));
    }

    /// <summary>A grey PNG from bytes, one row per first index.</summary>
    public static byte[] GreyPng(byte[,] pixels, int filter = 0)
    {
        var samples = new int[pixels.GetLength(0), pixels.GetLength(1), 1];
        for (int y = 0; y < pixels.GetLength(0); y++)
            for (int x = 0; x < pixels.GetLength(1); x++) samples[y, x, 0] = pixels[y, x];
        return Png(samples, colorType: 0, filter: filter);
    }

    /// <summary>A PNG whose header claims <paramref name="width"/>x<paramref name="height"/> over a few real rows.</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        return PngFile(ihdr, Deflate(new byte[64 * 1024]));
    }

    /// <summary>A whole 8-bit grey PNG of one level, written row by row (large sizes stay cheap to make).</summary>
    public static byte[] UniformPng(int width, int height, byte level)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[width + 1];
            Array.Fill(row, level);
            row[0] = 0;  // filter: none
            for (int y = 0; y < height; y++) z.Write(row);
        }
        return PngFile(ihdr, compressed.ToArray());
    }

    public static byte[] PngFile(byte[] ihdr, byte[] idat)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A 24-bit BMP (bottom-up rows of B, G, R padded to 4 bytes).</summary>
    public static byte[] Bmp(byte[,,] rgb)
    {
        int h = rgb.GetLength(0), w = rgb.GetLength(1), stride = (w * 3 + 3) / 4 * 4;
        var file = new byte[54 + stride * h];
        "BM"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(34), stride * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    file[54 + (h - 1 - y) * stride + x * 3 + c] = rgb[y, x, 2 - c];
        return file;
    }

    /// <summary>A binary PGM (P5) of 8-bit grey levels.</summary>
    public static byte[] Pgm(byte[] pixels, int width, int height) =>
        [.. Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n"), .. pixels];

    private static void WriteRows(Stream raw, int[,,] samples, int x0, int y0, int dx, int dy, int depth, int filter)
    {
        int h = samples.GetLength(0), w = samples.GetLength(1), channels = samples.GetLength(2);
        int bytesPerPixel = Math.Max(1, channels * depth / 8);
        byte[]? previous = null;
        for (int y = y0; y < h; y += dy)
        {
            var bits = new List<int>();
            for (int x = x0; x < w; x += dx)
                for (int c = 0; c < channels; c++) bits.Add(samples[y, x, c]);
            var line = Pack(bits, depth);
            previous ??= new byte[line.Length];
            raw.WriteByte((byte)filter);
            for (int i = 0; i < line.Length; i++)
            {
                int a = i >= bytesPerPixel ? line[i - bytesPerPixel] : 0, b = previous[i], c = i >= bytesPerPixel ? previous[i - bytesPerPixel] : 0;
                int predictor = filter switch { 1 => a, 2 => b, 3 => (a + b) / 2, 4 => Paeth(a, b, c), _ => 0 };
                raw.WriteByte((byte)(line[i] - predictor));
            }
            previous = line;
        }
    }

    /// <summary>Samples packed big-endian at <paramref name="depth"/> bits each, the row padded to a whole byte.</summary>
    private static byte[] Pack(List<int> samples, int depth)
    {
        if (depth == 16) return samples.SelectMany(s => new[] { (byte)(s >> 8), (byte)s }).ToArray();
        var bytes = new byte[(samples.Count * depth + 7) / 8];
        for (int i = 0; i < samples.Count; i++)
        {
            int bit = i * depth;
            bytes[bit / 8] |= (byte)(samples[i] << (8 - depth - bit % 8));
        }
        return bytes;
    }

    private static byte[] Deflate(byte[] raw)
    {
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        return compressed.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32([.. typeBytes, .. data]));
        s.Write(word);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc ^ 0xFFFFFFFFu;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
