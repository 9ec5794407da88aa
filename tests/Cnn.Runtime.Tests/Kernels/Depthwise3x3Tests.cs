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
    private const float Untouched = -12345f;

    private sealed record Case(int Channels, int Height, int Width, int First, int End)
    {
        public int Plane => Height * Width;
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

    private static float[] Values(Random random, int length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>The plain reference: each output's chain read straight from the input.</summary>
    private static float Reference(Case c, float[] input, float[] weight, float[] bias, int ch, int oy, int ox, FusedActivation activation)
    {
        float acc = 0f;
        for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
        {
            int y = oy + ky - 1, x = ox + kx - 1;
            float value = y >= 0 && y < c.Height && x >= 0 && x < c.Width ? input[ch * c.Plane + y * c.Width + x] : 0f;
            acc = MathF.FusedMultiplyAdd(weight[ch * 9 + ky * 3 + kx], value, acc);
        }
        float v = acc + bias[ch];
        return activation switch
        {
            FusedActivation.Relu => v < 0f ? 0f : v,
            FusedActivation.Relu6 => v < 0f ? 0f : v > 6f ? 6f : v,
            _ => v,
        };
    }

    [Theory]
    [InlineData(FusedActivation.None)]
    [InlineData(FusedActivation.Relu)]
    [InlineData(FusedActivation.Relu6)]
    public void GivesTheBitsOfThePlainChainAndOfTheGeneralKernel(FusedActivation activation)
    {
        var random = new Random(11 + (int)activation);
        foreach (var c in Cases(3 + (int)activation, 200))
        {
            float[] input = Values(random, c.Channels * c.Plane, 4f), weight = Values(random, c.Channels * 9, 1f), bias = Values(random, c.Channels, 1f);
            var output = new float[c.Channels * c.Plane];
            Array.Fill(output, Untouched);
            Depthwise3x3.Forward(input, weight, bias, output, c.Channels, c.Height, c.Width, c.First, c.End, activation);
            var general = new float[c.Channels * c.Plane];
            Array.Fill(general, Untouched);
            DepthwiseConv.Forward(input, weight, bias, general, new float[DepthwiseConv.ScratchLength(c.Height, c.Width, 3, 1, 1, c.Width)],
                c.Channels, c.Height, c.Width, 3, 1, 1, c.Height, c.Width, c.First, c.End, activation);
            for (int ch = 0; ch < c.Channels; ch++)
            for (int oy = 0; oy < c.Height; oy++)
            for (int ox = 0; ox < c.Width; ox++)
            {
                int i = ch * c.Plane + oy * c.Width + ox;
                if (ch < c.First || ch >= c.End)
                {
                    Assert.True(output[i] == Untouched, $"{c}: channel {ch} outside the range was written");
                    continue;
                }
                float expected = Reference(c, input, weight, bias, ch, oy, ox, activation);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(output[i]),
                    $"{c} {activation}: out[{ch}, {oy}, {ox}] is {output[i]:R}, the plain chain gives {expected:R}");
                Assert.True(BitConverter.SingleToInt32Bits(general[i]) == BitConverter.SingleToInt32Bits(output[i]),
                    $"{c} {activation}: out[{ch}, {oy}, {ox}] is {output[i]:R}, DepthwiseConv gives {general[i]:R}");
            }
        }
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
