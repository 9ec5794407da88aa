using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The 3x3 stride-2 padding-1 depthwise kernel that reads its input in place against a plain scalar reference of the
/// same chain (a fused multiply-add chain in (ky, kx) order from zero, padding as <c>w * 0</c>, then the bias and the
/// activation) bit for bit, and against the general kernel (<see cref="DepthwiseConv.Forward"/>, padded phase-split
/// plane) bit for bit: odd and even heights and widths from 1 to 112 (MobileNetV2's 112, 56, 28 and 14 among them, and
/// widths past two 32-column loads), channel ranges, each activation. Channels outside the range are left untouched.
/// </summary>
public class Depthwise3x3Stride2Tests
{
    private sealed record Case(int Channels, int Height, int Width, int First, int End)
    {
        public override string ToString() => $"C{Channels} {Height}x{Width} channels [{First}, {End})";
    }

    private static IEnumerable<Case> Cases(int seed, int count)
    {
        var random = new Random(seed);
        foreach (int size in new[] { 7, 14, 28, 56, 112 })
            yield return new Case(3, size, size, 0, 3);
        foreach (var (height, width) in new[] { (1, 1), (1, 2), (2, 1), (3, 31), (4, 32), (5, 33), (9, 63), (8, 64), (7, 65), (11, 97), (3, 113) })
            yield return new Case(2, height, width, 0, 2);
        for (int made = 0; made < count; made++)
        {
            int height = random.Next(1, 40), width = random.Next(1, 120), channels = random.Next(1, 6);
            int first = random.Next(0, channels), end = random.Next(first + 1, channels + 1);
            yield return new Case(channels, height, width, first, end);
        }
    }

    [Theory]
    [InlineData(FusedActivation.None)]
    [InlineData(FusedActivation.Relu)]
    [InlineData(FusedActivation.Relu6)]
    public void GivesTheBitsOfThePlainChainAndOfTheGeneralKernel(FusedActivation activation)
    {
        var random = new Random(21 + (int)activation);
        foreach (var c in Cases(5 + (int)activation, 150))
            Depthwise3x3Chain.AssertSameBits(c.ToString(), 2, c.Channels, c.Height, c.Width, c.First, c.End, activation, random,
                (input, weight, bias, output) => Depthwise3x3Stride2.Forward(input, weight, bias, output, c.Channels, c.Height, c.Width, c.First, c.End, activation));
    }

    [Fact]
    public void WritesNothingPastTheOutput()
    {
        // The stores are masked to the output's width and rows: the values after the last channel stay as they were.
        var random = new Random(4);
        const int channels = 3, height = 13, width = 21;
        int outPlane = 7 * 11;
        var output = new float[channels * outPlane + 40];
        Array.Fill(output, Depthwise3x3Chain.Untouched);
        Depthwise3x3Stride2.Forward(Depthwise3x3Chain.Values(random, channels * height * width, 1f), Depthwise3x3Chain.Values(random, channels * 9, 1f), Depthwise3x3Chain.Values(random, channels, 1f),
            output, channels, height, width, 0, channels);
        for (int i = channels * outPlane; i < output.Length; i++) Assert.Equal(Depthwise3x3Chain.Untouched, output[i]);
        for (int i = 0; i < channels * outPlane; i++) Assert.NotEqual(Depthwise3x3Chain.Untouched, output[i]);
    }

    [Fact]
    public void PaddingIsAProductWithZero()
    {
        // An infinite weight on a padded tap gives inf * 0 = NaN in the im2col chain; this kernel must too: the top left
        // tap is padding for the first row and column of outputs, and inside the image for the others.
        float[] input = [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f], weight = [float.PositiveInfinity, 0, 0, 0, 1, 0, 0, 0, 0], bias = [0f];
        var output = new float[4];
        Depthwise3x3Stride2.Forward(input, weight, bias, output, 1, 3, 3, 0, 1);
        Assert.True(float.IsNaN(output[0]), $"out[0, 0] is {output[0]}");
        Assert.True(float.IsNaN(output[1]), $"out[0, 1] is {output[1]}");
        Assert.True(float.IsNaN(output[2]), $"out[1, 0] is {output[2]}");
        Assert.Equal(float.PositiveInfinity, output[3]);
    }

    [Theory]
    [InlineData(3, 2, 1, 1, true)]
    [InlineData(3, 1, 1, 1, false)]
    [InlineData(3, 2, 0, 1, false)]
    [InlineData(5, 2, 1, 1, false)]
    [InlineData(3, 2, 1, 2, false)]
    public void SupportsOnly3x3Stride2Padding1(int kernel, int stride, int padding, int dilation, bool supported) =>
        Assert.Equal(supported, Depthwise3x3Stride2.Supports(kernel, stride, padding, dilation));

    [Theory]
    [InlineData(-1, 2, "channel range [-1, 2) is not within the 2 channels")]
    [InlineData(0, 3, "channel range [0, 3) is not within the 2 channels")]
    public void RejectsBadChannelRanges(int first, int end, string message)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Depthwise3x3Stride2.Forward(new float[18], new float[18], new float[2], new float[8], 2, 3, 3, first, end));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void RejectsShortSpans()
    {
        // A 5x5 input gives 3x3 outputs: 9 per channel, so 17 values are too few for two channels.
        var e = Assert.Throws<ArgumentException>(() =>
            Depthwise3x3Stride2.Forward(new float[50], new float[18], new float[2], new float[17], 2, 5, 5, 0, 2));
        Assert.Contains("spans too short", e.Message);
    }
}
