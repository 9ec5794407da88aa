using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="DirectFilterLanes"/>: the filter-lane product read straight from the padded input gives the bits of im2col
/// + <see cref="FilterLanes.Forward"/> and of a scalar reference, on shapes whose groups of 14 span two 7-wide rows, fill
/// a 14-wide row, or lie two to a 28-wide row, with a run of 7 left over, several blocks of channels and chunks of rows
/// (the last one short), strides 1 and 2, kernels 1 to 11; without AVX-512, groups of 6 positions across rows with the
/// last group short (a 7x7 map's 49); a range of filters writes exactly its rows; <see cref="DirectFilterLanes.Pad"/>
/// lays out the zero border; shapes and spans it cannot take are refused with their names.
/// </summary>
public class DirectFilterLanesTests
{
    public static TheoryData<int, int, int, int, int, int, FusedActivation> Shapes()
    {
        // channels, input size, filters, kernel, stride, padding, activation
        return new TheoryData<int, int, int, int, int, int, FusedActivation>
        {
            { 64, 56, 128, 3, 2, 1, FusedActivation.Relu },   // ResNet-18's layer2.0.conv1: rows of 28 (two groups each), 4 chunks of 9, 7, 9 ... rows, 3 blocks of 28 channels
            { 128, 28, 64, 3, 2, 1, FusedActivation.None },   // rows of 14: one group each
            { 40, 14, 32, 3, 2, 1, FusedActivation.Relu6 },   // 7x7: groups over two rows, a run of 7 left over
            { 30, 7, 64, 3, 1, 1, FusedActivation.Relu },     // 7x7 at stride 1 (ResNet-18's layer4), 2 blocks of channels
            { 300, 14, 32, 1, 2, 0, FusedActivation.None },   // 1x1 stride 2 onto 7x7 without padding: the input itself, 2 blocks of 256 and 44 channels
            { 5, 28, 32, 5, 2, 2, FusedActivation.Relu },     // 5x5 stride 2 onto 14x14, padding 2
            { 3, 21, 32, 3, 1, 1, FusedActivation.Relu6 },    // 21-wide rows: three runs each, groups spanning rows
            { 2, 16, 32, 3, 2, 0, FusedActivation.None },     // 7x7 without padding: the input itself
            { 3, 27, 32, 11, 2, 5, FusedActivation.Relu },    // 11x11 (the largest kernel): 121 taps, a block of one channel
        };
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivesTheBitsOfIm2ColAndTheFilterLaneProductAndOfTheScalarReference(int channels, int size, int filters, int kernel, int stride, int padding, FusedActivation activation)
    {
        int outSize = (size + 2 * padding - kernel) / stride + 1, k = channels * kernel * kernel, positions = outSize * outSize;
        var random = new Random(channels * 131 + size * 17 + filters + kernel * 7 + stride);
        float[] input = Values(random, channels * size * size), weight = Values(random, filters * k), bias = Values(random, filters);
        for (int i = 0; i < bias.Length; i++) bias[i] *= 4f; // some sums pass 6, some stay below 0
        bias[3] = float.NaN;                                // a whole row of NaN
        input[size + 1] = float.NaN;                        // the outputs whose windows hold it are NaN in every row
        var panels = new float[filters * k];
        FilterLanes.Layout(weight, panels, filters, k);

        var col = new float[k * positions];
        Im2Col.Pack(input, col, channels, size, size, kernel, stride, padding, outSize, outSize);
        var expected = new float[filters * positions];
        FilterLanes.Forward(panels, col, bias, expected, filters, k, positions, 0, filters, activation);

        var padded = padding > 0 ? new float[DirectFilterLanes.PaddedLength(channels, size, size, padding)] : input;
        if (padding > 0) DirectFilterLanes.Pad(input, padded, channels, size, size, padding, 0, channels);
        var actual = Enumerable.Repeat(123f, filters * positions + 4).ToArray();
        DirectFilterLanes.Forward(panels, padded, bias, actual, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 0, filters, activation);

        string shape = $"{channels}x{size}x{size} -> {filters}x{outSize}x{outSize}, {kernel}x{kernel} stride {stride} padding {padding} {activation}";
        for (int i = 0; i < positions * filters; i++)
            Assert.True(Bits(expected[i]) == Bits(actual[i]), $"{shape}: value {i} is {actual[i]:R}, im2col + FilterLanes give {expected[i]:R}");
        Assert.Equal(new[] { 123f, 123f, 123f, 123f }, actual[(filters * positions)..]);

        // The scalar chain, straight from the definition, at some outputs of every filter.
        for (int f = 0; f < filters; f++)
        for (int j = f % 5; j < positions; j += 5)
        {
            int oy = j / outSize, ox = j % outSize;
            float acc = 0f;
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = oy * stride + ky - padding, ix = ox * stride + kx - padding;
                float x = iy < 0 || iy >= size || ix < 0 || ix >= size ? 0f : input[(c * size + iy) * size + ix];
                acc = MathF.FusedMultiplyAdd(weight[f * k + (c * kernel + ky) * kernel + kx], x, acc);
            }
            float v = acc + bias[f];
            float reference = activation == FusedActivation.None ? v : v < 0f ? 0f : activation == FusedActivation.Relu6 && v > 6f ? 6f : v;
            Assert.True(Bits(reference) == Bits(actual[f * positions + j]), $"{shape}: out[{f}, {j}] is {actual[f * positions + j]:R}, the reference gives {reference:R}");
        }
        Assert.Contains(actual[..(filters * positions)], float.IsNaN);
        if (activation != FusedActivation.None) Assert.Contains(actual[..(filters * positions)], v => v == 0f);
    }

    [Fact]
    public void EachRangeOfPanelsWritesItsRowsWithTheBitsOfTheWholeCall()
    {
        const int channels = 24, size = 28, filters = 128, kernel = 3, stride = 2, padding = 1, outSize = 14, positions = outSize * outSize, k = channels * kernel * kernel;
        var random = new Random(9);
        float[] input = Values(random, channels * size * size), weight = Values(random, filters * k), bias = Values(random, filters);
        var panels = new float[filters * k];
        FilterLanes.Layout(weight, panels, filters, k);
        var padded = new float[DirectFilterLanes.PaddedLength(channels, size, size, padding)];
        DirectFilterLanes.Pad(input, padded, channels, size, size, padding, 0, 10); // the padding by ranges of channels
        DirectFilterLanes.Pad(input, padded, channels, size, size, padding, 10, channels);
        var whole = new float[filters * positions];
        DirectFilterLanes.Forward(panels, padded, bias, whole, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 0, filters, FusedActivation.Relu);

        var ranges = Enumerable.Repeat(-7f, filters * positions).ToArray();
        DirectFilterLanes.Forward(panels, padded, bias, ranges, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 32, 96, FusedActivation.Relu);
        for (int i = 0; i < ranges.Length; i++)
        {
            bool inRange = i / positions >= 32 && i / positions < 96;
            Assert.True(inRange ? Bits(whole[i]) == Bits(ranges[i]) : ranges[i] == -7f, $"value {i} (filter {i / positions}) is {ranges[i]:R}");
        }
        DirectFilterLanes.Forward(panels, padded, bias, ranges, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 0, 32, FusedActivation.Relu);
        DirectFilterLanes.Forward(panels, padded, bias, ranges, channels, size, size, filters, kernel, stride, padding, outSize, outSize, 96, 128, FusedActivation.Relu);
        Assert.Equal(whole.Select(Bits), ranges.Select(Bits));
    }

    [Fact]
    public void PadLaysOutEachChannelInsideABorderOfZeros()
    {
        const int channels = 3, height = 4, width = 5, padding = 2, paddedHeight = height + 2 * padding, paddedWidth = width + 2 * padding;
        var input = Enumerable.Range(1, channels * height * width).Select(v => (float)v).ToArray();
        var padded = Enumerable.Repeat(float.NaN, (int)DirectFilterLanes.PaddedLength(channels, height, width, padding) + 3).ToArray();
        Assert.Equal(channels * paddedHeight * paddedWidth, DirectFilterLanes.PaddedLength(channels, height, width, padding));
        DirectFilterLanes.Pad(input, padded, channels, height, width, padding, 0, channels);
        for (int c = 0; c < channels; c++)
        for (int y = 0; y < paddedHeight; y++)
        for (int x = 0; x < paddedWidth; x++)
        {
            int iy = y - padding, ix = x - padding;
            float expected = iy < 0 || iy >= height || ix < 0 || ix >= width ? 0f : input[(c * height + iy) * width + ix];
            Assert.Equal(expected, padded[(c * paddedHeight + y) * paddedWidth + x]);
        }
        Assert.All(padded[^3..], v => Assert.True(float.IsNaN(v))); // nothing written past the padded input

        var some = Enumerable.Repeat(-1f, padded.Length).ToArray();
        DirectFilterLanes.Pad(input, some, channels, height, width, padding, 1, 2); // channel 1 only
        Assert.All(some[..(paddedHeight * paddedWidth)], v => Assert.Equal(-1f, v));
        Assert.Equal(padded[(paddedHeight * paddedWidth)..(2 * paddedHeight * paddedWidth)], some[(paddedHeight * paddedWidth)..(2 * paddedHeight * paddedWidth)]);
        Assert.All(some[(2 * paddedHeight * paddedWidth)..], v => Assert.Equal(-1f, v));
    }

    [Fact]
    public void ShapesAndSpansItCannotTakeAreRefusedWithTheirNames()
    {
        const int channels = 64, size = 56, filters = 128, k = channels * 9;
        float[] panels = new float[filters * k], padded = new float[DirectFilterLanes.PaddedLength(channels, size, size, 1)], bias = new float[filters], output = new float[filters * 28 * 28];

        var filtersNotPanels = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded, bias, output, channels, size, size, 120, 3, 2, 1, 28, 28, 0, 96));
        Assert.Contains("120 filters, a 3x3 kernel with stride 2 onto rows of 28 are not supported", filtersNotPanels.Message);

        var rows = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, new float[channels * 54 * 54], bias, output, channels, 52, 52, filters, 3, 2, 1, 26, 26, 0, filters));
        Assert.Contains("rows of whole runs of 7", rows.Message);

        var stride = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded, bias, output, channels, size, size, filters, 3, 3, 1, 19, 21, 0, filters));
        Assert.Contains("stride 3", stride.Message);

        var wrongSize = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded, bias, output, channels, size, size, filters, 3, 2, 1, 27, 28, 0, filters));
        Assert.Contains("64x56x56 through a 3x3 kernel, stride 2, padding 1, is not 128x27x28", wrongSize.Message);

        var range = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded, bias, output, channels, size, size, filters, 3, 2, 1, 28, 28, 16, 64));
        Assert.Contains("filters [16, 64) are not whole panels of 32 within 128", range.Message);

        var shortPadded = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded.AsSpan(1), bias, output, channels, size, size, filters, 3, 2, 1, 28, 28, 0, filters));
        Assert.Contains("spans too short", shortPadded.Message);

        var shortOutput = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Forward(panels, padded, bias, output.AsSpan(1), channels, size, size, filters, 3, 2, 1, 28, 28, 0, filters));
        Assert.Contains("spans too short", shortOutput.Message);

        var padRange = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Pad(new float[channels * size * size], padded, channels, size, size, 1, 60, 65));
        Assert.Contains("channels [60, 65) of 64x56x56 with padding 1", padRange.Message);

        var padShort = Assert.Throws<ArgumentException>(() =>
            DirectFilterLanes.Pad(new float[channels * size * size], padded.AsSpan(1), channels, size, size, 1, 0, channels));
        Assert.Contains("spans too short for 64x56x56 padded by 1", padShort.Message);

        Assert.False(DirectFilterLanes.Supports(64, 3, 2, 7 * 37)); // rows past a chunk of positions
        Assert.True(DirectFilterLanes.Supports(64, 11, 1, 252));
        Assert.False(DirectFilterLanes.Supports(64, 12, 1, 252));
    }

    private static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    private static float[] Values(Random random, int n)
    {
        var values = new float[n];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
