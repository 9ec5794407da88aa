using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which layers the generator splits over the threads when a forward pass has fewer images than threads: those with
/// at least 250,000 multiply-adds per image (convolutions of every path, dense layers), and layers without weights
/// (activations, shortcut sums, pools, joins) of at least 32,768 values per image; smaller ones run on the calling
/// thread. The generated code compiles either way.
/// </summary>
public class ImageSplitTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Split;\n" + attributes + "\npublic partial class Net { }";

    private static string Generate(string attributes) => AssertCompilesCleanly(Source(attributes)).Sources.Single().SourceText.ToString();

    /// <summary>The range methods' delegate fields each <c>RunSplit</c> hands out, in order (both of a choice between two).</summary>
    private static string[] SplitMethods(string code) =>
        code.Split('\n').Where(line => line.Contains("GeneratedPasses.RunSplit("))
            .SelectMany(line => System.Text.RegularExpressions.Regex.Matches(line, @"(_\w+) \?\?= \w+").Select(m => m.Groups[1].Value)).ToArray();

    [Fact]
    public void LayersOfAtLeast250000MultiplyAddsAreSplitAndSmallerOnesAreNot()
    {
        // conv1: 8 x 16 x 16 x 3*9 = 55,296 MACs (not split); conv2: 32 x 256 x 72 = 589,824 (direct, split);
        // conv3 (4x4, stride 2): 16 x 64 x 512 = 524,288 (im2col: columns and filters split); dense1: 1,024 x 250 = 256,000
        // (split); dense2: 2,500 (not split).
        string code = Generate("[Input(3, 16, 16)] [Conv(3, 8, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] " +
                               "[Conv(4, 16, Stride = 2, Padding = 1)] [ReLU] [Dense(250)] [ReLU] [Dense(10)]");
        Assert.Equal(new[] { "_ForwardRows_conv2", "_PackChannels_conv3", "_ForwardFilters_conv3", "_ForwardUnits_dense1" }, SplitMethods(code));
        Assert.Contains("units: 16, block: global::CnnGen.Kernels.DirectConv.RowBlock(16)", code); // conv2's 8 pairs of rows, more than its 4 blocks of 8 filters
        Assert.Contains("ws, x, col, default, default, 1, units: 32, block: 1", code); // conv3's columns by its 32 input channels
        Assert.Contains("units: 16, block: 32", code); // a product's filters in ranges of 32
        Assert.Contains("units: 250, block: 8", code); // a dense layer's units in blocks of the kernel's eight rows of weights
    }

    [Fact]
    public void NetworksOf20MillionMultiplyAddsSplitImagesByDefaultAndSmallerOnesDoNot()
    {
        // 3x3, 32 -> 32 channels on 32 x 32 twice: 2 x 32 x 1,024 x 288 = 18,874,368 multiply-adds per image, then a
        // third: 28,311,552.
        const string layer = "[Conv(3, 32, Padding = 1)] [ReLU] ";
        string large = Generate("[Input(32, 32, 32)] " + layer + layer + layer + "[GlobalAvgPool] [Dense(10)]");
        Assert.Contains("batchNorm: false, splitImages: true", large); // (a gradient pass's micro-batch may follow)
        Assert.Contains("(true by default: 28,311,872 multiply-adds per image)", large);
        // Two of them: under the line.
        string small = Generate("[Input(32, 32, 32)] " + layer + layer + "[GlobalAvgPool] [Dense(10)]");
        Assert.Contains("batchNorm: false", small);
        Assert.DoesNotContain("splitImages: true", small);
        Assert.Contains("fewer images than threads (false by default).", small);
    }

    [Fact]
    public void GroupedPointwiseAndInPlaceDepthwiseConvolutionsSplitByGroupsFiltersAndChannels()
    {
        // Grouped 3x3 (4 groups) on 32 x 32 x 32: 32 x 1,024 x 8 x 9 = 2,359,296 MACs; depthwise 3x3: 32 x 1,024 x 9 =
        // 294,912 (this 3x3 one of stride 1 and padding 1 reads its input in place, Depthwise3x3, so its channels are
        // shared out, the ReLU6 applied by its kernel); pointwise to 16: 16 x 1,024 x 32 = 524,288.
        // The grouped layer's ReLU (32,768 values, not fused into im2col) is split by ranges of values.
        string code = Generate("[Input(32, 32, 32)] [Conv(3, 32, Padding = 1, Groups = 4)] [ReLU] [Conv(3, 32, Padding = 1, Groups = 32)] [ReLU6] [Conv(1, 16)]");
        Assert.Equal(new[] { "_ForwardGroups_conv1", "_ForwardValues_relu1", "_ForwardRows_conv2", "_ForwardChannels_conv2", "_ForwardColumns_conv3" }, SplitMethods(code));
        Assert.Contains("units: 4, block: 1", code);
        // Rows of 32 (wider than 16): on AVX-512 (asked at run time) ranges of output rows in blocks of the kernel's four,
        // elsewhere ranges of channels.
        Assert.Contains("if (global::CnnGen.Kernels.Depthwise3x3.SplitsRows(height: 32, width: 32))", code);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardRows_conv2 ??= ForwardRows_conv2, ws, inp.Slice(b * 32768, 32768), target.Slice(b * 32768, 32768), weight, bias, 1, units: 32, block: 4);", code);
        Assert.Contains("Depthwise3x3.ForwardRows(inp, weight, bias, outp, channels: 32, height: 32, width: 32, " +
                        "firstRow: start, endRow: end, activation: global::CnnGen.Kernels.FusedActivation.Relu6);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardChannels_conv2 ??= ForwardChannels_conv2, ws, inp, target, weight, bias, batch, units: 32, block: 1);", code);
        Assert.Contains("Depthwise3x3.Forward(inp.Slice(b * 32768, 32768), weight, bias, outp.Slice(b * 32768, 32768), channels: 32, height: 32, width: 32, " +
                        "firstChannel: start, endChannel: end, activation: global::CnnGen.Kernels.FusedActivation.Relu6);", code);
        // Rows of at most 16 keep ranges of channels alone.
        string narrow = Generate("[Input(128, 16, 16)] [Conv(3, 128, Padding = 1, Groups = 128)] [ReLU6] [Conv(1, 64)] [GlobalAvgPool] [Dense(10)]"); // 128 x 256 x 9 = 294,912 MACs
        Assert.Contains("_ForwardChannels_conv1", SplitMethods(narrow));
        Assert.DoesNotContain("Depthwise3x3.SplitsRows", narrow);
        Assert.DoesNotContain("ForwardRows_conv1", narrow);
        Assert.DoesNotContain("_ForwardGroups_conv2", code);
        // The pointwise product's 1,024 positions in ranges of whole rows, one 32-column panel a row (its 16 filters are
        // less than one range).
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardColumns_conv3 ??= ForwardColumns_conv3, ws, x, outp.Slice(b * 16384, 16384), weight, bias, 1, units: 32, block: 1);", code);
        Assert.Contains("Gemm.MultiplyBiasActivationColumns(weight, inp, outp, bias, m: 16, n: 1024, k: 32, firstColumn: start * 32, endColumn: end * 32);", code);
    }

    [Fact]
    public void ProductsOfFewerThan256PositionsSplitByFiltersAndLargerOnesByColumns()
    {
        // 4x4 stride 2 onto 8 x 8 (64 positions, under 8 panels of 32): ranges of 32 filters; onto 16 x 16 (256): ranges
        // of columns in whole rows, two rows (32 columns, one panel) a block.
        string small = Generate("[Input(32, 16, 16)] [Conv(4, 64, Stride = 2, Padding = 1)] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("_ForwardFilters_conv1", string.Join(" ", SplitMethods(small)));
        Assert.DoesNotContain("ForwardColumns_conv1", small);
        string large = Generate("[Input(32, 32, 32)] [Conv(4, 64, Stride = 2, Padding = 1)] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("_ForwardColumns_conv1", string.Join(" ", SplitMethods(large)));
        Assert.Contains("units: 16, block: 2", large);
        Assert.Contains("firstColumn: start * 16, endColumn: end * 16", large);
        Assert.DoesNotContain("ForwardFilters_conv1", large);
    }

    [Fact]
    public void ProductsSplitByFiltersTakeBlocksOf8FiltersAbove64PositionsAnd32UpTo64()
    {
        // GoogLeNet's 1x1 reductions: 528 -> 32 on 14 x 14 (196 positions, B read in place): four blocks of the kernel's 8
        // rows, so both threads get some; 832 -> 48 on 7 x 7 (49 positions, B copied per call): blocks of 32, as before.
        string wide = Generate("[Input(528, 14, 14)] [Conv(1, 32, Bias = false)] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardFilters_conv1 ??= ForwardFilters_conv1, ws, x, outp.Slice(b * 6272, 6272), weight, bias, 1, units: 32, block: 8);", wide);
        Assert.Contains("m: end - start, n: 196, k: 528", wide);
        string narrow = Generate("[Input(832, 7, 7)] [Conv(1, 48, Bias = false)] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardFilters_conv1 ??= ForwardFilters_conv1, ws, x, outp.Slice(b * 2352, 2352), weight, bias, 1, units: 48, block: 32);", narrow);
        Assert.Contains("m: end - start, n: 49, k: 832", narrow);
        // A product after its 2x2 average (DenseNet's transitions) on the 14 x 14 averaged map: blocks of 8 too.
        string averaged = Generate("[Input(64, 28, 28)] [Conv(1, 64, Bias = false)] [AvgPool(2)] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("GeneratedPasses.RunSplit(_AverageFirstFilters_conv1 ??= AverageFirstFilters_conv1, ws, image, pooled.Slice(b * 12544, 12544), weight, bias, 1, " +
                        "units: 64, block: 8);", averaged);
    }

    [Fact]
    public void ADepthwiseConvolutionWithAPaddedPlaneRunsWhole()
    {
        // 5x5 depthwise (not the in-place 3x3 kernel): 32 x 1,024 x 25 = 819,200 MACs, but its kernel pads each channel
        // into the workspace's one plane, so it runs on the calling thread.
        string code = Generate("[Input(32, 32, 32)] [Conv(5, 32, Padding = 2, Groups = 32)] [ReLU6] [Conv(1, 16)]");
        Assert.Contains("DepthwiseConv.Forward(", code);
        Assert.DoesNotContain("_ForwardChannels_conv1", code);
        Assert.DoesNotContain("_ForwardGroups_conv1", code);
        Assert.DoesNotContain("PackChannels", code); // a pointwise convolution needs no columns
    }

    [Fact]
    public void WinogradConvolutionsSplitByTilesAfterTheirChannelLastCopySplitByRows()
    {
        // 3x3 on 64 x 36 x 36 to 64 filters runs as Winograd (wider than 32, 64 channels and filters): 81 tiles per image.
        // Its input (82,944 values an image) is large enough for the channel-last copy to be shared out too: 38 padded rows.
        string code = Generate("[Input(64, 36, 36)] [Conv(3, 64, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_PadRows_conv1", "_ForwardTiles_conv1" }, SplitMethods(code));
        Assert.Contains("GeneratedPasses.RunSplit(_PadRows_conv1 ??= PadRows_conv1, ws, inp.Slice(0, batch * 82944), ws._winogradPadded_conv1, default, default, batch, units: batch * 38, block: 1);", code);
        Assert.Contains("Winograd3x3.PadChannelLastRows(inp, batch, outp, channels: 64, height: 36, width: 36, padding: 1, outHeight: 36, outWidth: 36, firstRow: start, endRow: end);", code);
        Assert.Contains("units: batch * 81, block: 1", code);
        Assert.Contains("Winograd3x3.ForwardTiles(", code);
        Assert.DoesNotContain("DirectConv.ForwardFilters(", code);
        // The copy runs before the tiles that read it.
        Assert.True(code.IndexOf("RunSplit(_PadRows_conv1", StringComparison.Ordinal) < code.IndexOf("RunSplit(_ForwardTiles_conv1", StringComparison.Ordinal));
    }

    [Fact]
    public void ASmallWinogradInputSplitByTilesIsCopiedChannelLastByRowsToo()
    {
        // 32 x 24 x 24 to 32 filters runs as Winograd split by tiles (36 an image). Its input (18,432 values) is below the
        // 32,768 from which any copy is shared out, but each thread's tiles read mostly the rows that thread copies, so the
        // copy is split by rows (26 padded rows) instead of made on the calling thread for the other to read.
        string code = Generate("[Input(32, 24, 24)] [Conv(3, 32, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_PadRows_conv1", "_ForwardTiles_conv1" }, SplitMethods(code));
        Assert.Contains("GeneratedPasses.RunSplit(_PadRows_conv1 ??= PadRows_conv1, ws, inp.Slice(0, batch * 18432), ws._winogradPadded_conv1, default, default, batch, units: batch * 26, block: 1);", code);
        Assert.DoesNotContain("Winograd3x3.PadChannelLast(inp.Slice(0, batch * 18432)", code);
    }

    [Fact]
    public void ASmallWinogradInputSplitByFiltersIsLaidOutByEachRange()
    {
        // 128 x 8 x 8 to 128 filters: 4 tiles, split by ranges of 32 filters, one per thread. Its channel-last copy (10 x 10
        // x 128 values, 50 KiB) is made by each range in its thread's own buffer: one hand-over, no copy on the calling
        // thread while the others wait, no shared copy.
        string code = Generate("[Input(128, 8, 8)] [Conv(3, 128, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(code));
        Assert.Contains("GeneratedPasses.RunSplit(_WinogradFilters_conv1 ??= WinogradFilters_conv1, ws, inp.Slice(0, batch * 8192), fused.Slice(0, batch * 8192), " +
                        "_winogradWeight_conv1, bias, batch, units: 128, block: 32, piecesPerThread: 1);", code);
        Assert.Contains("WinogradRanges.ForwardFilters(inp, batch, weight, bias, outp, channels: 128, height: 8, width: 8, filters: 128, padding: 1, " +
                        "outHeight: 8, outWidth: 8, firstFilter: start, endFilter: end, relu: true);", code);
        string split = code.Substring(code.IndexOf("if (ws.SplitParts > 1)", StringComparison.Ordinal));
        Assert.DoesNotContain("Winograd3x3.PadChannelLast(", split.Substring(0, split.IndexOf("return;", StringComparison.Ordinal)));
    }

    [Fact]
    public void ASmallWinogradInputSplitByTilesIsLaidOutByEachRangeOnePerThread()
    {
        // 32 x 16 x 16 to 32 filters: 16 tiles (2,359,296 multiply-adds), split by tiles. Its channel-last copy (18 x 18 x 32
        // values, 41 KiB) is made by each range, the rows of its tiles only; one range per thread, so that each range's
        // products are 8 tiles tall, not 4.
        string code = Generate("[Input(32, 16, 16)] [Conv(3, 32, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_ForwardTiles_conv1" }, SplitMethods(code));
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardTiles_conv1 ??= ForwardTiles_conv1, ws, inp.Slice(0, batch * 8192), fused.Slice(0, batch * 8192), " +
                        "_winogradWeight_conv1, bias, batch, units: batch * 16, block: 1, piecesPerThread: 1);", code);
        Assert.Contains("WinogradRanges.ForwardTiles(inp, batch, weight, bias, outp, channels: 32, height: 16, width: 16, filters: 32, padding: 1, " +
                        "outHeight: 16, outWidth: 16, firstTile: start, endTile: end, relu: true);", code);
        Assert.Contains("// One range per thread: the products of a range are as tall as its tiles, and a range lays out its own input rows.", code);
        Assert.DoesNotContain("PadRows_conv1", code);
    }

    [Fact]
    public void AWinogradLayerOfFewerThanAMillionMultiplyAddsRunsOnOneThread()
    {
        // 64 -> 64 on 8 x 8 (2,359,296 multiply-adds, 4 tiles) is split by filters and 32 -> 32 on 16 x 16 (the same, 16
        // tiles) by tiles; 16 -> 32 on 8 x 8 (589,824) runs whole on the calling thread in a split pass.
        string code = Generate("[Input(64, 8, 8)] [Conv(3, 64, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(code));
        code = Generate("[Input(16, 8, 8)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv2" }, SplitMethods(code));
        Assert.Contains("Winograd3x3.Forward(inp.Slice(0, batch * 1024), batch, _winogradWeight_conv1,", code);
    }

    [Fact]
    public void DirectConvolutionsSplitByRowsUnlessTheirFiltersMakeMoreBlocks()
    {
        // 16 filters on 32-wide rows are 3 blocks of 6 (uneven on 2 threads), 32 rows are 32 blocks of 1: by rows.
        string code = Generate("[Input(3, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_ForwardRows_conv1" }, SplitMethods(code));
        // Each range pads the rows it reads on its own thread: the calling thread makes no padded copy.
        Assert.Contains("ws, inp.Slice(b * 3072, 3072), fused.Slice(b * 16384, 16384), weight, bias, 1, units: 32, block: global::CnnGen.Kernels.DirectConv.RowBlock(32));", code);
        Assert.Contains("DirectConv.ForwardImageRows(inp, weight, bias, outp, channels: 3, height: 32, width: 32, filters: 16, kernel: 3, padding: 1, " +
                        "outHeight: 32, outWidth: 32, firstRow: start, endRow: end, relu: true);", code);
        Assert.DoesNotContain("DirectConv.Pad(inp.Slice(b * 3072, 3072), ws._pad_conv1", code.Substring(code.IndexOf("if (ws.SplitParts > 1)", StringComparison.Ordinal)));
        // 256 filters on 8 x 8 maps (3 channels: direct) are 32 blocks of 8, 8 rows are 4 blocks of 2: by filters.
        code = Generate("[Input(3, 8, 8)] [Conv(3, 256, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_ForwardFilters_conv1" }, SplitMethods(code));
        Assert.Contains("units: 256, block: global::CnnGen.Kernels.DirectConv.FilterBlock(8)", code);
        Assert.Contains("DirectConv.ForwardFilters(inp, weight, bias, outp, channels: 3, height: 8, width: 8,", code);
    }

    [Fact]
    public void AWinogradLayerOfSixteenTilesSplitsByTilesWhenItsTransformedWeightsAreSmall()
    {
        // 16 x 16 maps: 16 tiles. 32 -> 64 (288 KiB of transformed weights) and 64 -> 64 (576 KiB) split by tiles;
        // 64 -> 128 (1.125 MiB) and 128 -> 128 (2.25 MiB) by ranges of 32 filters, each reading only its share; 32 -> 32
        // is split by tiles too. Of the layers whose copies are shared, those split by tiles split theirs by rows first; of
        // the others, conv5's input, 128 x 16 x 16 = 32,768 values, is large enough for that too.
        string code = Generate("[Input(32, 16, 16)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU] " +
                               "[Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_ForwardTiles_conv1", "_ForwardTiles_conv2", "_PadRows_conv3", "_ForwardTiles_conv3",
                "_WinogradFilters_conv4", "_PadRows_conv5", "_WinogradFilters_conv5" },
            SplitMethods(code));
        // Inputs of 32 channels lay out their own rows, one range per thread; 64 channels (83 KiB a copy) share a copy
        // made by rows first, then two ranges per thread.
        Assert.Contains("_winogradWeight_conv2, bias, batch, units: batch * 16, block: 1, piecesPerThread: 1);", code);
        Assert.Contains("_winogradWeight_conv3, bias, batch, units: batch * 16, block: 1);", code);
        // By filters, one range per thread: each range transforms the whole input.
        Assert.Contains("_winogradWeight_conv5, bias, batch, units: 128, block: 32, piecesPerThread: 1);", code);
    }

    [Fact]
    public void AWinogradLayerOfFewTilesAndOneBlockOfFiltersSplitsByPointsThenByTiles()
    {
        // DenseNet-121's 3x3 layers at 7x7: 128 -> 32 (4 tiles, one panel of 32 filters, 576 KiB of transformed weights),
        // 1,806,336 multiply-adds, ran whole on the calling thread; now ranges of the 36 points into the products the
        // ranges share (the workspace's block scratch), then ranges of the tiles, from one channel-last copy.
        string code = Generate("[Input(128, 7, 7)] [Conv(3, 32, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradPoints_conv1", "_WinogradFinish_conv1" }, SplitMethods(code));
        Assert.Contains("if (ws.SplitParts > 1 && global::CnnGen.Kernels.Winograd3x3.FitsOneBlock(batch, 128, 32, 7, 7))", code);
        Assert.Contains("Winograd3x3.PadChannelLast(inp.Slice(0, batch * 6272), batch, ws._winogradPadded_conv1, channels: 128, height: 7, width: 7, " +
                        "padding: 1, outHeight: 7, outWidth: 7);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_WinogradPoints_conv1 ??= WinogradPoints_conv1, ws, ws._winogradPadded_conv1, ws._winogradScratch_conv1, " +
                        "_winogradWeight_conv1, default, batch, units: 36, block: 1, piecesPerThread: 1);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_WinogradFinish_conv1 ??= WinogradFinish_conv1, ws, ws._winogradScratch_conv1, fused.Slice(0, batch * 1568), " +
                        "default, bias, batch, units: batch * 4, block: 1, piecesPerThread: 1);", code);
        Assert.Contains("Winograd3x3.ForwardPoints(inp, batch, weight, outp, scratch, channels: 128, filters: 32, outHeight: 7, outWidth: 7, " +
                        "firstPoint: start, endPoint: end);", code);
        Assert.Contains("Winograd3x3.FinishTiles(inp, batch, bias, outp, filters: 32, outHeight: 7, outWidth: 7, firstTile: start, endTile: end, relu: true);", code);
        // At 14x14 (16 tiles) the same layer keeps its split by tiles; with 64 filters (two panels), by filters; 32 -> 32 at
        // 12x12 (9 tiles, 1,327,104 multiply-adds, but 144 KiB of transformed weights) runs whole.
        Assert.Equal(new[] { "_PadRows_conv1", "_ForwardTiles_conv1" }, SplitMethods(Generate("[Input(128, 14, 14)] [Conv(3, 32, Padding = 1)] [ReLU]")));
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(Generate("[Input(128, 7, 7)] [Conv(3, 64, Padding = 1)] [ReLU]")));
        string small = Generate("[Input(32, 12, 12)] [Conv(3, 32, Padding = 1)] [ReLU]");
        Assert.Empty(SplitMethods(small));
        Assert.Contains("Winograd3x3.Forward(inp.Slice(0, batch * 4608), batch, _winogradWeight_conv1,", small);
    }

    [Fact]
    public void AWinogradLayerSplitByTilesRunsOneRangePerThreadWhenItsTransformedWeightsPassACoresCache()
    {
        // 28 x 28 maps: 49 tiles, split by tiles. 64 -> 64 (576 KiB of transformed weights) keeps two ranges per thread;
        // 64 -> 128 (1.125 MiB), which every range reads whole, one.
        string code = Generate("[Input(64, 28, 28)] [Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_PadRows_conv1", "_ForwardTiles_conv1", "_PadRows_conv2", "_ForwardTiles_conv2" }, SplitMethods(code));
        Assert.Contains("_winogradWeight_conv1, bias, batch, units: batch * 49, block: 1);", code);
        Assert.Contains("_winogradWeight_conv2, bias, batch, units: batch * 49, block: 1, piecesPerThread: 1);", code);
        Assert.Contains("// One range per thread: each range reads all the transformed weights, too large for a core's cache.", code);
    }

    [Fact]
    public void AWinogradLayerOfFewTilesSplitsByRangesOf32Filters()
    {
        // 3x3 on 128 x 8 x 8 to 128 filters: Winograd (8x8 map, 32+ channels and filters), 9,437,184 MACs but 4 tiles.
        string code = Generate("[Input(128, 8, 8)] [Conv(3, 128, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(code));
        Assert.Contains("units: 128, block: 32", code);
        Assert.Contains("WinogradRanges.ForwardFilters(", code);
        Assert.Contains("Winograd3x3.Forward(", code);
    }

    [Fact]
    public void AWinogradLayerOfFewTilesAndFiltersNotInPanelsSplitsByPanelsOf32TheLastNarrower()
    {
        // 80 filters: two panels of 32 and one of 16 in the transformed weights; ranges start on a panel.
        string code = Generate("[Input(64, 8, 8)] [Conv(3, 80, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(code));
        Assert.Contains("units: 80, block: 32, piecesPerThread: 1);", code);
        Assert.Contains("WinogradRanges.ForwardFilters(inp, batch, weight, bias, outp, channels: 64, height: 8, width: 8, filters: 80, padding: 1, " +
                        "outHeight: 8, outWidth: 8, firstFilter: start, endFilter: end, relu: true);", code);
    }

    [Fact]
    public void AWinogradLayerOfFewTilesAndFewerThan64FiltersNotInPanelsSplitsByRangesOf16Filters()
    {
        // 48 filters: fewer than 64 and not whole panels of 32, so its transformed weights stay rows, and its ranges are
        // whole vectors of 16.
        string code = Generate("[Input(64, 8, 8)] [Conv(3, 48, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradFilters_conv1" }, SplitMethods(code));
        Assert.Contains("units: 48, block: 16, piecesPerThread: 1);", code);
    }

    [Fact]
    public void AWinogradLayerOfFewTilesAndFewerThanTwoVectorsOfFiltersSplitsByPoints()
    {
        // 24 filters (1,769,472 MACs, 4 tiles): one vector of 16 and a part of one, too few to share by filters; its 432 KiB
        // of transformed weights (rows of 24 filters, not panels) are shared out by points.
        string code = Generate("[Input(128, 8, 8)] [Conv(3, 24, Padding = 1)] [ReLU]");
        Assert.Equal(new[] { "_WinogradPoints_conv1", "_WinogradFinish_conv1" }, SplitMethods(code));
        Assert.Contains("Winograd3x3.ForwardPoints(inp, batch, weight, outp, scratch, channels: 128, filters: 24, outHeight: 8, outWidth: 8, ", code);
        Assert.Contains("Winograd3x3.Forward(", code);
    }

    [Fact]
    public void ADenseLayerOfAtLeast1MiBOfWeightsReadsThemAsOneStreamForOneImage()
    {
        // 256 units x 1,024 inputs = 1 MiB of weights: the product reads them from memory, row after row, both whole and
        // in each range of units; 255 units stay below and keep blocks of eight rows (the product's default).
        string large = Generate("[Input(1024, 1, 1)] [Dense(256)]");
        Assert.Contains("m: batch, n: 256, k: 1024, bFromMemory: true);", large);
        Assert.Contains("m: 1, n: end - start, k: 1024, bFromMemory: true);", large);
        string small = Generate("[Input(1024, 1, 1)] [Dense(255)]");
        Assert.Contains("m: batch, n: 255, k: 1024);", small);
        Assert.Contains("m: 1, n: end - start, k: 1024);", small);
        Assert.DoesNotContain("bFromMemory", small);
    }

    [Fact]
    public void ASmallNetworkHasNoSplitCode()
    {
        string code = Generate("[Input(1, 28, 28)] [Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)] [Dense(10)] [Softmax]");
        Assert.Empty(SplitMethods(code));
        Assert.DoesNotContain("SplitParts", code);
    }

    [Fact]
    public void LayersWithoutWeightsOfAtLeast32768ValuesAreSplitByValuesOrChannels()
    {
        // 32 x 32 x 32 = 32,768 values: the shortcut's sum with the ReLU it feeds (by the rows its input's product was
        // split by), the max and average pools (by channels) and the join (by values); the ReLU after the first 1x1
        // convolution is applied by its product, so it has no pass to split; after the 2x2 pools 8,192 values per image
        // stay on the calling thread.
        string code = Generate("[Input(32, 32, 32)] [Conv(1, 32)] [ReLU] [Conv(1, 32)] [Add(\"relu1\")] [ReLU] " +
                               "[MaxPool(3, Stride = 1, Padding = 1)] [AvgPool(3, Stride = 1, Padding = 1)] [Concat(\"relu2\")] " +
                               "[MaxPool(2)] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.Equal(new[] { "_ForwardColumns_conv1", "_ForwardColumns_conv2", "_ForwardRows_add1",
            "_ForwardPlanes_pool1", "_ForwardPlanes_pool2", "_ForwardSourceValues_concat1", "_ForwardValues_concat1", "_ForwardPlanes_pool3" }, SplitMethods(code));
        Assert.Contains("RunSplit(_ForwardRows_add1 ??= ForwardRows_add1, ws, inp, fused, default, default, batch, units: 32, block: 1);", code); // conv2's rows
        Assert.Contains("units: 32, block: 1", code);       // channels of a pool
        Assert.Contains("units: 65536, block: 16", code);   // the join's output: values, a cache line per block
        // In place, only the source's values are copied, and only they are shared out.
        Assert.Contains("RunSplit(_ForwardSourceValues_concat1 ??= ForwardSourceValues_concat1, ws, inp, outp, default, default, batch, units: 32768, block: 16);", code);
        Assert.Contains("start += 32768; // the sources' values follow the input's 32 channels", code);
        Assert.DoesNotContain("_ForwardValues_relu3", code);
        Assert.DoesNotContain("_ForwardPlanes_pool4", code); // the global average pool
    }

    [Fact]
    public void BatchNormsNoConvolutionTakesInAreSplitByChannelsWithTheirFusedReLUs()
    {
        // After a join, 64 x 32 x 32 = 65,536 values: bn2 (its ReLU fused) by ranges of its 64 channels, into relu2's output;
        // bn3 after a 2x2 pool and a join (32 x 16 x 16 = 8,192 values) stays on the calling thread; bn1, folded into
        // conv1, has no pass of its own when folded, and its unfolded pass (32,768 values) splits by channels too.
        string code = Generate("[Input(16, 32, 32)] [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Concat(\"relu1\")] [BatchNorm] [ReLU] " +
                               "[Conv(1, 16)] [MaxPool(2)] [Concat(\"pool1\")] [BatchNorm] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("RunSplit(_ForwardChannels_bn2 ??= ForwardChannels_bn2, ws, inp, ws._act_relu2, default, default, batch, units: 64, block: 1);", code);
        Assert.Contains("global::CnnGen.Kernels.BatchNorm.Apply(inp.Slice(b * 65536 + start * 1024, (end - start) * 1024), outp.Slice(b * 65536 + start * 1024, " +
                        "(end - start) * 1024), 1, end - start, 1024, scale, shift, global::CnnGen.Kernels.FusedActivation.Relu);", code);
        Assert.Contains("RunSplit(_ForwardChannels_bn1 ??= ForwardChannels_bn1, ws, inp, outp, default, default, batch, units: 32, block: 1);", code);
        Assert.DoesNotContain("_ForwardChannels_bn3", code);
    }

    [Fact]
    public void ATransitionThatAveragesFirstSplitsItsAveragesByChannelsAndItsProductByRows()
    {
        // A 1x1 convolution, 64 -> 32 on 32 x 32 (2,097,152 multiply-adds), whose 2x2 average pool averages its input first:
        // one image's 2x2 averages by ranges of its 64 channels, then its product by ranges of the 16 averaged rows in
        // blocks of 2 (rows of 16: 32 columns), into the pool's output.
        string code = Generate("[Input(64, 32, 32)] [Conv(1, 32, Bias = false)] [AvgPool(2)] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("GeneratedPasses.RunSplit(_AverageFirstChannels_conv1 ??= AverageFirstChannels_conv1, ws, inp.Slice(b * 65536, 65536), image, default, default, 1, " +
                        "units: 64, block: 1);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_AverageFirstRows_conv1 ??= AverageFirstRows_conv1, ws, image, pooled.Slice(b * 8192, 8192), weight, bias, 1, " +
                        "units: 16, block: 2);", code);
        Assert.Contains("global::CnnGen.Kernels.AveragePool2x2.Forward(inp.Slice(start * 1024, (end - start) * 1024), outp.Slice(start * 256, (end - start) * 256), " +
                        "planes: end - start, height: 32, width: 32, outHeight: 16, outWidth: 16);", code);
        Assert.Contains("global::CnnGen.Kernels.Gemm.MultiplyBiasActivationColumns(weight, inp, outp, bias, m: 32, n: 256, k: 64, firstColumn: start * 16, endColumn: end * 16);", code);
        // On a 16 x 16 map (64 -> 64: 1,048,576 multiply-adds) the 8 x 8 averaged positions are too few to share by rows: the
        // product's ranges are blocks of 32 filters.
        string small = Generate("[Input(64, 16, 16)] [Conv(1, 64, Bias = false)] [AvgPool(2)] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("GeneratedPasses.RunSplit(_AverageFirstFilters_conv1 ??= AverageFirstFilters_conv1, ws, image, pooled.Slice(b * 4096, 4096), weight, bias, 1, " +
                        "units: 64, block: 32);", small);
        Assert.Contains("global::CnnGen.Kernels.Gemm.MultiplyBiasActivation(weight.Slice(start * 64, (end - start) * 64), inp, outp.Slice(start * 64, (end - start) * 64), " +
                        "bias.Slice(start, end - start), m: end - start, n: 64, k: 64);", small);
        Assert.DoesNotContain("AverageFirstRows_conv1", small);
    }

    [Fact]
    public void AFilterLaneProjectionSplitsByRowsAndAnExpansionByPanels()
    {
        // On 14 x 14 maps, BatchNorms folded in, the 1x1 products with the filters in the lanes: 64 -> 384 (an expansion,
        // 4,816,896 MACs) keeps ranges of 32-filter panels; 384 -> 64 (a projection to fewer channels than it reads) takes
        // ranges of its 14 output rows, every filter, and the sum after it the same rows of every channel.
        string code = Generate("[Input(64, 14, 14)] [Conv(1, 64, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 384, Bias = false)] [BatchNorm] [ReLU6] " +
                               "[Conv(1, 64, Bias = false)] [BatchNorm] [Add(\"relu6_1\")] [GlobalAvgPool] [Dense(10)]");
        Assert.Contains("RunSplit(_FilterLanesFilters_conv2 ??= FilterLanesFilters_conv2, ws, x, outp.Slice(b * 75264, 75264), weight, bias, 1, units: 384, block: 32);", code);
        Assert.Contains("RunSplit(_FilterLanesRows_conv3 ??= FilterLanesRows_conv3, ws, x, outp.Slice(b * 12544, 12544), weight, bias, 1, units: 14, block: 1);", code);
        Assert.Contains("FilterLanes.ForwardPositions(_filterLanes_conv3, inp, bias, outp, filters: 64, k: 384, positions: 196, firstPosition: start * 14, endPosition: end * 14, ", code);
        Assert.DoesNotContain("FilterLanesFilters_conv3", code);
        Assert.Contains("RunSplit(_ForwardRows_add1 ??= ForwardRows_add1, ws, inp, outp, default, default, batch, units: 14, block: 1);", code);
    }

    [Fact]
    public void AShortcutsSumIsSplitAsTheConvolutionThatWritesItsInput()
    {
        // 16 x 32 x 32 = 16,384 values, too few to split by values: after a direct convolution split by rows (with its
        // BatchNorm folded in, so the convolution writes bn2's output), the sum takes the same 32 rows of every channel in
        // blocks of 1; after a Winograd layer on 8 x 8 maps split by ranges of 32 filters (conv4; conv3, 16 -> 128, is split
        // so too), the same ranges of channels.
        string code = Generate("[Input(16, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1, Bias = false)] [BatchNorm] " +
                               "[Add(\"relu1\")] [ReLU] [MaxPool(4)] [Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [Add(\"relu3\")] [ReLU] " +
                               "[GlobalAvgPool] [Dense(10)]");
        // (conv1 and conv2 also make a band of rows: RowBandTests.)
        Assert.Equal(new[] { "_ForwardBand_conv1", "_ForwardRows_conv1", "_ForwardRows_conv2AndSum", "_ForwardRows_conv2", "_ForwardRows_add1", "_WinogradFilters_conv3",
                "_WinogradFilters_conv4AndSum", "_WinogradFilters_conv4", "_ForwardChannels_add2" },
            SplitMethods(code));
        // Of one image (with bn2 folded), the convolutions' ranges compute the sums as they store: add1 over conv2's rows of
        // every channel, add2 over conv4's channels; the sums' own passes then return.
        Assert.Contains("GeneratedPasses.RunSplit(batch == 1 && ws.Folded ? (_ForwardRows_conv2AndSum ??= ForwardRows_conv2AndSum) : (_ForwardRows_conv2 ??= ForwardRows_conv2), ", code);
        Assert.Contains("if (batch == 1 && ws.Folded) return; // summed by conv2's ranges as they stored its input", code);
        Assert.Contains("var x = sumInput.Slice(c * 1024 + firstRow * 32, (endRow - firstRow) * 32);", code);
        Assert.Contains("var shortcut = new global::System.ReadOnlySpan<float>(ws._act_relu1, c * 1024 + firstRow * 32, x.Length); // relu1's output", code);
        Assert.Contains("GeneratedPasses.RunSplit(batch == 1 ? (_WinogradFilters_conv4AndSum ??= WinogradFilters_conv4AndSum) : (_WinogradFilters_conv4 ??= WinogradFilters_conv4), ", code);
        Assert.Contains("if (batch == 1) return; // summed by conv4's ranges as they stored its input", code);
        Assert.Contains("var x = sumInput.Slice(start * 64, (end - start) * 64);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardRows_add1 ??= ForwardRows_add1, ws, inp, fused, default, default, batch, units: 32, block: 1);", code);
        Assert.Contains("var x = inp.Slice(b * 16384 + c * 1024 + start * 32, (end - start) * 32);", code);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardChannels_add2 ??= ForwardChannels_add2, ws, inp, fused, default, default, batch, units: 128, block: 32);", code);
        Assert.Contains("var x = inp.Slice(b * 8192 + start * 64, (end - start) * 64);", code);
    }

    [Fact]
    public void ASumWhoseShortcutIsComputedAfterTheConvolutionRunsItsOwnRanges()
    {
        // A projection shortcut declared after the block's second convolution (as torchvision orders ResNet's) is not yet
        // written when that convolution's ranges run: the sum keeps its own ranges, and the convolution has no summing ones.
        string code = Generate("[Input(64, 8, 8)] [Conv(3, 64, Padding = 1, Bias = false)] [BatchNorm] [ReLU(Name = \"in\")] " +
                               "[Conv(3, 64, Padding = 1, Bias = false)] [BatchNorm] " +
                               "[Conv(1, 64, Bias = false, From = \"in\", Name = \"project\")] [BatchNorm(Name = \"project_bn\")] " +
                               "[Add(\"project_bn\", From = \"bn2\")] [ReLU] [GlobalAvgPool] [Dense(10)]");
        Assert.DoesNotContain("AndSum", code);
        Assert.DoesNotContain("summed by", code);
        Assert.Contains("_ForwardChannels_add1", SplitMethods(code));
    }

    [Fact]
    public void APoolAfterASumComputedInRangesIsPooledByThoseRanges()
    {
        // The network above: a 4x4 max pool after add1 (conv2 split by rows, now cut at multiples of 4 rows) and a global
        // average pool after add2 (conv4 split by filters, whole planes): the ranges pool what they summed, and the
        // pools' own passes return under the same conditions as the sums'.
        string code = Generate("[Input(16, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1, Bias = false)] [BatchNorm] " +
                               "[Add(\"relu1\")] [ReLU] [MaxPool(4)] [Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [Add(\"relu3\")] [ReLU] " +
                               "[GlobalAvgPool] [Dense(10)]");
        Assert.Contains("units: 32, block: 4);", code);
        Assert.Contains("// Fewer images than threads: each thread computes a range of this image's output rows, blocks of 4 (every filter", code);
        Assert.Contains("var poolOutput = new global::System.Span<float>(ws._act_pool1); // pool1's output, pooled from what this range summed", code);
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPoolValues(sumOutput.Slice(c * 1024 + firstRow * 32, (endRow - firstRow) * 32), " +
                        "poolOutput.Slice(c * 64 + firstRow / 4 * 8), planes: 1, height: endRow - firstRow, width: 32, size: 4, stride: 4, padding: 0, " +
                        "outHeight: (endRow - firstRow) / 4, outWidth: 8);", code);
        Assert.Contains("if (!ws.KeepForBackward && ws.SplitParts > 1 && batch == 1 && ws.Folded) return; // pooled by conv2's ranges as they stored its input", code);
        Assert.Contains("global::CnnGen.Kernels.GlobalPooling.AverageForward(sumOutput.Slice(start * 64), poolOutput.Slice(start), planes: end - start, plane: 64);", code);
        Assert.Contains("if (!ws.KeepForBackward && ws.SplitParts > 1 && batch == 1) return; // pooled by conv4's ranges as they stored its input", code);
    }

    [Theory]
    [InlineData(32, "[MaxPool(3, Stride = 1, Padding = 1)]")] // windows that cross a cut between ranges of rows
    [InlineData(32, "[AvgPool(2)]")] // an average of part of a plane
    [InlineData(32, "[MaxPool(2, Stride = 1)]")] // overlapping windows, stride below the size
    [InlineData(30, "[MaxPool(4, CeilMode = true)]")] // a last window cut by the edge
    public void APoolWhoseWindowsDoNotFitRangesOfRowsKeepsItsOwnPass(int height, string pool)
    {
        string code = Generate($"[Input(16, {height}, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1)] [Add(\"relu1\")] [ReLU] {pool} [Dense(10)]");
        Assert.Contains("_ForwardRows_conv2AndSum", SplitMethods(code));
        Assert.DoesNotContain("poolOutput", code);
        Assert.DoesNotContain("pooled by", code);
    }

    [Fact]
    public void AGlobalAveragePoolOfManyValuesIsSplitByBlocksOfSixteenChannels()
    {
        string code = Generate("[Input(64, 32, 32)] [GlobalAvgPool] [Dense(10)]");
        Assert.Equal("_ForwardPlanes_pool1", Assert.Single(SplitMethods(code)));
        Assert.Contains("units: 64, block: 16", code);
    }
}
