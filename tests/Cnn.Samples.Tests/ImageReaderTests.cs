using System.Buffers.Binary;
using System.IO.Compression;
using CnnGen.Samples.Images;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The PGM and PNG readers behind <c>predict</c>, on files written here byte by byte.</summary>
public sealed class ImageReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-images").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void BinaryAndPlainPgmGiveGreyLevelsOverTheMaximum()
    {
        var header = "P5\n# a comment\n3 2\n255\n"u8.ToArray();
        var binary = Write("a.pgm", [.. header, 0, 51, 102, 153, 204, 255]);
        var plain = Write("b.pgm", "P2\n3 2\n255\n0 51 102\n153 204 255\n"u8.ToArray());
        foreach (var path in new[] { binary, plain })
        {
            var image = Pgm.Read(path);
            Assert.Equal((3, 2), (image.Width, image.Height));
            Assert.Equal(new[] { 0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f }, image.Pixels);
        }
    }

    [Fact]
    public void TruncatedPgmIsRefusedWithTheCount()
    {
        var path = Write("c.pgm", [.. "P5\n4 4\n255\n"u8.ToArray(), 1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => Pgm.Read(path));
        Assert.Contains("16 pixel bytes expected, 3 present", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void PngRowsAreUnfilteredForEveryFilterType(int filter)
    {
        // A 4x3 grey image; every row stored with the same filter type.
        byte[,] pixels = { { 10, 20, 30, 40 }, { 50, 60, 70, 80 }, { 90, 100, 110, 255 } };
        var image = Png.Read(Write($"f{filter}.png", GreyPng(pixels, filter)));
        Assert.Equal((4, 3), (image.Width, image.Height));
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(pixels[y, x] / 255f, image.Pixels[y * 4 + x]);
    }

    [Fact]
    public void UnsupportedPngSaysWhatItIs()
    {
        var png = GreyPng(new byte[,] { { 1 } }, 0);
        png[8 + 8 + 8] = 16; // IHDR bit depth
        var e = Assert.Throws<InvalidDataException>(() => Png.Read(Write("d.png", png)));
        Assert.Contains("16 bits", e.Message);
    }

    [Fact]
    public void ResizeAveragesAreasAndKeepsConstantImagesConstant()
    {
        var image = new GreyImage(4, 2, [0f, 1f, 0f, 1f, 1f, 1f, 0f, 0f]);
        var half = image.Resize(2, 1);
        Assert.Equal(new[] { 0.75f, 0.25f }, half.Pixels);
        var flat = new GreyImage(3, 3, Enumerable.Repeat(0.5f, 9).ToArray()).Resize(28, 28);
        Assert.All(flat.Pixels, p => Assert.Equal(0.5f, p, 6));
    }

    /// <summary>A minimal PNG: signature, IHDR (8-bit grey), one IDAT with the given filter on every row, IEND.</summary>
    private static byte[] GreyPng(byte[,] pixels, int filter)
    {
        int h = pixels.GetLength(0), w = pixels.GetLength(1);
        var raw = new List<byte>();
        for (int y = 0; y < h; y++)
        {
            raw.Add((byte)filter);
            for (int x = 0; x < w; x++)
            {
                int a = x > 0 ? pixels[y, x - 1] : 0, b = y > 0 ? pixels[y - 1, x] : 0, c = x > 0 && y > 0 ? pixels[y - 1, x - 1] : 0;
                int predictor = filter switch { 1 => a, 2 => b, 3 => (a + b) / 2, 4 => Paeth(a, b, c), _ => 0 };
                raw.Add((byte)(pixels[y, x] - predictor));
            }
        }
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), no interlace
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        s.Write(length);
        s.Write(System.Text.Encoding.ASCII.GetBytes(type));
        s.Write(data);
        s.Write(new byte[4]); // the reader does not check CRCs
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
