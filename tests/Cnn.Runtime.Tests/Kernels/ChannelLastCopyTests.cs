using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary><see cref="Winograd3x3.PadChannelLast"/>: every image channel-last inside a border of zeros, each value with
/// its bits, for rows 8 wide (two at a time through one 16 x 16 transpose per 16 channels), rows narrower than 16 (masked
/// loads into a block on the stack: ResNet-18's 256 x 14 x 14, a single column) and wider ones, channel counts with and
/// without a remainder past the last 16, odd heights (a last row alone) and paddings 0 to 2.</summary>
public class ChannelLastCopyTests
{
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
        var random = new Random(channels * 1000 + height * 100 + width * 10 + padding);
        var input = new float[images * channels * height * width];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
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
}
