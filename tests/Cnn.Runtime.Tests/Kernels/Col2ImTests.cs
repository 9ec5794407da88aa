using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Im2Col.Unpack"/> (col2im) gives exactly the bits of its portable loop, written here one scalar at a
/// time: every column entry added onto the input position it came from, channel by channel, then ky, kx and output
/// row, onto a gradient that already holds values. Widths cover one strip of 16, several and a partial one.
/// </summary>
public class Col2ImTests
{
    [Theory]
    [InlineData(2, 9, 32, 3, 1)]
    [InlineData(3, 7, 21, 5, 2)]
    [InlineData(1, 5, 16, 3, 0)]
    [InlineData(2, 4, 40, 1, 0)]
    [InlineData(1, 6, 35, 4, 2)]
    public void MatchesThePortableLoopBitForBit(int channels, int height, int width, int kernel, int padding)
    {
        int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1, positions = outHeight * outWidth;
        var random = new Random(channels + 10 * height + 100 * width + kernel);
        var col = new float[channels * kernel * kernel * positions];
        for (int i = 0; i < col.Length; i++) col[i] = (float)(random.NextDouble() * 2 - 1);
        var start = new float[channels * height * width];
        for (int i = 0; i < start.Length; i++) start[i] = (float)(random.NextDouble() * 2 - 1);

        var expected = (float[])start.Clone();
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            int iy = oy + ky - padding, ix = ox + kx - padding;
            if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
            expected[(c * height + iy) * width + ix] += col[((c * kernel + ky) * kernel + kx) * positions + oy * outWidth + ox];
        }

        var actual = (float[])start.Clone();
        Im2Col.Unpack(col, actual, channels, height, width, kernel, 1, padding, outHeight, outWidth);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"C{channels} {height}x{width} K{kernel} P{padding}: gradient {i} is {actual[i]:R}, the portable loop gives {expected[i]:R}");
    }
}
