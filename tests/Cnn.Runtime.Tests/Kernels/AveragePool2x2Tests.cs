using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="AveragePool2x2.Forward"/> against the general pooling loop the generator emits for other windows (each
/// window's values added to 0 in index order, then divided by 4), bit for bit: rows of whole chunks of 16 outputs, of
/// partial ones and of both, odd sizes whose last row and column no window reads, values whose sums depend on the
/// order, windows of negative zeros, NaN and infinities; and nothing written past the output.
/// </summary>
public class AveragePool2x2Tests
{
    private static float[] WindowByWindow(float[] x, int planes, int height, int width)
    {
        int oh = height / 2, ow = width / 2;
        var y = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float sum = 0f;
                    for (int iy = 2 * oy; iy < 2 * oy + 2; iy++)
                        for (int ix = 2 * ox; ix < 2 * ox + 2; ix++)
                            sum += x[(p * height + iy) * width + ix];
                    y[(p * oh + oy) * ow + ox] = sum / 4f;
                }
        return y;
    }

    [Theory]
    [InlineData(1, 2, 2)]
    [InlineData(2, 56, 56)]
    [InlineData(3, 28, 28)]
    [InlineData(4, 14, 14)]
    [InlineData(2, 7, 7)]
    [InlineData(3, 5, 65)]
    [InlineData(1, 9, 33)]
    [InlineData(2, 4, 96)]
    public void EachWindowIsSummedInIndexOrder(int planes, int height, int width)
    {
        var x = MixedMagnitudes.Values(planes * height * width, planes * 131 + height * 17 + width);
        x[0] = x[1] = x[width] = x[width + 1] = -0f; // a window of negative zeros averages to +0, as 0 + (-0) is +0
        if (x.Length > 8) { x[2] = float.NaN; x[x.Length - 1 - width] = float.PositiveInfinity; x[x.Length - 2 - width] = float.NegativeInfinity; }
        int outLength = planes * (height / 2) * (width / 2);
        var y = new float[outLength + 3];
        y[outLength] = 7f;
        AveragePool2x2.Forward(x, y, planes, height, width, height / 2, width / 2);
        var expected = WindowByWindow(x, planes, height, width);
        for (int i = 0; i < outLength; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]),
                $"output {i} of {planes}x{height / 2}x{width / 2}: got {y[i]:R}, window by window gave {expected[i]:R}");
        Assert.Equal(0x0000_0000, BitConverter.SingleToInt32Bits(y[0])); // +0, not -0
        Assert.Equal(7f, y[outLength]); // nothing written past the output
    }

    [Fact]
    public void SpansTooShortAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => AveragePool2x2.Forward(new float[63], new float[16], planes: 1, height: 8, width: 8, outHeight: 4, outWidth: 4));
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public void OutputSizesOtherThanHalfAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => AveragePool2x2.Forward(new float[64], new float[16], planes: 1, height: 8, width: 8, outHeight: 4, outWidth: 3));
        Assert.Contains("pool into 4x4, not 4x3", error.Message);
    }
}
