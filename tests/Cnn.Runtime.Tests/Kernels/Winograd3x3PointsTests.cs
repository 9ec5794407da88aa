using CnnGen.Kernels;
using Xunit;
using Layer = CnnGen.Tests.Kernels.WinogradRangesTests.Layer;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Winograd3x3.ForwardPoints"/> and <see cref="Winograd3x3.FinishTiles"/>: ranges of the 36 points' products
/// into one shared buffer, then ranges of tiles turned back into outputs, must together give
/// <see cref="Winograd3x3.Forward"/>'s bits, whatever the cuts, the order of the ranges and the threads they run on.
/// </summary>
public class Winograd3x3PointsTests
{
    public static TheoryData<int, int, int, int, int, bool, int[], int[]> Cuts => new()
    {
        // images, channels, filters, side, padding, relu, cuts of the points, cuts of the tiles (ends of the ranges)
        { 1, 128, 32, 14, 1, true, new[] { 18, 36 }, new[] { 8, 16 } },          // DenseNet-121's 3x3 layers at 14x14 on two threads
        { 1, 128, 32, 7, 1, true, new[] { 18, 36 }, new[] { 2, 4 } },            // and at 7x7: 4 tiles, the last row and column cut by the edge
        { 1, 64, 48, 10, 1, false, new[] { 1, 20, 35, 36 }, new[] { 1, 5, 9 } }, // 48 filters: rows of all filters, not panels
        { 2, 32, 32, 8, 1, true, new[] { 5, 36 }, new[] { 3, 8 } },              // two images, a range of tiles over both
        { 1, 16, 64, 9, 0, false, new[] { 36 }, new[] { 4 } },                   // no padding: 7 x 7 outputs, 2 x 2 tiles
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void RangesOfPointsThenOfTilesGiveTheWholeLayersBits(int images, int channels, int filters, int side, int padding, bool relu,
        int[] pointCuts, int[] tileCuts)
    {
        var layer = Layer.Make(new Random(channels + filters), images, channels, filters, side, side, padding);
        Assert.True(Winograd3x3.FitsOneBlock(images, channels, filters, layer.OutHeight, layer.OutWidth));
        var whole = layer.Whole(relu);
        var padded = Padded(layer);
        var products = new float[Winograd3x3.ProductsLength(images, filters, layer.OutHeight, layer.OutWidth)];
        products.AsSpan().Fill(float.NaN);
        var scratch = new float[Winograd3x3.PointScratchLength(images, channels, layer.OutHeight, layer.OutWidth)];
        // The last range first: no range depends on another's transformed input.
        for (int i = pointCuts.Length - 1; i >= 0; i--)
            Winograd3x3.ForwardPoints(padded, images, layer.Transformed, products, scratch, channels, filters, layer.OutHeight, layer.OutWidth,
                i == 0 ? 0 : pointCuts[i - 1], pointCuts[i]);
        var output = new float[layer.OutputLength];
        output.AsSpan().Fill(float.NaN);
        int start = 0;
        foreach (int end in tileCuts)
        {
            Winograd3x3.FinishTiles(products, images, layer.Bias, output, filters, layer.OutHeight, layer.OutWidth, start, end, relu);
            start = end;
        }
        WinogradRangesTests.AssertSameBits(whole, output);
    }

    [Fact]
    public void RangesOnTwoThreadsAtOnceGiveTheWholeLayersBits()
    {
        const int images = 1, channels = 128, filters = 32, side = 14;
        var layer = Layer.Make(new Random(5), images, channels, filters, side, side, 1);
        var whole = layer.Whole(relu: true);
        var padded = Padded(layer);
        for (int round = 0; round < 10; round++)
        {
            var products = new float[Winograd3x3.ProductsLength(images, filters, side, side)];
            var output = new float[layer.OutputLength];
            Parallel.For(0, 2, part => Winograd3x3.ForwardPoints(padded, images, layer.Transformed, products,
                new float[Winograd3x3.PointScratchLength(images, channels, side, side)], channels, filters, side, side, part * 18, part * 18 + 18));
            Parallel.For(0, 2, part => Winograd3x3.FinishTiles(products, images, layer.Bias, output, filters, side, side, part * 8, part * 8 + 8, relu: true));
            WinogradRangesTests.AssertSameBits(whole, output);
        }
    }

    [Fact]
    public void RangesThatDoNotFitAreRefusedByName()
    {
        var layer = Layer.Make(new Random(1), 1, 16, 32, 8, 8, 1);
        var padded = Padded(layer);
        var products = new float[Winograd3x3.ProductsLength(1, 32, 8, 8)];
        var scratch = new float[Winograd3x3.PointScratchLength(1, 16, 8, 8)];
        var points = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Winograd3x3.ForwardPoints(padded, 1, layer.Transformed, products, scratch, 16, 32, 8, 8, 30, 37));
        Assert.Contains("points [30, 37) are not within the 36 points", points.Message);
        var tiles = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Winograd3x3.FinishTiles(products, 1, layer.Bias, new float[layer.OutputLength], 32, 8, 8, 2, 5));
        Assert.Contains("tiles [2, 5) are not within the 4 tiles of 1 image(s)", tiles.Message);
        // 56 x 56 outputs of 64 channels are 196 tiles, more than one block of the whole layer's: not its bits.
        Assert.False(Winograd3x3.FitsOneBlock(1, 64, 64, 56, 56));
        var large = Layer.Make(new Random(2), 1, 64, 64, 56, 56, 1);
        var blocks = Assert.Throws<ArgumentException>(() => Winograd3x3.ForwardPoints(Padded(large), 1, large.Transformed,
            new float[Winograd3x3.ProductsLength(1, 64, 56, 56)], new float[Winograd3x3.PointScratchLength(1, 64, 56, 56)], 64, 64, 56, 56, 0, 36));
        Assert.Contains("make more than one block", blocks.Message);
    }

    private static float[] Padded(Layer layer)
    {
        var padded = new float[Winograd3x3.PaddedLength(layer.Images, layer.Channels, layer.OutHeight, layer.OutWidth)];
        Winograd3x3.PadChannelLast(layer.Input, layer.Images, padded, layer.Channels, layer.Height, layer.Width, layer.Padding, layer.OutHeight, layer.OutWidth);
        return padded;
    }
}
