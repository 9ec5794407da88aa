using System.Text;
using CnnGen.Samples.Images;
using SkiaSharp;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The picture readers behind <c>predict</c> and <c>POST /predict</c>, on files written here byte by byte:
/// every PNG colour type and bit depth, interlaced, JPEG, BMP, PGM/PPM, and malformed or oversized ones.</summary>
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

    private static Picture Grey(byte[] bytes) => ImageDecoder.Decode(bytes, 1);

    [Fact]
    public void BinaryAndPlainPgmGiveGreyLevelsOverTheMaximum()
    {
        byte[] binary = [.. "P5\n# a comment\n3 2\n255\n"u8.ToArray(), 0, 51, 102, 153, 204, 255];
        byte[] plain = "P2\n3 2\n255\n0 51 102\n153 204 255\n"u8.ToArray();
        byte[] sixteen = [.. "P5 3 2 65535\n"u8.ToArray(), 0, 0, 0x33, 0x33, 0x66, 0x66, 0x99, 0x99, 0xCC, 0xCC, 0xFF, 0xFF];
        foreach (var bytes in new[] { binary, plain, sixteen })
        {
            var image = Grey(bytes);
            Assert.Equal((3, 2, 1), (image.Width, image.Height, image.Channels));
            Assert.Equal(new[] { 0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f }, image.Pixels);
        }
    }

    [Fact]
    public void PpmGivesRgbPlanesOrLuminance()
    {
        byte[] ppm = [.. "P6\n2 1\n255\n"u8.ToArray(), 255, 0, 0, 0, 0, 255];
        var rgb = ImageDecoder.Decode(ppm, 3);
        Assert.Equal(new[] { 1f, 0f, 0f, 0f, 0f, 1f }, rgb.Pixels);  // R plane, G plane, B plane
        var grey = ImageDecoder.Decode(ppm, 1);
        Assert.Equal(0.299f, grey.Pixels[0], 5);
        Assert.Equal(0.114f, grey.Pixels[1], 5);
        var plain = ImageDecoder.Decode("P3 1 1 15 15 0 15"u8.ToArray(), 3);
        Assert.Equal(new[] { 1f, 0f, 1f }, plain.Pixels);
    }

    public static TheoryData<string, string> BadNetpbm => new()
    {
        { "P5\n28 x8\n255\n", "PGM/PPM height 'x8' is not a whole number" },
        { "P5\n28\n", "PGM/PPM ends before the height" },
        { "P5\n-3 4\n255\n", "PGM/PPM width '-3' is not a whole number" },
        { "P5\n0 4\n255\n", "the image is 0x4" },
        { "P5\n4 4\n0\n", "maximum value 0 is outside 1..65535" },
        { "P5\n4 4\n70000\n", "maximum value 70000 is outside 1..65535" },
        { "P5\n4 4\n255", "ends without the white space before the pixels" },
        { "P5\n4 4\n255\n\u0001\u0002\u0003", "PGM/PPM truncated: 16 pixel bytes expected, 3 present" },
        { "P5\n2 1\n100\n\u0001\u00C8", "value 1 (200) is above the maximum 100" },
        { "P2\n2 1\n255\n0 300\n", "value 1 (300) is above the maximum 255" },
        { "P2\n2 1\n255\n0\n", "ends before the value 1" },
        { "P5\n70000 70000\n255\n\u0001\u0002\u0003", "70000x70000 (4,900,000,000 pixels); at most 16,777,216 pixels are decoded" },
        { "P5 99999999999999999999 1 255 ", "at most 16,777,216 pixels are decoded" },
    };

    [Theory]
    [MemberData(nameof(BadNetpbm))]
    public void MalformedOrOversizedPgmIsRefusedNamingTheProblemBeforeAllocatingPixels(string file, string message)
    {
        var bytes = Encoding.Latin1.GetBytes(file);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Grey(bytes));
        Assert.Contains(message, e.Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void PngRowsAreUnfilteredForEveryFilterType(int filter)
    {
        byte[,] pixels = { { 10, 20, 30, 40 }, { 50, 60, 70, 80 }, { 90, 100, 110, 255 } };
        var image = Grey(TestImages.GreyPng(pixels, filter));
        Assert.Equal((4, 3), (image.Width, image.Height));
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(pixels[y, x] / 255f, image.Pixels[y * 4 + x]);
    }

    /// <summary>Decoding gives 8 bits per value: 16-bit samples lose their low byte.</summary>
    private const double OneLevel = 1.01 / 255;

    /// <summary>A 9x10 picture (odd sizes exercise every Adam7 pass) with distinct samples per channel.</summary>
    private static int[,,] Samples(int channels, int max)
    {
        var samples = new int[10, 9, channels];
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 9; x++)
                for (int c = 0; c < channels; c++) samples[y, x, c] = (y * 9 + x) * (c + 3) * 37 % (max + 1);
        return samples;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public void GreyPngOfEveryBitDepthInterlacedOrNotReadsTheSameLevels(int depth)
    {
        int max = (1 << depth) - 1;
        var samples = Samples(1, max);
        foreach (bool interlaced in new[] { false, true })
        {
            var image = Grey(TestImages.Png(samples, colorType: 0, depth, filter: 4, interlaced));
            Assert.Equal((9, 10), (image.Width, image.Height));
            for (int i = 0; i < 90; i++)
                Assert.Equal(samples[i / 9, i % 9, 0] / (double)max, image.Pixels[i], OneLevel);  // 8 bits per level after decoding
        }
    }

    [Theory]
    [InlineData(2, 8)]
    [InlineData(2, 16)]
    [InlineData(6, 8)]
    [InlineData(4, 8)]
    public void ColourAndAlphaPngGiveRgbPlanesOrLuminance(int colorType, int depth)
    {
        int channels = colorType switch { 2 => 3, 6 => 4, _ => 2 }, max = (1 << depth) - 1;
        var samples = Samples(channels, max);
        byte[] png = TestImages.Png(samples, colorType, depth, filter: 1, interlaced: colorType == 6);
        var rgb = ImageDecoder.Decode(png, 3);
        var grey = ImageDecoder.Decode(png, 1);
        for (int i = 0; i < 90; i++)
        {
            double Level(int c) => samples[i / 9, i % 9, c] / (double)max;
            if (channels >= 3)
            {
                for (int c = 0; c < 3; c++) Assert.Equal(Level(c), rgb.Pixels[c * 90 + i], OneLevel);
                Assert.Equal(0.299 * Level(0) + 0.587 * Level(1) + 0.114 * Level(2), grey.Pixels[i], 2 * OneLevel);
            }
            else
            {
                Assert.Equal(Level(0), grey.Pixels[i], OneLevel);  // the alpha is dropped
                for (int c = 0; c < 3; c++) Assert.Equal(grey.Pixels[i], rgb.Pixels[c * 90 + i]);
            }
        }
    }

    [Fact]
    public void BmpGivesItsColours()
    {
        var colours = new byte[3, 5, 3];
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
                for (int c = 0; c < 3; c++) colours[y, x, c] = (byte)(y * 80 + x * 10 + c * 3);
        var image = ImageDecoder.Decode(TestImages.Bmp(colours), 3);
        Assert.Equal((5, 3), (image.Width, image.Height));
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
                for (int c = 0; c < 3; c++) Assert.Equal(colours[y, x, c] / 255f, image.Pixels[c * 15 + y * 5 + x]);
    }

    [Fact]
    public void JpegDecodesCloseToItsPixels()
    {
        // A smooth grey ramp encoded at the highest quality: JPEG is lossy, but only slightly.
        using var bitmap = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Gray8));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 8 + y * 4), (byte)(x * 8 + y * 4), (byte)(x * 8 + y * 4)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
        byte[] jpeg = data.ToArray();
        Assert.Equal(ImageFormat.Jpeg, ImageFormats.Sniff(jpeg));
        var image = Grey(jpeg);
        Assert.Equal((16, 16), (image.Width, image.Height));
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) Assert.Equal((x * 8 + y * 4) / 255.0, image.Pixels[y * 16 + x], 0.03);
    }

    [Theory]
    [InlineData(60000, 60000, "PNG image is 60000x60000 (3,600,000,000 pixels); at most 16,777,216 pixels are decoded")]
    [InlineData(20000, 20000, "PNG image is 20000x20000 (400,000,000 pixels)")]
    [InlineData(5000, 4000, "PNG image is 5000x4000")]
    public void AnOversizedPngIsRefusedFromItsHeaderBeforeDecoding(int width, int height, string message)
    {
        byte[] png = TestImages.PngClaiming(width, height);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Grey(png));
        Assert.Contains(message, e.Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Fact]
    public void DamagedPicturesAreRefusedNamingTheFormat()
    {
        byte[] good = TestImages.GreyPng(new byte[28, 28]);
        Assert.Contains("PNG", Assert.Throws<InvalidDataException>(() => Grey(good[..20])).Message);  // cut inside IHDR
        var cut = Assert.Throws<InvalidDataException>(() => Grey(good[..(good.Length - 20)])).Message;
        Assert.StartsWith("PNG image cannot be decoded: ", cut);
        Assert.Contains("the data is damaged or truncated", cut);
        Assert.DoesNotContain('\0', cut);
        byte[] garbled = (byte[])good.Clone();
        for (int i = 41; i < good.Length - 12; i++) garbled[i] ^= 0x5A;  // the compressed pixels
        Assert.Contains("PNG image cannot be decoded", Assert.Throws<InvalidDataException>(() => Grey(garbled)).Message);
        byte[] bmp = TestImages.Bmp(new byte[4, 4, 3]);
        Assert.Contains("BMP truncated: 102 bytes expected for 4x4 at 24 bits, 80 present", Assert.Throws<InvalidDataException>(() => Grey(bmp[..80])).Message);
        Assert.Contains("BMP image is 70000x70000", Assert.Throws<InvalidDataException>(() => Grey([.. bmp[..18], 0x70, 0x11, 1, 0, 0x70, 0x11, 1, 0, .. bmp[26..]])).Message);
        Assert.Equal("the image is empty (0 bytes)", Assert.Throws<InvalidDataException>(() => Grey([])).Message);
        Assert.Equal("not a PNG, JPEG, BMP, PGM or PPM image (it starts with 47 49 46 38 39 61 01 00)",
            Assert.Throws<InvalidDataException>(() => Grey("GIF89a\u0001\u0000\u0001\u0000"u8.ToArray())).Message);
    }

    [Fact]
    public void ResizeAveragesAreasAndKeepsConstantImagesConstant()
    {
        var image = new Picture(4, 2, 1, [0f, 1f, 0f, 1f, 1f, 1f, 0f, 0f]);
        Assert.Equal(new[] { 0.75f, 0.25f }, image.Resize(2, 1).Pixels);
        var flat = new Picture(3, 3, 2, Enumerable.Repeat(0.5f, 18).ToArray()).Resize(28, 28);
        Assert.Equal(2 * 28 * 28, flat.Pixels.Length);
        Assert.All(flat.Pixels, p => Assert.Equal(0.5f, p, 6));
    }

    [Fact]
    public void AFileBecomesTheNetworksInputResizedAndInverted()
    {
        var pixels = new byte[56, 56];
        for (int y = 0; y < 56; y++)
            for (int x = 0; x < 56; x++) pixels[y, x] = (byte)(x < 28 ? 255 : 0);
        string png = Write("half.png", TestImages.GreyPng(pixels));
        float[] input = ImageInput.Read(png, 0, 1, 28, 28, invert: true);
        Assert.Equal(784, input.Length);
        for (int i = 0; i < 784; i++) Assert.Equal(i % 28 < 14 ? 0f : 1f, input[i]);
        float[] rgb = ImageInput.Read(png, 0, 3, 28, 28, invert: false);
        Assert.Equal(3 * 784, rgb.Length);
        Assert.Equal(input.Select(v => 1f - v), rgb[1568..]);

        var e = Assert.Throws<InvalidDataException>(() => ImageInput.Read(Write("big.png", TestImages.PngClaiming(60000, 60000)), 0, 1, 28, 28, false));
        Assert.Contains("60000x60000", e.Message);
        e = Assert.Throws<InvalidDataException>(() => ImageInput.Read(Write("a.gif", "GIF89a"u8.ToArray()), 0, 1, 28, 28, false));
        Assert.Equal("not a PNG, JPEG, BMP, PGM or PPM picture, nor an IDX file of images (it starts with 47 49 46 38 39 61)", e.Message);
    }
}
