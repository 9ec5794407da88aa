using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary><see cref="Winograd3x3.PadChannelLast"/>: every image channel-last inside a border of zeros, each value with
/// its bits, for rows 8 wide (two at a time through one 16 x 16 transpose per 16 channels), rows narrower than 16 (masked
/// loads into a block on the stack: ResNet-18's 256 x 14 x 14, a single column) and wider ones, channel counts with and
/// without a remainder past the last 16, odd heights (a last row alone) and paddings 0 to 2.</summary>
public class ChannelLastCopyTests
{
    private static float[] Images(int length, int seed)
    {
        var random = new Random(seed);
        var input = new float[length];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        return input;
    }

    [Theory]
    [InlineData(16, 8, 8, 1)]
    [InlineData(64, 8, 8, 1)]
    [InlineData(40, 8, 8, 1)]
    [InlineData(17, 7, 8, 2)]
    [InlineData(32, 9, 8, 0)]
    [InlineData(3, 8, 8, 1)]
    [InlineData(32, 16, 16, 1)]
    [InlineData(20, 7, 7, 1)]
    [InlineData(48, 12, 13, 2)]
    [InlineData(256, 14, 14, 1)]
    [InlineData(16, 3, 3, 0)]
    [InlineData(33, 5, 15, 1)]
    [InlineData(16, 4, 1, 1)]
    public void EveryValueLandsChannelLastInsideZeros(int channels, int height, int width, int padding)
    {
        const int images = 3;
        int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
        var input = Images(images * channels * height * width, seed: channels * 1000 + height * 100 + width * 10 + padding);
        input[5] = -0f;
        input[^1] = BitConverter.Int32BitsToSingle(0x7FC0_4321);
        var padded = new float[Winograd3x3.PaddedLength(images, channels, outHeight, outWidth)];
        Array.Fill(padded, 42f);
        Winograd3x3.PadChannelLast(input, images, padded, channels, height, width, padding, outHeight, outWidth);

        // The padded image's sides: the tiles' input, 4 * ceil(out / 4) + 2, at least the image plus its padding.
        int paddedHeight = 4 * ((outHeight + 3) / 4) + 2, paddedWidth = 4 * ((outWidth + 3) / 4) + 2;
        Assert.Equal((long)images * paddedHeight * paddedWidth * channels, padded.Length);
        for (int n = 0; n < images; n++)
        for (int y = 0; y < paddedHeight; y++)
        for (int x = 0; x < paddedWidth; x++)
        for (int c = 0; c < channels; c++)
        {
            int iy = y - padding, ix = x - padding;
            float expected = iy >= 0 && iy < height && ix >= 0 && ix < width ? input[((n * channels + c) * height + iy) * width + ix] : 0f;
            float actual = padded[(((long)n * paddedHeight + y) * paddedWidth + x) * channels + c];
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"image {n}, row {y}, column {x}, channel {c}: {actual} instead of {expected}");
        }
    }

    /// <summary>Ranges of padded rows (as the threads of a split pass take them) make the whole copy, byte for byte, and
    /// each range writes its own rows only: every cut of the rows into two ranges, and ranges of one row.</summary>
    [Theory]
    [InlineData(64, 8, 8, 1)]
    [InlineData(40, 9, 14, 1)]
    [InlineData(17, 7, 20, 2)]
    [InlineData(32, 6, 6, 0)]
    public void RangesOfRowsMakeTheWholeCopy(int channels, int height, int width, int padding)
    {
        const int images = 2;
        int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
        var input = Images(images * channels * height * width, seed: channels + height + width);
        var whole = new float[Winograd3x3.PaddedLength(images, channels, outHeight, outWidth)];
        Array.Fill(whole, 42f);
        Winograd3x3.PadChannelLast(input, images, whole, channels, height, width, padding, outHeight, outWidth);
        int rows = Winograd3x3.PaddedRows(images, outHeight), rowLength = whole.Length / rows;
        Assert.Equal(images * (4 * ((outHeight + 3) / 4) + 2), rows);
        for (int cut = 0; cut <= rows; cut++)
        {
            var parts = new float[whole.Length];
            Array.Fill(parts, 42f);
            Winograd3x3.PadChannelLastRows(input, images, parts, channels, height, width, padding, outHeight, outWidth, cut, rows);
            // Rows before the cut untouched, the rest written.
            Assert.All(parts.Take(cut * rowLength), v => Assert.Equal(42f, v));
            Winograd3x3.PadChannelLastRows(input, images, parts, channels, height, width, padding, outHeight, outWidth, 0, cut);
            Assert.Equal(whole.Select(BitConverter.SingleToInt32Bits), parts.Select(BitConverter.SingleToInt32Bits));
        }
        var single = new float[whole.Length];
        for (int r = rows - 1; r >= 0; r--)
            Winograd3x3.PadChannelLastRows(input, images, single, channels, height, width, padding, outHeight, outWidth, r, r + 1);
        Assert.Equal(whole.Select(BitConverter.SingleToInt32Bits), single.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void ARangeOutsideTheRowsOrShortSpansAreRefused()
    {
        var input = new float[16 * 8 * 8];
        var padded = new float[Winograd3x3.PaddedLength(1, 16, 8, 8)];
        int rows = Winograd3x3.PaddedRows(1, 8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Winograd3x3.PadChannelLastRows(input, 1, padded, 16, 8, 8, 1, 8, 8, 0, rows + 1));
        Assert.Contains($"not within the {rows} padded rows", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd3x3.PadChannelLastRows(input, 1, padded, 16, 8, 8, 1, 8, 8, 3, 2));
        var shortPadded = new float[padded.Length - 1];
        Assert.Contains("too short", Assert.Throws<ArgumentException>(() => Winograd3x3.PadChannelLastRows(input, 1, shortPadded, 16, 8, 8, 1, 8, 8, 0, 1)).Message);
    }
}
