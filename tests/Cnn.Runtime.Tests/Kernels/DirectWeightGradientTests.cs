using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="DirectWeightGradient.Accumulate"/> (the weight gradient from the zero-padded images) gives exactly the bits
/// of <see cref="Im2Col.Pack"/> of the same images and one <see cref="Gemm.AccumulateTransposedB"/> over them, for output
/// rows 16 and 32 wide; kernels 1, 3 and 5 with and without padding (a 1x1 kernel with padding too); channel counts
/// that leave 1 to 7 columns after the last block of 8; filter counts below one block of 3, not a multiple of 3 and past
/// one chunk of 48; one and several images, several in one segment (16-wide maps) and maps longer than one segment;
/// into zeros and onto gradients already there.
/// </summary>
public class DirectWeightGradientTests
{
    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, bool>();
        (int Kernel, int Padding)[] kernels = [(3, 1), (3, 0), (1, 0), (1, 1), (5, 2), (5, 0), (3, 2)];
        int[] channels = [1, 3, 5, 16];
        int[] filters = [1, 4, 7, 16, 50];
        int[] counts = [1, 2, 5];
        int index = 0;
        foreach (var (kernel, padding) in kernels)
        foreach (int outWidth in new[] { 16, 32 })
        foreach (bool accumulate in new[] { false, true })
        foreach (int variant in new[] { 0, 1 })
        {
            int c = channels[(index + variant) % channels.Length], f = filters[(index * 3 + variant) % filters.Length];
            int count = counts[(index + 2 * variant) % counts.Length];
            int outHeight = variant == 0 ? outWidth : 5 + index % 11;
            data.Add(c, f, outHeight, outWidth, kernel, padding, count, accumulate);
            index++;
        }
        data.Add(32, 32, 32, 32, 3, 1, 1, true);    // the CIFAR VGG's second convolution
        data.Add(16, 16, 32, 32, 3, 1, 3, true);    // the CIFAR ResNet's 16 -> 16 convolutions
        data.Add(32, 64, 16, 16, 3, 1, 4, false);   // 32 -> 64 @16: four images in one segment
        data.Add(3, 16, 32, 32, 3, 1, 9, false);    // the first convolution: 27 columns
        data.Add(8, 5, 40, 32, 3, 1, 2, true);      // 1,280 positions: a segment of 32 rows, then 8
        data.Add(2, 3, 70, 16, 3, 1, 3, false);     // 1,120 positions: a segment of 64 rows, then 6
        data.Add(4, 49, 16, 16, 1, 0, 6, true);     // 1x1 without padding: the input read in place
        data.Add(2, 3, 3, 48, 3, 1, 2, false);      // 48 wide: three chunks per row
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesIm2ColAndTheColumnProductBitForBit(int channels, int filters, int outHeight, int outWidth, int kernel, int padding, int count, bool accumulate)
    {
        int height = outHeight - 2 * padding + kernel - 1, width = outWidth - 2 * padding + kernel - 1;
        var random = new Random(channels * 7919 + filters * 131 + outHeight * 17 + outWidth + kernel * 3 + padding + count * 101);
        int inLength = channels * height * width, outLength = filters * outHeight * outWidth, depth = channels * kernel * kernel;
        int positions = outHeight * outWidth, columnLength = depth * positions;
        float[] input = Random(random, count * inLength), dout = Random(random, count * outLength);
        float[] start = accumulate ? Random(random, filters * depth) : new float[filters * depth];

        var columns = new float[count * columnLength];
        for (int s = 0; s < count; s++)
            Im2Col.Pack(input.AsSpan(s * inLength, inLength), columns.AsSpan(s * columnLength, columnLength), channels, height, width, kernel, 1, padding, outHeight, outWidth);
        var expected = (float[])start.Clone();
        Gemm.AccumulateTransposedB(dout, outLength, columns, columnLength, expected, m: filters, n: depth, k: positions, count: count);

        var actual = (float[])start.Clone();
        var padded = new float[DirectWeightGradient.PaddedLength(count, channels, height, width, padding)];
        DirectWeightGradient.Accumulate(input, dout, actual, padded, count, channels, height, width, filters, kernel, padding, outHeight, outWidth);

        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{channels} -> {filters}, {kernel}x{kernel} padding {padding}, {outHeight}x{outWidth} over {count}: dweight[{i / depth}, {i % depth}] " +
                $"is {actual[i]:R}, im2col + the column product give {expected[i]:R}");
    }

    [Fact]
    public void ANonZeroBorderInTheScratchDoesNotLeakIn()
    {
        // The scratch is padded afresh on every call: garbage left in it from before changes nothing.
        const int channels = 2, size = 16, filters = 3;
        var random = new Random(5);
        float[] input = Random(random, channels * size * size), dout = Random(random, filters * size * size);
        var clean = new float[filters * channels * 9];
        DirectWeightGradient.Accumulate(input, dout, clean, new float[DirectWeightGradient.PaddedLength(1, channels, size, size, 1)], 1, channels, size, size, filters, 3, 1, size, size);
        var dirty = new float[clean.Length];
        var scratch = Random(random, (int)DirectWeightGradient.PaddedLength(1, channels, size, size, 1));
        DirectWeightGradient.Accumulate(input, dout, dirty, scratch, 1, channels, size, size, filters, 3, 1, size, size);
        Assert.Equal(clean, dirty);
    }

    [Theory]
    [InlineData(1, 15, 3, 1)]   // rows not whole chunks of 16
    [InlineData(1, 24, 3, 1)]
    [InlineData(2, 16, 3, 1)]   // stride 2
    public void RefusesShapesItDoesNotHandle(int stride, int outWidth, int kernel, int padding)
    {
        Assert.False(DirectWeightGradient.Supports(stride, outWidth));
        if (stride != 1) return;
        int width = outWidth - 2 * padding + kernel - 1;
        Assert.Throws<ArgumentException>(() => DirectWeightGradient.Accumulate(new float[width * 4], new float[outWidth * 4], new float[9],
            new float[1000], 1, 1, 4, width, 1, kernel, padding, 4, outWidth));
    }

    [Fact]
    public void RefusesTooShortSpans()
    {
        Assert.Throws<ArgumentException>(() => DirectWeightGradient.Accumulate(new float[16 * 16], new float[16 * 16], new float[9],
            new float[10], 1, 1, 16, 16, 1, 3, 1, 16, 16));
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
