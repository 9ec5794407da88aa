using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The 3x3 stride-1 depthwise kernel without a padded copy against a plain scalar reference of the same chain (a fused
/// multiply-add chain in (ky, kx) order from zero, padding as <c>w * 0</c>, then the bias and the activation) bit for
/// bit, and against the general kernel (<see cref="DepthwiseConv.Forward"/>) bit for bit: heights and widths from 1 to
/// past several 16-lane chunks (7, 14, 28, 56 among them), channel ranges, each activation. Channels outside the range
/// are left untouched.
/// </summary>
public class Depthwise3x3Tests
{
    private sealed record Case(int Channels, int Height, int Width, int First, int End)
    {
        public override string ToString() => $"C{Channels} {Height}x{Width} channels [{First}, {End})";
    }

    private static IEnumerable<Case> Cases(int seed, int count)
    {
        var random = new Random(seed);
        foreach (int size in new[] { 7, 14, 28, 56 })
            yield return new Case(3, size, size, 0, 3);
        for (int made = 0; made < count; made++)
        {
            int height = random.Next(1, 30), width = random.Next(1, 75), channels = random.Next(1, 6);
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
        var random = new Random(11 + (int)activation);
        foreach (var c in Cases(3 + (int)activation, 200))
            Depthwise3x3Chain.AssertSameBits(c.ToString(), 1, c.Channels, c.Height, c.Width, c.First, c.End, activation, random,
                (input, weight, bias, output) => Depthwise3x3.Forward(input, weight, bias, output, c.Channels, c.Height, c.Width, c.First, c.End, activation));
    }

    /// <summary>Rows of every channel in ranges cut anywhere (inside a block of four, one row, the last rows), each range
    /// writing only its rows: together the bits of the whole layer, MobileNetV2's 32 x 112 x 112 among the maps.</summary>
    [Theory]
    [InlineData(32, 112, 112, FusedActivation.Relu6)]
    [InlineData(3, 28, 28, FusedActivation.None)]
    [InlineData(2, 9, 17, FusedActivation.Relu)]
    [InlineData(4, 30, 75, FusedActivation.None)]
    public void RowRangesGiveTheWholeLayersBits(int channels, int height, int width, FusedActivation activation)
    {
        if (!Depthwise3x3.SplitsRows(height, width)) return; // ranges of rows are the AVX-512 path's
        var random = new Random(channels * 1000 + height + width);
        float[] Values(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(random.NextDouble() * 2 - 1); return a; }
        var input = Values(channels * height * width);
        var weight = Values(channels * 9);
        var bias = Values(channels);
        var whole = new float[input.Length];
        Depthwise3x3.Forward(input, weight, bias, whole, channels, height, width, 0, channels, activation);
        foreach (int[] cuts in new[] { new[] { 0, height }, new[] { 0, 1, height }, new[] { 0, 5, height / 2, height - 1, height } })
        {
            var ranges = Enumerable.Repeat(123f, input.Length).ToArray();
            for (int k = 0; k + 1 < cuts.Length; k++)
            {
                if (cuts[k] > cuts[k + 1]) continue;
                Depthwise3x3.ForwardRows(input, weight, bias, ranges, channels, height, width, cuts[k], cuts[k + 1], activation);
            }
            for (int i = 0; i < whole.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(ranges[i]),
                    $"cuts {string.Join(",", cuts)}: output {i} is {ranges[i]:R}, the whole layer's {whole[i]:R}");
        }
        // A range writes its rows alone.
        var one = Enumerable.Repeat(123f, input.Length).ToArray();
        Depthwise3x3.ForwardRows(input, weight, bias, one, channels, height, width, 1, 2, activation);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = (c * height + y) * width + x;
                    if (y == 1) Assert.Equal(whole[i], one[i]);
                    else Assert.Equal(123f, one[i]);
                }
    }

    [Fact]
    public void RowRangesOfAMapTheyDoNotSplitAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Depthwise3x3.ForwardRows(new float[14 * 14], new float[9], new float[1], new float[14 * 14], 1, 14, 14, 0, 14));
        Assert.Contains("not split by rows", e.Message);
    }

    [Fact]
    public void PaddingIsAProductWithZero()
    {
        // An infinite weight on a padded tap gives inf * 0 = NaN in the im2col chain; this kernel must too.
        float[] input = [1f, 2f, 3f, 4f], weight = [float.PositiveInfinity, 0, 0, 0, 1, 0, 0, 0, 0], bias = [0f];
        var output = new float[4];
        Depthwise3x3.Forward(input, weight, bias, output, 1, 2, 2, 0, 1);
        Assert.True(float.IsNaN(output[0]), $"out[0, 0] is {output[0]}");
        Assert.Equal(float.PositiveInfinity, output[3]);
    }

    [Theory]
    [InlineData(3, 1, 1, 1, true)]
    [InlineData(3, 2, 1, 1, false)]
    [InlineData(3, 1, 0, 1, false)]
    [InlineData(5, 1, 1, 1, false)]
    [InlineData(3, 1, 1, 2, false)]
    public void SupportsOnly3x3Stride1Padding1(int kernel, int stride, int padding, int dilation, bool supported) =>
        Assert.Equal(supported, Depthwise3x3.Supports(kernel, stride, padding, dilation));

    [Theory]
    [InlineData(-1, 2, "channel range [-1, 2) is not within the 2 channels")]
    [InlineData(0, 3, "channel range [0, 3) is not within the 2 channels")]
    public void RejectsBadChannelRanges(int first, int end, string message)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Depthwise3x3.Forward(new float[8], new float[18], new float[2], new float[8], 2, 2, 2, first, end));
        Assert.Contains(message, e.Message);
    }
}
