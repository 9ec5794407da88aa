using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>Winograd F(4x4, 3x3) against a float64 convolution: every output within a stated bound of the output scale.</summary>
public class Winograd3x3Tests
{
    /// <summary>Largest |Winograd - exact| / largest |exact| allowed. The transforms scale values by up to 100 before the
    /// sums over channels, so F(4x4, 3x3) loses more than direct float32 convolution: measured at most 6.1e-6 of the scale
    /// over these shapes (64 and 128 channels of uniform data in [-1, 1]); the bound is 1e-5.</summary>
    private const double Bound = 1e-5;

    public static TheoryData<int, int, int, int, int, int, bool> Shapes => new()
    {
        // images, channels, filters, height, width, padding, relu
        { 1, 3, 5, 8, 8, 1, false },
        { 2, 16, 16, 8, 8, 1, true },
        { 3, 17, 33, 9, 7, 0, false },     // odd sizes, channels and filters with remainders past 16
        { 1, 32, 32, 32, 32, 1, true },
        { 4, 64, 48, 16, 16, 1, false },
        { 2, 40, 20, 13, 11, 1, true },    // outputs not a multiple of the tile
        { 1, 128, 128, 7, 7, 1, false },
        { 2, 8, 4, 3, 3, 0, false },       // one output
        { 1, 5, 7, 5, 6, 2, false },       // padding 2
        { 2, 33, 20, 10, 21, 1, true },    // rows of 21: a second block of 16 columns overlapping the first in the channel-last copy
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesAFloat64ConvolutionWithinTheBound(int images, int channels, int filters, int height, int width, int padding, bool relu)
    {
        var random = new Random(channels * 1000 + filters);
        int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
        float[] input = Random(random, images * channels * height * width), weight = Random(random, filters * channels * 9), bias = Random(random, filters);
        var expected = Reference(input, weight, bias, images, channels, height, width, filters, padding, relu);

        var actual = Run(input, weight, bias, images, channels, height, width, filters, padding, relu, 0, filters);
        double scale = expected.Max(Math.Abs), worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        Assert.True(worst / scale <= Bound, $"largest error {worst / scale:E2} of the output scale {scale:G4}, bound {Bound:E0}");
        Assert.True(scale > 0.5, "the outputs are not a fair test");
        if (relu) Assert.Contains(0f, actual);
    }

    [Fact]
    public void FilterRangesTogetherGiveTheWholeLayersBits()
    {
        var random = new Random(5);
        const int images = 2, channels = 24, filters = 40, height = 10, width = 9, padding = 1;
        float[] input = Random(random, images * channels * height * width), weight = Random(random, filters * channels * 9), bias = Random(random, filters);
        var whole = Run(input, weight, bias, images, channels, height, width, filters, padding, true, 0, filters);
        var first = Run(input, weight, bias, images, channels, height, width, filters, padding, true, 0, 17);
        var second = Run(input, weight, bias, images, channels, height, width, filters, padding, true, 17, filters);
        int plane = height * width;
        for (int n = 0; n < images; n++)
        for (int f = 0; f < filters; f++)
        for (int p = 0; p < plane; p++)
        {
            int at = (n * filters + f) * plane + p;
            float part = f < 17 ? first[at] : second[at];
            Assert.Equal(BitConverter.SingleToInt32Bits(whole[at]), BitConverter.SingleToInt32Bits(part));
        }
    }

    [Fact]
    public void PreparedWeightsAreTransformedAgainOnlyWhenTheWeightsChange()
    {
        const int filters = 3, channels = 2;
        var weight = Random(new Random(1), filters * channels * 9);
        var copy = new float[Winograd3x3.WeightCopyLength(filters, channels)];
        var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
        var expected = new float[transformed.Length];
        Winograd3x3.TransformWeights(weight, expected, filters, channels, 0, filters);

        Assert.True(Winograd3x3.PrepareWeights(weight, copy, transformed, filters, channels));
        Assert.Equal(expected, transformed);
        Assert.False(Winograd3x3.PrepareWeights(weight, copy, transformed, filters, channels));
        weight[37] += 1f;
        Assert.True(Winograd3x3.PrepareWeights(weight, copy, transformed, filters, channels));
        Winograd3x3.TransformWeights(weight, expected, filters, channels, 0, filters);
        Assert.Equal(expected, transformed);
        // All-zero weights on a new copy (which is all zeros too) are still transformed once.
        var zeros = new float[weight.Length];
        var freshCopy = new float[copy.Length];
        Assert.True(Winograd3x3.PrepareWeights(zeros, freshCopy, transformed, filters, channels));
        Assert.All(transformed, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadShapesAreRefusedByName()
    {
        var big = new float[100_000];
        var size = Assert.Throws<ArgumentException>(() => Winograd3x3.Forward(big, 1, big, big, big, big, big,
            channels: 2, height: 8, width: 8, filters: 2, padding: 1, outHeight: 7, outWidth: 8));
        Assert.Contains("not 7x8", size.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => Winograd3x3.TransformWeights(big, big, filters: 4, channels: 2, f0: 3, f1: 6));
        Assert.Contains("[3, 6)", range.Message);
        var shortSpan = Assert.Throws<ArgumentException>(() => Winograd3x3.TransformWeights(new float[10], big, filters: 4, channels: 2, f0: 0, f1: 4));
        Assert.Contains("too short", shortSpan.Message);
    }

    internal static float[] Run(float[] input, float[] weight, float[] bias, int images, int channels, int height, int width, int filters,
        int padding, bool relu, int f0, int f1)
    {
        int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
        var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
        Winograd3x3.TransformWeights(weight, transformed, filters, channels, f0, f1);
        var output = new float[images * filters * outHeight * outWidth];
        Winograd3x3.Forward(input, images, transformed, bias, output,
            new float[Winograd3x3.PaddedLength(images, channels, outHeight, outWidth)],
            new float[Winograd3x3.ScratchLength(images, channels, f1 - f0, outHeight, outWidth)],
            channels, height, width, filters, padding, outHeight, outWidth, relu, f0, f1);
        return output;
    }

    private static double[] Reference(float[] input, float[] weight, float[] bias, int images, int channels, int height, int width,
        int filters, int padding, bool relu)
    {
        int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
        var output = new double[images * filters * outHeight * outWidth];
        for (int n = 0; n < images; n++)
        for (int f = 0; f < filters; f++)
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            double sum = bias[f];
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
            {
                int y = oy + ky - padding, x = ox + kx - padding;
                if (y < 0 || y >= height || x < 0 || x >= width) continue;
                sum += (double)weight[((f * channels + c) * 3 + ky) * 3 + kx] * input[((n * channels + c) * height + y) * width + x];
            }
            output[((n * filters + f) * outHeight + oy) * outWidth + ox] = relu && sum < 0 ? 0 : sum;
        }
        return output;
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
