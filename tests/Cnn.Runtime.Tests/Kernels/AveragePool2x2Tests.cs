using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="AveragePool2x2.Forward"/> against the general pooling loop the generator emits for other windows (each
/// window's values added to 0 in index order, then divided by 4), bit for bit: rows of whole chunks of 16 outputs, of
/// partial ones and of both, odd sizes whose last row and column no window reads, values whose sums depend on the
/// order, windows of negative zeros, NaN and infinities; and nothing written past the output. Normalised and rectified
/// as it is read, the bits of the BatchNorm's pass with its ReLU, then the pool.
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

    [Theory]
    [InlineData(3, 56, 56, 3)]  // DenseNet-121's first transition's shape, on a few channels
    [InlineData(6, 14, 14, 3)]  // two images of three channels: plane p is channel p % 3
    [InlineData(4, 7, 7, 4)]    // odd sizes: the last row and column are read by no window
    [InlineData(2, 5, 65, 2)]   // rows of a whole chunk of 16 outputs and a partial one
    public void NormalisedAsReadIsTheBitsOfTheBatchNormsPassThenThePool(int planes, int height, int width, int channels)
    {
        var x = MixedMagnitudes.Values(planes * height * width, planes * 7 + height + width);
        x[3] = float.NaN;
        x[width + 2] = -0f;
        var random = new Random(height + channels);
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = (float)(random.NextDouble() * 2 - 0.5); // some negative: the ReLU cuts different values
            shift[c] = (float)(random.NextDouble() - 0.5);
        }
        // The BatchNorm's pass with its ReLU over every image, then the pool.
        var normalised = new float[x.Length];
        BatchNorm.Apply(x, normalised, planes / channels, channels, height * width, scale, shift, FusedActivation.Relu);
        int outLength = planes * (height / 2) * (width / 2);
        var expected = new float[outLength];
        AveragePool2x2.Forward(normalised, expected, planes, height, width, height / 2, width / 2);
        var y = new float[outLength + 1];
        y[outLength] = 7f;
        AveragePool2x2.ForwardNormalized(x, y, planes, height, width, height / 2, width / 2, scale, shift, channels);
        for (int i = 0; i < outLength; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]),
                $"output {i} of {planes}x{height / 2}x{width / 2}: got {y[i]:R}, the BatchNorm's pass then the pool gave {expected[i]:R}");
        Assert.Contains(expected, float.IsNaN);
        Assert.Equal(7f, y[outLength]);
        var error = Assert.Throws<ArgumentException>(() =>
            AveragePool2x2.ForwardNormalized(x, y, planes, height, width, height / 2, width / 2, scale.AsSpan(1), shift, channels));
        Assert.Contains($"{channels} channels need that many scales and shifts", error.Message);
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
