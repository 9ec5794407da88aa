using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// Winograd F(4x4, 3x3) with a 2x2 stride-2 max pool computed as each tile is stored (<c>pool2x2</c>): bit for bit the
/// layer's own output (with or without ReLU) pooled by <see cref="Pooling.MaxPoolValues"/>, through the whole call, ranges
/// of tiles and ranges of filters, including tiles cut by the edge, filters past the last whole vector of 16, and NaN (a
/// window's last NaN wins) beside zeros.
/// </summary>
public class WinogradPoolTests
{
    public static TheoryData<int, int, int, int, int, bool> Shapes => new()
    {
        // images, channels, filters, height, width, relu
        { 1, 32, 32, 32, 32, true },     // the CIFAR VGG's first pooled layer: whole tiles
        { 2, 16, 19, 14, 10, true },     // 14 x 10: the last row and column of tiles are 2 wide; 3 filters past 16
        { 1, 8, 5, 6, 6, false },        // no ReLU; fewer filters than a vector
        { 3, 24, 48, 8, 8, true },       // several images, three vectors of filters
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PooledStoresAreTheLayerPooledByMaxPoolValues(int images, int channels, int filters, int height, int width, bool relu)
    {
        var layer = Winograd(new Random(channels * 31 + filters), images, channels, filters, height, width);
        var expected = Pooled(layer.Whole(relu, pool: false), images * filters, height, width);

        var pooled = new float[expected.Length];
        pooled.AsSpan().Fill(12345f);
        layer.Run(pooled, relu, pool: true);

        AssertSameBits(expected, pooled);
        if (relu) Assert.Contains(0f, pooled);
    }

    [Fact]
    public void RangesOfTilesAndOfFiltersGiveTheWholeCallsPooledBits()
    {
        const int images = 2, channels = 32, filters = 64, height = 12, width = 12;
        var layer = Winograd(new Random(9), images, channels, filters, height, width);
        var whole = new float[images * filters * (height / 2) * (width / 2)];
        layer.Run(whole, relu: true, pool: true);

        var byTiles = new float[whole.Length];
        byTiles.AsSpan().Fill(float.NaN);
        int tiles = images * Winograd3x3.TilesPerImage(height, width), start = 0;
        foreach (int end in new[] { 4, 5, tiles })
        {
            WinogradRanges.ForwardTiles(layer.Input, images, layer.Transformed, layer.Bias, byTiles, channels, height, width, filters, 1, height, width,
                start, end, relu: true, pool2x2: true);
            start = end;
        }
        AssertSameBits(whole, byTiles);

        var byFilters = new float[whole.Length];
        byFilters.AsSpan().Fill(float.NaN);
        WinogradRanges.ForwardFilters(layer.Input, images, layer.Transformed, layer.Bias, byFilters, channels, height, width, filters, 1, height, width, 0, 32,
            relu: true, pool2x2: true);
        WinogradRanges.ForwardFilters(layer.Input, images, layer.Transformed, layer.Bias, byFilters, channels, height, width, filters, 1, height, width, 32, 64,
            relu: true, pool2x2: true);
        AssertSameBits(whole, byFilters);
    }

    [Fact]
    public void NanFollowsTheMaxPoolsRule()
    {
        // Zero weights and biases make every output of a filter zero, but NaN where it reads a NaN input (0 x NaN).
        const int images = 1, channels = 4, filters = 20, height = 8, width = 8;
        var layer = Winograd(new Random(4), images, channels, filters, height, width);
        for (int f = 0; f < filters; f += 2)
        {
            layer.Weight.AsSpan(f * channels * 9, channels * 9).Clear();
            layer.Bias[f] = f % 4 == 0 ? -0f : 0f;
        }
        layer.Input[3 * width + 5] = float.NaN;              // channel 0: reaches the 3x3 neighbourhood around row 3, column 5
        layer.Input[height * width + 6 * width] = float.NaN; // channel 1: a window at the left edge
        layer.Prepare();
        var expected = Pooled(layer.Whole(relu: false, pool: false), images * filters, height, width);
        var pooled = new float[expected.Length];
        layer.Run(pooled, relu: false, pool: true);

        AssertSameBits(expected, pooled);
        Assert.Contains(pooled, float.IsNaN);
        Assert.Contains(pooled, v => v == 0);
    }

    [Fact]
    public void AnOddOutputSideIsRefusedByName()
    {
        var layer = Winograd(new Random(2), 1, 4, 4, 7, 8);
        var error = Assert.Throws<ArgumentException>(() => layer.Run(new float[4 * 4 * 4], relu: false, pool: true));
        Assert.Contains("7x8", error.Message);
        Assert.Contains("even", error.Message);
    }

    private static float[] Pooled(float[] layerOutput, int planes, int height, int width)
    {
        var pooled = new float[planes * (height / 2) * (width / 2)];
        Pooling.MaxPoolValues(layerOutput, pooled, planes, height, width, size: 2, stride: 2, padding: 0, outHeight: height / 2, outWidth: width / 2);
        return pooled;
    }

    private static void AssertSameBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: {actual[i]:R} where the pooled layer has {expected[i]:R}");
    }

    private static WinogradLayer Winograd(Random random, int images, int channels, int filters, int height, int width)
    {
        var layer = new WinogradLayer(images, channels, filters, height, width,
            Values(random, images * channels * height * width), Values(random, filters * channels * 9), Values(random, filters));
        layer.Prepare();
        return layer;
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = random.NextSingle() * 2 - 1;
        return values;
    }

    /// <summary>A 3x3 padding-1 layer: its input, weights (transformed by <see cref="Prepare"/>) and biases.</summary>
    private sealed record WinogradLayer(int Images, int Channels, int Filters, int Height, int Width, float[] Input, float[] Weight, float[] Bias)
    {
        public float[] Transformed { get; private set; } = [];

        public void Prepare()
        {
            Transformed = new float[Winograd3x3.TransformedWeightLength(Filters, Channels)];
            Winograd3x3.TransformWeights(Weight, Transformed, Filters, Channels, 0, Filters);
        }

        public float[] Whole(bool relu, bool pool)
        {
            var output = new float[Images * Filters * Height * Width / (pool ? 4 : 1)];
            Run(output, relu, pool);
            return output;
        }

        public void Run(float[] output, bool relu, bool pool) =>
            Winograd3x3.Forward(Input, Images, Transformed, Bias, output,
                new float[Winograd3x3.PaddedLength(Images, Channels, Height, Width)], new float[Winograd3x3.ScratchLength(Images, Channels, Filters, Height, Width)],
                Channels, Height, Width, Filters, padding: 1, outHeight: Height, outWidth: Width, relu: relu, pool2x2: pool);
    }
}
