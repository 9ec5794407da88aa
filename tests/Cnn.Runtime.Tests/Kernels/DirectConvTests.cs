using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>The direct convolution gives exactly the bits of im2col + GEMM + bias (+ ReLU when fused), for every register blocking it uses.</summary>
public class DirectConvTests
{
    [Fact]
    public void DirectConvolutionEqualsIm2ColGemmBitForBit()
    {
        var random = new Random(17);
        int checkedShapes = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int channels = random.Next(1, 5), filters = random.Next(1, 21), kernel = random.Next(1, 6), padding = random.Next(0, 3);
            int height = random.Next(kernel, 20), width = random.Next(1, 36);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outWidth < 1 || outHeight < 1 || !DirectConv.Supports(1, outWidth)) continue;
            float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);

            int k = channels * kernel * kernel, positions = outHeight * outWidth;
            var col = new float[k * positions];
            var expected = new float[filters * positions];
            Im2Col.Pack(input, col, channels, height, width, kernel, 1, padding, outHeight, outWidth);
            Gemm.Multiply(weight, col, expected, filters, positions, k);
            Elementwise.AddBias(expected, bias, filters, positions);
            bool relu = trial % 2 == 1;
            if (relu) Activations.Relu(expected, expected);

            var actual = new float[filters * positions];
            var padded = new float[DirectConv.PaddedLength(channels, height, width, padding)];
            DirectConv.Forward(input, weight, bias, actual, padded, channels, height, width, filters, kernel, padding, outHeight, outWidth, relu);

            for (int i = 0; i < actual.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} relu {relu}: value {i} is {actual[i]:R}, im2col gives {expected[i]:R}");
            checkedShapes++;
        }
        Assert.True(checkedShapes > 150, $"only {checkedShapes} shapes were checked");
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
