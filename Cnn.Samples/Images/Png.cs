using System.Buffers.Binary;
using System.IO.Compression;

namespace CnnGen.Samples.Images;

/// <summary>A small PNG reader: 8-bit grey, grey+alpha, RGB and RGBA, not interlaced; colour becomes luminance.</summary>
internal static class Png
{
    public static GreyImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8 || bytes[0] != 0x89 || bytes[1] != 'P' || bytes[2] != 'N' || bytes[3] != 'G')
            throw new InvalidDataException("not a PNG file");
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        using var idat = new MemoryStream();
        for (int pos = 8; pos + 8 <= bytes.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(bytes, pos + 4, 4);
            if (length < 0 || pos + 12L + length > bytes.Length) throw new InvalidDataException($"PNG chunk {type} is truncated");
            var data = bytes.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                bitDepth = data[8]; colorType = data[9]; interlace = data[12];
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + length;
        }
        int channels = colorType switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => 0 };
        if (width <= 0 || height <= 0 || bitDepth != 8 || channels == 0 || interlace != 0)
            throw new InvalidDataException($"unsupported PNG ({width}x{height}, colour type {colorType}, {bitDepth} bits, interlace {interlace}); use 8-bit grey, RGB or RGBA without interlacing");

        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.ReadExactly(raw);
        var image = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            var line = raw.AsSpan(y * (stride + 1) + 1, stride);
            var current = image.AsSpan(y * stride, stride);
            var previous = y > 0 ? image.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? current[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                current[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG row {y} has unknown filter {filter}"),
                });
            }
        }
        var pixels = new float[width * height];
        for (int i = 0; i < pixels.Length; i++)
        {
            int p = i * channels;
            pixels[i] = channels >= 3 ? (0.299f * image[p] + 0.587f * image[p + 1] + 0.114f * image[p + 2]) / 255f : image[p] / 255f;
        }
        return new GreyImage(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
