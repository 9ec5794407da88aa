using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The depthwise kernel against a float64 reference and, bit for bit, against the im2col + GEMM + bias chain of the
/// grouped convolution (+ the activation it fuses), over strides 1, 2 and 3, paddings 0 to 2, kernels 1, 3 and 5, odd
/// sizes and channel ranges (some of 8 to 19 channels, which AVX2 takes eight at a time at small sizes); channels outside
/// the range are left untouched.
/// </summary>
public class DepthwiseConvTests
{
    private const float Untouched = -12345f;

    private sealed record Case(int Channels, int Height, int Width, int Kernel, int Stride, int Padding, int First, int End)
    {
        public int OutHeight => (Height + 2 * Padding - Kernel) / Stride + 1;
        public int OutWidth => (Width + 2 * Padding - Kernel) / Stride + 1;
        public int Positions => OutHeight * OutWidth;
        public override string ToString() => $"C{Channels} {Height}x{Width} K{Kernel} S{Stride} P{Padding} channels [{First}, {End})";
    }

    private static IEnumerable<Case> Cases(int seed, int count)
    {
        // 3x3 at stride 2 with rows of more than 16 outputs (their even and odd columns copied apart on AVX2), every
        // padding, the row's end at each phase of the copy's 16-column loads.
        foreach (int padding in new[] { 0, 1, 2 })
            foreach (int width in new[] { 33, 34, 47, 48, 66, 69 })
                yield return new Case(2, 5 + padding + width % 3, width, 3, 2, padding, 0, 2);
        // 3x3 at strides 1 and 2 with rows of at most 16 outputs (on AVX2, eight channels at a time in the lanes): ranges
        // that start and end off a multiple of 8, rows of 3 to 31 values, and a range of exactly eight channels.
        foreach (int stride in new[] { 1, 2 })
            foreach (int padding in new[] { 0, 1, 2 })
                foreach (var (height, width) in new[] { (7, 7), (14, 14), (9, 15), (4, 31), (20, 3), (1, 8) })
                    if (height + 2 * padding >= 3 && width + 2 * padding >= 3)
                        yield return new Case(19, height, width, 3, stride, padding, (height + width) % 3, 19 - width % 4);
        yield return new Case(8, 5, 6, 3, 1, 1, 0, 8);
        // The same in bands of output rows: rows of 30 to 32 outputs at stride 2 (bands of 3 rows), 45 rows of 14 at stride 1.
        yield return new Case(19, 40, 60, 3, 2, 1, 3, 19);
        yield return new Case(17, 33, 63, 3, 2, 0, 0, 16);
        yield return new Case(18, 37, 61, 3, 2, 2, 1, 18);
        yield return new Case(16, 45, 14, 3, 1, 1, 0, 16);
        var random = new Random(seed);
        int[] kernels = [1, 3, 5], strides = [1, 2, 3];
        for (int made = 0; made < count;)
        {
            int kernel = kernels[random.Next(kernels.Length)], stride = strides[random.Next(strides.Length)], padding = random.Next(0, 3);
            int height = random.Next(1, 40), width = random.Next(1, 70), channels = random.Next(1, 7);
            if (height + 2 * padding < kernel || width + 2 * padding < kernel) continue;
            int first = random.Next(0, channels), end = random.Next(first + 1, channels + 1);
            made++;
            yield return new Case(channels, height, width, kernel, stride, padding, first, end);
        }
    }

    private static (float[] Output, float[] Input, float[] Weight, float[] Bias) Run(Case c, Random random, FusedActivation activation)
    {
        float[] input = Values(random, c.Channels * c.Height * c.Width), weight = Values(random, c.Channels * c.Kernel * c.Kernel), bias = Values(random, c.Channels);
        var output = new float[c.Channels * c.Positions];
        Array.Fill(output, Untouched);
        var scratch = new float[DepthwiseConv.ScratchLength(c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutWidth)];
        DepthwiseConv.Forward(input, weight, bias, output, scratch, c.Channels, c.Height, c.Width, c.Kernel, c.Stride, c.Padding,
            c.OutHeight, c.OutWidth, c.First, c.End, activation);
        return (output, input, weight, bias);
    }

    [Fact]
    public void AgreesWithAFloat64ReferenceAndLeavesOtherChannelsAlone()
    {
        var random = new Random(5);
        foreach (var c in Cases(1, 250))
        {
            var (output, input, weight, bias) = Run(c, random, FusedActivation.None);
            for (int ch = 0; ch < c.Channels; ch++)
            for (int oy = 0; oy < c.OutHeight; oy++)
            for (int ox = 0; ox < c.OutWidth; ox++)
            {
                float actual = output[(ch * c.OutHeight + oy) * c.OutWidth + ox];
                if (ch < c.First || ch >= c.End)
                {
                    Assert.True(actual == Untouched, $"{c}: channel {ch} outside the range was written");
                    continue;
                }
                double sum = bias[ch], scale = Math.Abs(bias[ch]);
                for (int ky = 0; ky < c.Kernel; ky++)
                for (int kx = 0; kx < c.Kernel; kx++)
                {
                    int y = oy * c.Stride + ky - c.Padding, x = ox * c.Stride + kx - c.Padding;
                    if (y < 0 || y >= c.Height || x < 0 || x >= c.Width) continue;
                    double product = (double)weight[(ch * c.Kernel + ky) * c.Kernel + kx] * input[(ch * c.Height + y) * c.Width + x];
                    sum += product;
                    scale += Math.Abs(product);
                }
                Assert.True(Math.Abs(actual - sum) <= 1e-6 * scale + 1e-30,
                    $"{c}: out[{ch}, {oy}, {ox}] is {actual:R}, float64 gives {sum:R}");
            }
        }
    }

    [Theory]
    [InlineData(FusedActivation.None)]
    [InlineData(FusedActivation.Relu)]
    [InlineData(FusedActivation.Relu6)]
    public void GivesTheBitsOfIm2ColGemmAndBias(FusedActivation activation)
    {
        var random = new Random(7 + (int)activation);
        foreach (var c in Cases(2 + (int)activation, 150))
        {
            var (output, input, weight, bias) = Run(c, random, activation);
            int kk = c.Kernel * c.Kernel, inPlane = c.Height * c.Width;
            var col = new float[kk * c.Positions];
            var expected = new float[c.Positions];
            for (int ch = c.First; ch < c.End; ch++)
            {
                Im2Col.Pack(input.AsSpan(ch * inPlane, inPlane), col, 1, c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutHeight, c.OutWidth);
                Gemm.Multiply(weight.AsSpan(ch * kk, kk), col, expected, 1, c.Positions, kk);
                Elementwise.AddBias(expected, bias.AsSpan(ch, 1), 1, c.Positions);
                if (activation == FusedActivation.Relu) Activations.Relu(expected, expected);
                if (activation == FusedActivation.Relu6) Relu6.Forward(expected, expected);
                for (int i = 0; i < c.Positions; i++)
                {
                    float actual = output[ch * c.Positions + i];
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual),
                        $"{c} {activation}: out[{ch}] value {i} is {actual:R}, im2col gives {expected[i]:R}");
                }
            }
        }
    }

    [Fact]
    public void Relu6ClampsBothEndsAndKeepsNaN()
    {
        // One channel, 1x1 kernel of weight 1, no bias: the output is the activation of the input itself.
        float[] input = [-3f, 0.5f, 6f, 7.5f, float.NaN, -0f], weight = [1f], bias = [0f];
        var output = new float[input.Length];
        var scratch = new float[DepthwiseConv.ScratchLength(1, input.Length, 1, 1, 0, input.Length)];
        DepthwiseConv.Forward(input, weight, bias, output, scratch, 1, 1, input.Length, 1, 1, 0, 1, input.Length, 0, 1, FusedActivation.Relu6);
        Assert.Equal(new[] { 0f, 0.5f, 6f, 6f }, output[..4]);
        Assert.True(float.IsNaN(output[4]));
        Assert.Equal(0f, output[5]);
    }

    [Fact]
    public void PaddingIsAProductWithZeroLikeIm2Col()
    {
        // An infinite weight on a padded tap gives inf * 0 = NaN in the im2col chain; the direct kernel must too.
        float[] input = [1f, 2f, 3f, 4f], weight = [float.PositiveInfinity, 0, 0, 0, 1, 0, 0, 0, 0], bias = [0f];
        var output = new float[4];
        var scratch = new float[DepthwiseConv.ScratchLength(2, 2, 3, 1, 1, 2)];
        DepthwiseConv.Forward(input, weight, bias, output, scratch, 1, 2, 2, 3, 1, 1, 2, 2, 0, 1);
        Assert.True(float.IsNaN(output[0]), $"out[0, 0] is {output[0]}");
        Assert.Equal(float.PositiveInfinity, output[3]);
    }

    [Theory]
    [InlineData(-1, 2, "channel range [-1, 2) is not within the 2 channels")]
    [InlineData(0, 3, "channel range [0, 3) is not within the 2 channels")]
    [InlineData(2, 1, "channel range [2, 1) is not within the 2 channels")]
    public void ABadChannelRangeIsNamed(int first, int end, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => DepthwiseConv.Forward(new float[2 * 25], new float[18], new float[2], new float[2 * 25],
            new float[1000], 2, 5, 5, 3, 1, 1, 5, 5, first, end));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AnOutputThatReadsPastThePaddedInputIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => DepthwiseConv.Forward(new float[25], new float[9], new float[1], new float[36],
            new float[1000], 1, 5, 5, 3, 1, 1, 6, 6, 0, 1));
        Assert.Contains("an output of 6x6 reads past the padded 7x7 input", e.Message);
    }

    private static float[] Values(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
