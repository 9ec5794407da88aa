using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The input gradient of a 3x3 stride-1 convolution through Winograd F(4x4, 3x3) (<see cref="WinogradInputGradient"/>):
/// against a plain sum in double over every (f, ky, kx) that reaches each input value, for paddings 0 to 2, maps whose
/// tiles the edges cut, channel counts in and out of whole 32-wide panels and several images per call.
/// </summary>
public class WinogradInputGradientTests
{
    /// <summary>Largest |Winograd - plain sum| allowed, relative to the largest sum of |terms| of the image (the transforms
    /// scale values by up to 100 before the sums; the forward pass's accuracy tests allow the same).</summary>
    private const double Tolerance = 1e-5;

    [Fact]
    public void EqualsThePlainSumOfTheFullConvolutionForEveryPaddingAndTiling()
    {
        var random = new Random(31);
        int[] counts = [1, 3, 16, 20, 32, 64];
        for (int trial = 0; trial < 60; trial++)
        {
            int channels = counts[random.Next(counts.Length)], filters = counts[random.Next(counts.Length)], padding = trial % 3;
            int height = random.Next(3, 19), width = random.Next(3, 19), images = random.Next(1, 4);
            int outHeight = height + 2 * padding - 2, outWidth = width + 2 * padding - 2;
            float[] dout = Random(random, images * filters * outHeight * outWidth), weight = Random(random, filters * channels * 9);

            var flipped = new float[weight.Length];
            var transformed = new float[WinogradInputGradient.TransformedWeightLength(filters, channels)];
            WinogradInputGradient.TransformWeights(weight, flipped, transformed, filters, channels);
            var actual = new float[images * channels * height * width];
            var padded = new float[WinogradInputGradient.PaddedLength(images, filters, height, width)];
            var scratch = new float[WinogradInputGradient.ScratchLength(images, channels, filters, height, width)];
            WinogradInputGradient.Images(dout, images, transformed, actual, padded, scratch, channels, height, width, filters, padding, outHeight, outWidth);

            for (int b = 0; b < images; b++)
            {
                var sums = new double[channels * height * width];
                double largest = 0;
                for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double sum = 0, magnitude = 0;
                    for (int f = 0; f < filters; f++)
                    for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                    {
                        int oy = y + padding - ky, ox = x + padding - kx;
                        if (oy < 0 || oy >= outHeight || ox < 0 || ox >= outWidth) continue;
                        double term = (double)weight[((f * channels + c) * 3 + ky) * 3 + kx] * dout[((b * filters + f) * outHeight + oy) * outWidth + ox];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    sums[(c * height + y) * width + x] = sum;
                    largest = Math.Max(largest, magnitude);
                }
                for (int i = 0; i < sums.Length; i++)
                {
                    float value = actual[b * sums.Length + i];
                    Assert.True(Math.Abs(value - sums[i]) <= Tolerance * largest,
                        $"C{channels} F{filters} P{padding} {height}x{width}, image {b}: dinp[{i}] is {value:R}, the plain sum {sums[i]:R}");
                }
            }
        }
    }

    [Fact]
    public void RejectsPaddingsWithoutAFullConvolutionAndWrongOutputSizes()
    {
        var none = new float[4096];
        var tooWide = Assert.Throws<ArgumentException>(() => WinogradInputGradient.Images(none, 1, none, none, none, none,
            channels: 2, height: 4, width: 4, filters: 2, padding: 3, outHeight: 8, outWidth: 8));
        Assert.Contains("padding 3", tooWide.Message, StringComparison.Ordinal);
        var wrongSize = Assert.Throws<ArgumentException>(() => WinogradInputGradient.Images(none, 1, none, none, none, none,
            channels: 2, height: 4, width: 4, filters: 2, padding: 1, outHeight: 4, outWidth: 3));
        Assert.Contains("not that of a 3x3 stride-1 convolution", wrongSize.Message, StringComparison.Ordinal);
        Assert.False(WinogradInputGradient.Supports(kernel: 3, stride: 2, dilation: 1, groups: 1, padding: 1));
        Assert.True(WinogradInputGradient.Supports(kernel: 3, stride: 1, dilation: 1, groups: 1, padding: 2));
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
