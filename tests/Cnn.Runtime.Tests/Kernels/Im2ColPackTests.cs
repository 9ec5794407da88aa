using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Im2Col.Pack"/> (im2col) writes, for every tap and output position, the input pixel under it or 0 in the
/// padding, written here one scalar at a time. Widths cover less than a strip of 16, exactly one, several and a partial
/// one; paddings as wide as the kernel or wider (whole column rows of padding), dilations, and a stride of 2 on rows
/// short and long enough for its 16-value steps (the even values of two vectors); stride 1 runs 16 output columns at a
/// time from one masked load each. The column buffer starts full of NaNs so that an entry left unwritten shows.
/// </summary>
public class Im2ColPackTests
{
    [Theory]
    [InlineData(2, 9, 32, 3, 1, 1, 1)]
    [InlineData(3, 7, 21, 5, 2, 1, 1)]
    [InlineData(1, 5, 16, 3, 0, 1, 1)]
    [InlineData(2, 8, 8, 3, 1, 1, 1)]
    [InlineData(2, 4, 40, 1, 0, 1, 1)]
    [InlineData(1, 6, 35, 4, 2, 1, 1)]
    [InlineData(1, 3, 5, 3, 4, 1, 1)]
    [InlineData(2, 9, 14, 3, 2, 1, 2)]
    [InlineData(1, 9, 14, 2, 0, 1, 4)]
    [InlineData(2, 9, 21, 4, 2, 2, 1)]
    [InlineData(3, 11, 75, 7, 3, 2, 1)]     // a stem's 7x7 stride 2: rows of 38 outputs take two 16-value steps and a scalar rest
    [InlineData(2, 6, 67, 1, 0, 2, 1)]      // 1x1 stride 2: 34 outputs read to the last pixel of the row
    [InlineData(1, 5, 66, 3, 1, 2, 1)]
    [InlineData(1, 9, 224, 7, 3, 2, 1)]     // ResNet-18's stem: 112 outputs, six 16-value steps and a masked rest of 16
    [InlineData(2, 4, 35, 1, 0, 2, 1)]      // 18 outputs: one step and a masked rest of 2
    [InlineData(3, 16, 16, 3, 1, 1, 1)]     // a CIFAR 16x16 map: one whole strip per row, rows of padding above and below
    [InlineData(2, 5, 33, 3, 1, 1, 1)]      // two whole strips and one lane of a third
    [InlineData(1, 4, 3, 3, 6, 1, 1)]       // padding wider than the image: most strips read nothing
    [InlineData(2, 8, 56, 3, 1, 2, 1)]      // ResNet's 3x3 stride-2 layers, each input row read once for three taps: 28 outputs
    [InlineData(3, 7, 14, 3, 1, 2, 1)]      // 7 outputs: one masked step
    [InlineData(1, 6, 15, 3, 1, 2, 1)]      // an odd width: the last output's right tap is padding
    [InlineData(1, 5, 32, 3, 1, 2, 1)]      // exactly one step of 16
    [InlineData(2, 4, 34, 3, 1, 2, 1)]      // 17 outputs: a whole step, then one lane whose left tap comes from the step before
    [InlineData(1, 3, 1, 3, 1, 2, 1)]       // one pixel
    public void WritesThePixelUnderEveryTap(int channels, int height, int width, int kernel, int padding, int stride, int dilation)
    {
        int span = dilation * (kernel - 1) + 1;
        int outHeight = (height + 2 * padding - span) / stride + 1, outWidth = (width + 2 * padding - span) / stride + 1;
        int positions = outHeight * outWidth;
        var random = new Random(channels + 10 * height + 100 * width + kernel);
        var input = new float[channels * height * width];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);

        var expected = new float[channels * kernel * kernel * positions];
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            int iy = oy * stride + ky * dilation - padding, ix = ox * stride + kx * dilation - padding;
            bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
            expected[((c * kernel + ky) * kernel + kx) * positions + oy * outWidth + ox] = inside ? input[(c * height + iy) * width + ix] : 0f;
        }

        // One spare entry past the columns: nothing may be written there.
        var actual = new float[expected.Length + 1];
        Array.Fill(actual, float.NaN);
        Im2Col.Pack(input, actual, channels, height, width, kernel, stride, padding, outHeight, outWidth, dilation);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"C{channels} {height}x{width} K{kernel} P{padding} S{stride} D{dilation}: column entry {i} is {actual[i]:R}, expected {expected[i]:R}");
        Assert.True(float.IsNaN(actual[^1]), "Im2Col.Pack wrote past the columns");
    }
}
