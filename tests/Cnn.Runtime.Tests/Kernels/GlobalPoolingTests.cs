using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="GlobalPooling.AverageForward"/>, which sums several planes side by side, against each plane summed alone in
/// index order, bit for bit: plane counts below, at and past a group of planes, planes of one value and of many, values
/// whose sums depend on the order (large and small mixed), and a plane count smaller than the spans.
/// </summary>
public class GlobalPoolingTests
{
    private static float[] OneAtATime(float[] x, int planes, int plane)
    {
        var y = new float[planes];
        for (int p = 0; p < planes; p++)
        {
            float sum = 0f;
            for (int i = 0; i < plane; i++) sum += x[p * plane + i];
            y[p] = sum / plane;
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 49)]
    [InlineData(4, 64)]
    [InlineData(5, 7)]
    [InlineData(9, 1)]
    [InlineData(64, 64)]
    [InlineData(1283, 49)]
    public void EachPlaneIsSummedInIndexOrder(int planes, int plane)
    {
        var x = MixedMagnitudes.Values(planes * plane + 5, planes * 31 + plane);
        var y = new float[planes + 2];
        y[planes] = 7f;
        GlobalPooling.AverageForward(x, y, planes, plane);
        var expected = OneAtATime(x, planes, plane);
        for (int p = 0; p < planes; p++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[p]) == BitConverter.SingleToInt32Bits(y[p]),
                $"plane {p} of {planes}: got {y[p]:R}, one plane at a time gave {expected[p]:R}");
        Assert.Equal(7f, y[planes]); // nothing written past the planes
    }

    [Fact]
    public void SpansTooShortAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => GlobalPooling.AverageForward(new float[63], new float[1], planes: 1, plane: 64));
        Assert.Contains("too short", error.Message);
    }
}
