using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The input gradient of a stride-1 convolution by the direct kernel (<see cref="DirectConvInputGradient"/>): against a
/// plain sum in double over every (f, ky, kx) that reaches each input value, and against im2col's path (the column
/// gradient <c>weight^T * dout</c>, then col2im), which sums the same products in another order.
/// </summary>
public class DirectConvInputGradientTests
{
    [Fact]
    public void EqualsThePlainSumAndIm2ColsColumnGradientForEveryBlockingAndPadding()
    {
        var random = new Random(29);
        int checkedShapes = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            int channels = random.Next(1, 21), filters = random.Next(1, 6), kernel = random.Next(1, 6), padding = random.Next(0, kernel);
            int height = random.Next(kernel, 14), width = random.Next(1, 36);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outWidth < 1 || outHeight < 1 || !DirectConvInputGradient.Supports(kernel, padding, width)) continue;
            float[] dout = Random(random, filters * outHeight * outWidth), weight = Random(random, filters * channels * kernel * kernel);

            var flipped = new float[weight.Length];
            DirectConvInputGradient.FlipWeights(weight, flipped, filters, channels, kernel);
            var actual = new float[channels * height * width];
            var padded = new float[DirectConvInputGradient.PaddedLength(filters, outHeight, outWidth, kernel, padding)];
            DirectConvInputGradient.Image(dout, flipped, actual, padded, channels, height, width, filters, kernel, padding, outHeight, outWidth);

            int k = channels * kernel * kernel, positions = outHeight * outWidth;
            var dcol = new float[k * positions];
            Gemm.Multiply(weight, dout, dcol, k, positions, filters, transposeA: true);
            var viaColumns = new float[actual.Length];
            Im2Col.Unpack(dcol, viaColumns, channels, height, width, kernel, 1, padding, outHeight, outWidth);

            for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double sum = 0, magnitude = 0;
                for (int f = 0; f < filters; f++)
                for (int ky = 0; ky < kernel; ky++)
                for (int kx = 0; kx < kernel; kx++)
                {
                    int oy = y + padding - ky, ox = x + padding - kx;
                    if (oy < 0 || oy >= outHeight || ox < 0 || ox >= outWidth) continue;
                    double term = (double)weight[((f * channels + c) * kernel + ky) * kernel + kx] * dout[(f * outHeight + oy) * outWidth + ox];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                int i = (c * height + y) * width + x;
                double tolerance = 1e-6 * magnitude + 1e-30;
                Assert.True(Math.Abs(actual[i] - sum) <= tolerance,
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width}: dinp[{c}, {y}, {x}] is {actual[i]:R}, the plain sum {sum:R}");
                Assert.True(Math.Abs(actual[i] - viaColumns[i]) <= 2 * tolerance,
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width}: dinp[{c}, {y}, {x}] is {actual[i]:R}, col2im gives {viaColumns[i]:R}");
            }
            checkedShapes++;
        }
        Assert.True(checkedShapes > 100, $"only {checkedShapes} shapes were checked");
    }

    [Fact]
    public void FlipWeightsRotatesEachKernelAndSwapsChannelsAndFilters()
    {
        // weight[f, c, ky, kx] = 1000 f + 100 c + 10 ky + kx, 2 filters, 3 channels, 2x2 kernels.
        var weight = new float[2 * 3 * 4];
        for (int f = 0; f < 2; f++) for (int c = 0; c < 3; c++) for (int ky = 0; ky < 2; ky++) for (int kx = 0; kx < 2; kx++)
            weight[((f * 3 + c) * 2 + ky) * 2 + kx] = 1000 * f + 100 * c + 10 * ky + kx;
        var flipped = new float[weight.Length];
        DirectConvInputGradient.FlipWeights(weight, flipped, filters: 2, channels: 3, kernel: 2);
        // flipped[c = 2, f = 1, 0, 0] = weight[1, 2, 1, 1]; flipped[c = 0, f = 1, 1, 0] = weight[1, 0, 0, 1].
        Assert.Equal(1211f, flipped[((2 * 2 + 1) * 2 + 0) * 2 + 0]);
        Assert.Equal(1001f, flipped[((0 * 2 + 1) * 2 + 1) * 2 + 0]);
        Assert.Equal(new float[] { 11, 10, 1, 0 }, flipped.AsSpan(0, 4).ToArray());
    }

    [Fact]
    public void AnOutputThatIsNotAStrideOneConvolutionsIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => DirectConvInputGradient.Image(new float[16], new float[9], new float[16], new float[64],
            channels: 1, height: 4, width: 4, filters: 1, kernel: 3, padding: 1, outHeight: 3, outWidth: 4));
        Assert.Contains("not that of a stride-1 convolution", error.Message, StringComparison.Ordinal);
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
