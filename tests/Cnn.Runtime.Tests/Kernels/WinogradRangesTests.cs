using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="WinogradRanges"/>: ranges of tiles or filters computed from the NCHW input, each laying out the rows it reads
/// in its thread's own copy, must together give <see cref="Winograd3x3.Forward"/>'s bits, also when that copy still holds
/// another layer's rows, when a range starts or ends inside a row of tiles, and when it runs over two images.
/// </summary>
public class WinogradRangesTests
{
    public static TheoryData<int, int, int, int, int, int, bool, int[]> TileCuts => new()
    {
        // images, channels, filters, height, width, padding, relu, cuts of the tiles (ends of the ranges, the last one all)
        { 1, 32, 32, 16, 16, 1, true, new[] { 8, 16 } },            // a CIFAR 16x16 layer on two threads
        { 1, 32, 32, 16, 16, 1, false, new[] { 5, 10, 16 } },       // three ranges, each starting or ending inside a row of 4 tiles
        { 2, 16, 40, 10, 10, 1, true, new[] { 1, 7, 10, 18 } },     // 9 tiles an image, the last row and column cut by the edge; ranges over both images
        { 2, 24, 8, 9, 13, 0, false, new[] { 3, 4, 12 } },          // no padding: 7 x 11 outputs, 2 x 3 tiles an image
        { 1, 64, 64, 8, 8, 1, true, new[] { 1, 2, 3, 4 } },         // one tile a range
    };

    [Theory]
    [MemberData(nameof(TileCuts))]
    public void RangesOfTilesGiveTheWholeLayersBits(int images, int channels, int filters, int height, int width, int padding, bool relu, int[] cuts)
    {
        var layer = Layer.Make(new Random(channels * 100 + filters), images, channels, filters, height, width, padding);
        var whole = layer.Whole(relu);
        // Another layer's ranges first, on this thread: its rows are in the thread's copy when this layer's ranges run.
        var other = Layer.Make(new Random(3), images, channels, filters, height, width, padding);
        other.Input.AsSpan().Fill(1e6f);
        var ignored = new float[other.OutputLength];
        WinogradRanges.ForwardTiles(other.Input, images, other.Transformed, other.Bias, ignored, channels, height, width, filters, padding,
            layer.OutHeight, layer.OutWidth, 0, cuts[^1], relu);

        var output = new float[layer.OutputLength];
        output.AsSpan().Fill(float.NaN);
        int start = 0;
        foreach (int end in cuts)
        {
            WinogradRanges.ForwardTiles(layer.Input, images, layer.Transformed, layer.Bias, output, channels, height, width, filters, padding,
                layer.OutHeight, layer.OutWidth, start, end, relu);
            start = end;
        }
        AssertSameBits(whole, output);
    }

    public static TheoryData<int, int, int, int, int[]> FilterCuts => new()
    {
        // images, channels, filters, side, cuts of the filters (ends of the ranges, the last one all), run last to first
        { 1, 64, 96, 8, new[] { 32, 64, 96 } },         // whole panels of 32, read in the panel layout
        { 1, 96, 208, 14, new[] { 96, 208 } },          // GoogLeNet's inception 4a 3x3 on two threads: 6 panels of 32 and one of 16
        { 1, 96, 208, 14, new[] { 160, 192, 208 } },    // a range of the last whole panel, then the narrow one alone
        { 1, 64, 48, 8, new[] { 16, 32, 48 } },         // 48 filters keep their rows: ranges of one vector of 16, read in place
        { 2, 32, 40, 10, new[] { 8, 24, 40 } },         // rows too: ranges that end inside a vector of 16
        { 2, 32, 80, 10, new[] { 32, 64, 80 } },        // ranges of one panel, the last of 16 filters
    };

    [Fact]
    public void ARangeOfFiltersThatDoesNotStartOnAPanelIsRefused()
    {
        var layer = Layer.Make(new Random(3), 1, 32, 80, 10, 10, 1);
        var output = new float[layer.OutputLength];
        var e = Assert.Throws<ArgumentException>(() => WinogradRanges.ForwardFilters(layer.Input, 1, layer.Transformed, layer.Bias, output, 32, 10, 10, 80, 1,
            layer.OutHeight, layer.OutWidth, 40, 56, relu: true));
        Assert.Contains("filters [40, 56) of 80 are not whole panels of 32", e.Message);
    }

    [Theory]
    [MemberData(nameof(FilterCuts))]
    public void RangesOfFiltersGiveTheWholeLayersBits(int images, int channels, int filters, int side, int[] cuts)
    {
        const int padding = 1;
        var layer = Layer.Make(new Random(filters), images, channels, filters, side, side, padding);
        var whole = layer.Whole(relu: true);
        var output = new float[layer.OutputLength];
        output.AsSpan().Fill(float.NaN);
        for (int i = cuts.Length - 1; i >= 0; i--)
            WinogradRanges.ForwardFilters(layer.Input, images, layer.Transformed, layer.Bias, output, channels, side, side, filters, padding,
                layer.OutHeight, layer.OutWidth, i == 0 ? 0 : cuts[i - 1], cuts[i], relu: true);
        AssertSameBits(whole, output);
    }

    [Fact]
    public void RangesOnSeveralThreadsAtOnceGiveTheWholeLayersBits()
    {
        const int images = 1, channels = 32, filters = 32, height = 16, width = 16, padding = 1;
        var layer = Layer.Make(new Random(4), images, channels, filters, height, width, padding);
        var whole = layer.Whole(relu: true);
        for (int round = 0; round < 20; round++)
        {
            var output = new float[layer.OutputLength];
            Parallel.For(0, 4, part => WinogradRanges.ForwardTiles(layer.Input, images, layer.Transformed, layer.Bias, output, channels, height, width,
                filters, padding, layer.OutHeight, layer.OutWidth, part * 4, part * 4 + 4, relu: true));
            AssertSameBits(whole, output);
        }
    }

    [Fact]
    public void RangesThatDoNotFitTheLayerAreRefusedByName()
    {
        var layer = Layer.Make(new Random(1), 1, 16, 16, 8, 8, 1);
        var output = new float[layer.OutputLength];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WinogradRanges.ForwardTiles(layer.Input, 1, layer.Transformed, layer.Bias, output,
            16, 8, 8, 16, 1, 8, 8, 2, 5));
        Assert.Contains("tiles [2, 5) are not within the 4 tiles of 1 image(s)", e.Message);

        // Filters in whole panels of 32 are read in the panel layout, so a range of them must be whole panels too.
        var panels = Layer.Make(new Random(2), 1, 32, 64, 8, 8, 1);
        var filtersOutput = new float[panels.OutputLength];
        var f = Assert.Throws<ArgumentException>(() => WinogradRanges.ForwardFilters(panels.Input, 1, panels.Transformed, panels.Bias, filtersOutput,
            32, 8, 8, 64, 1, 8, 8, 16, 64));
        Assert.Contains("filters [16, 64) of 64 are not whole panels of 32", f.Message);
    }

    internal static void AssertSameBits(float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"output {i}: {actual[i]:R} where the whole layer gives {expected[i]:R}");
    }

    internal sealed record Layer(float[] Input, float[] Transformed, float[] Bias, int Images, int Channels, int Filters, int Height, int Width,
        int Padding, int OutHeight, int OutWidth)
    {
        public int OutputLength => Images * Filters * OutHeight * OutWidth;

        public static Layer Make(Random random, int images, int channels, int filters, int height, int width, int padding)
        {
            float[] input = Values(random, images * channels * height * width), weight = Values(random, filters * channels * 9), bias = Values(random, filters);
            var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
            Winograd3x3.TransformWeights(weight, transformed, filters, channels, 0, filters);
            return new Layer(input, transformed, bias, images, channels, filters, height, width, padding, height + 2 * padding - 2, width + 2 * padding - 2);
        }

        /// <summary>The whole layer on one thread, through <see cref="Winograd3x3.Forward"/>.</summary>
        public float[] Whole(bool relu)
        {
            var output = new float[OutputLength];
            var padded = new float[Winograd3x3.PaddedLength(Images, Channels, OutHeight, OutWidth)];
            var scratch = new float[Winograd3x3.ScratchLength(Images, Channels, Filters, OutHeight, OutWidth)];
            Winograd3x3.Forward(Input, Images, Transformed, Bias, output, padded, scratch, Channels, Height, Width, Filters, Padding, OutHeight, OutWidth, relu);
            Assert.Contains(output, v => v != 0f);
            return output;
        }

        private static float[] Values(Random random, int count)
        {
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }
    }
}
