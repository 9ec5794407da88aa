using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The 16-filter kernel with the filters in the lanes (<see cref="DirectFilterVector"/>) against
/// <see cref="DirectConv.Forward"/> image by image, bit for bit: LeNet-5's second layer, padded maps, maps whose positions
/// end inside a group of 8 (and groups that cross rows), an odd number of taps, more than 16 taps in blocks of 16 and a
/// rest, several images in one call, with and without the ReLU, and input values where the paths could differ (-0,
/// infinities, NaN).
/// </summary>
public class DirectFilterVectorTests
{
    private static float[] Random(Random random, int length, bool special = false)
    {
        var x = new float[length];
        float[] specials = { -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e30f };
        for (int i = 0; i < length; i++)
            x[i] = special && random.Next(50) == 0 ? specials[random.Next(specials.Length)] : (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    [Theory]
    [InlineData(6, 14, 14, 5, 0, 3)] // LeNet-5's second layer
    [InlineData(1, 28, 28, 5, 2, 2)] // 25 taps: a last tap alone; 784 positions
    [InlineData(3, 9, 11, 3, 1, 2)] // 99 positions: a last group of 3
    [InlineData(20, 7, 7, 3, 1, 1)] // 180 taps: 11 blocks of 16 and 4; groups crossing 7-wide rows
    [InlineData(2, 5, 3, 3, 0, 4)] // one output column
    [InlineData(4, 6, 6, 1, 0, 2)] // a 1x1 kernel
    [InlineData(16, 8, 8, 3, 1, 2)] // 144 taps: whole blocks of 16, no rest
    public void GivesTheBitsOfTheDirectKernel(int channels, int height, int width, int kernel, int padding, int images)
    {
        var random = new Random(channels * 1000 + height * 10 + kernel);
        int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
        int inLen = channels * height * width, outLen = 16 * outHeight * outWidth;
        var input = Random(random, images * inLen, special: true);
        var weight = Random(random, 16 * channels * kernel * kernel, special: true);
        var bias = Random(random, 16);
        var padded = new float[DirectConv.PaddedLength(channels, height, width, padding)];
        var cache = new float[DirectFilterVector.CacheLength(channels, kernel)];
        foreach (bool relu in new[] { false, true })
        {
            var expected = new float[images * outLen];
            for (int b = 0; b < images; b++)
                DirectConv.Forward(input.AsSpan(b * inLen, inLen), weight, bias, expected.AsSpan(b * outLen, outLen), padded, channels, height, width,
                    16, kernel, padding, outHeight, outWidth, relu);
            var actual = new float[images * outLen + 3];
            actual[^1] = 42f;
            DirectFilterVector.Forward(input, images, weight, bias, actual, padded, cache, channels, height, width, kernel, padding, outHeight, outWidth, relu);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"relu {relu}: value {i} (image {i / outLen}, filter {i % outLen / (outHeight * outWidth)}) is {actual[i]:R}, the direct kernel gives {expected[i]:R}");
            Assert.Equal(42f, actual[^1]); // nothing written past the images
        }
    }

    [Fact]
    public void WeightsChangedInOneBitBetweenCallsAreLaidOutAgain()
    {
        var random = new Random(5);
        const int channels = 6, size = 14, kernel = 5, outSize = 10, outLen = 16 * outSize * outSize;
        var input = Random(random, channels * size * size);
        var weight = Random(random, 16 * channels * kernel * kernel);
        var bias = Random(random, 16);
        var cache = new float[DirectFilterVector.CacheLength(channels, kernel)];
        var first = new float[outLen];
        DirectFilterVector.Forward(input, 1, weight, bias, first, default, cache, channels, size, size, kernel, 0, outSize, outSize);
        // The last tap of the last filter (laid out one value at a time) and a tap inside the first block of 16.
        foreach (int changed in new[] { weight.Length - 1, 3 * 150 + 7 })
        {
            weight[changed] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(weight[changed]) ^ 1 << 20);
            var expected = new float[outLen];
            DirectConv.Forward(input, weight, bias, expected, default, channels, size, size, 16, kernel, 0, outSize, outSize);
            var actual = new float[outLen];
            DirectFilterVector.Forward(input, 1, weight, bias, actual, default, cache, channels, size, size, kernel, 0, outSize, outSize);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
            Assert.NotEqual(first.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void AShapeThatIsNotAStrideOneConvolutionIsRefusedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => DirectFilterVector.Forward(new float[6 * 14 * 14], 1, new float[16 * 150], new float[16],
            new float[16 * 100], default, new float[DirectFilterVector.CacheLength(6, 5)], channels: 6, height: 14, width: 14, kernel: 5, padding: 0, outHeight: 9, outWidth: 10));
        Assert.Contains("do not give a 9x10 output", error.Message);
        Assert.False(DirectFilterVector.Supports(filters: 12, stride: 1, channels: 6, kernel: 5));
        Assert.True(DirectFilterVector.Supports(filters: 16, stride: 1, channels: 6, kernel: 5));
    }
}
