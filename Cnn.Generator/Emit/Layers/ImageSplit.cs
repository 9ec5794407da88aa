using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Splitting one image's layer over the threads (an evaluation-mode forward pass with fewer images than threads):
/// which layers are worth it, and the code that hands a range method to the runtime's <c>NetworkPasses.RunSplit</c>.
/// A range method computes units <c>[start, end)</c> of the layer (filters, output units, channel groups, or the
/// input channels that im2col lays out) with exactly the operations the whole layer would, so every thread count
/// gives the same bits.
/// </summary>
internal static class ImageSplit
{
    /// <summary>Multiply-adds per image from which a layer is split: about 10 microseconds of one core's work, against
    /// a job hand-over of about one microsecond when the workers are awake. Smaller layers run on the calling thread.</summary>
    public const long MinimumMultiplyAdds = 250_000;

    /// <summary>Multiply-adds per image from which a network splits one image over the threads by default
    /// (<c>SplitImages</c> starts true): a pass of at least about a hundred microseconds of one core's work, where each
    /// split layer's hand-over (about a microsecond with the workers awake) is small against its share. Measured on 2
    /// cores, one image, 2 threads against 1 (<c>Cnn.Latency --threads 1,2 --fixed</c> with and without <c>--split</c>,
    /// nothing else running): CIFAR VGG (39 M) 1.49-1.54x split against 0.89-1.00x not, CIFAR ResNet (31 M) 1.64-1.65x
    /// against 1.00-1.07x, MobileNetV2 (0.31 G, its in-place depthwise layers split by channels, its fused expansion then
    /// two split layers) 1.24-1.50x against 1.01-1.05x; ResNet-18 (1.8 G) 1.31-1.80x. With the other core busy a split
    /// pass can be slower than one thread (0.57x measured for a CIFAR network), as every engine's two-thread pass is.
    /// LeNet-5 (0.4 M) stays on one thread.</summary>
    public const long SplitByDefaultFromMultiplyAdds = 20_000_000;

    /// <summary>Whether the network's <c>SplitImages</c> starts true.</summary>
    public static bool SplitsByDefault(NetworkSpec spec) => spec.ForwardMacs >= SplitByDefaultFromMultiplyAdds;

    /// <summary>Output positions from which an im2col or pointwise product is split by ranges of its columns (output
    /// positions, in whole rows: <see cref="ProductRowBlock"/>) instead of ranges of filters: each thread then packs only
    /// its share of the columns (by filters, every thread packs them all), and a layer of few filters still shares out (32
    /// filters were one range of 32, which left the second thread idle: MobileNetV2's projections to 16 and 24 channels,
    /// the CIFAR networks' first and stride-2 layers).</summary>
    public const int ColumnSplitFromPositions = 8 * ColumnBlock;

    /// <summary>Columns of one packed panel: the least a range of a product split by columns holds.</summary>
    public const int ColumnBlock = 32;

    /// <summary>Whether a split im2col or pointwise product hands out ranges of columns (output positions); products with
    /// the filters in the vector lanes keep their ranges of filter panels, or split by rows (<see cref="FilterLanesSplitsRows"/>).</summary>
    public static bool SplitsColumns(LayerSpec l) => !l.FilterLanesInference && SplitsColumns(l.Output.Height, l.Output.Width);

    /// <summary>Whether a split product of a map of <paramref name="height"/> x <paramref name="width"/> output positions
    /// hands out ranges of columns rather than of filters: at least <see cref="ColumnSplitFromPositions"/> positions.</summary>
    public static bool SplitsColumns(int height, int width) => (long)height * width >= ColumnSplitFromPositions;

    /// <summary>
    /// Output rows per block of a product split by columns: the ranges hold whole rows (at least <see cref="ColumnBlock"/>
    /// positions), so that a sum after it splits by the same rows (<see cref="RangesOfInput"/>) and each thread adds the
    /// values its own core wrote.
    /// </summary>
    public static int ProductRowBlock(LayerSpec l) => ProductRowBlock(l.Output.Width);

    /// <summary><see cref="ProductRowBlock(LayerSpec)"/> for output rows of <paramref name="width"/> positions.</summary>
    public static int ProductRowBlock(int width) => (ColumnBlock + width - 1) / width;

    /// <summary>Output positions from which a 1x1 product with the filters in the vector lanes splits by rows instead of
    /// filter panels: a 14x14 map, 7 rows of 14 (the kernel's group of positions) per thread on two.</summary>
    public const int FilterLanesRowSplitFromPositions = 196;

    /// <summary>Laid-out weights from which a 1x1 filter-lane product keeps its ranges of filter panels: split by rows,
    /// every range reads them all, which should stay in a core's L2 (MobileNetV2's 14x14 layers are 48-216 KiB; its
    /// 7x7 ones up to 1.6 MiB keep their panels).</summary>
    public const long FilterLanesRowSplitMaxWeightBytes = 512 * 1024;

    /// <summary>Whether a split pointwise (1x1, stride 1) product with the filters in the lanes hands out ranges of output
    /// rows, every filter, rather than ranges of filter panels: a projection to fewer channels than it reads. By filters,
    /// each thread reads the whole input, half of it written by the other core; by rows, only its rows, and it writes the
    /// rows the sum after it adds on the same thread. An expansion (more filters than channels) keeps its panels, so that
    /// the depthwise layer after it, split by channels, reads the channels its own thread wrote.</summary>
    public static bool FilterLanesSplitsRows(LayerSpec l) =>
        l.FilterLanesInference && l.Op is ConvOp { Kernel: 1, Stride: 1, Padding: 0, Filters: var f } && f < l.Input.Channels
        && (long)l.Output.Height * l.Output.Width >= FilterLanesRowSplitFromPositions
        && (long)l.WeightLength * sizeof(float) <= FilterLanesRowSplitMaxWeightBytes;

    /// <summary>Units per block of a dense layer split over the threads: the runtime's block of eight rows of weights for one
    /// image (<c>Gemm.MultiplyTransposedB</c>), so that every range but the last holds whole blocks.</summary>
    public const int DenseUnitBlock = 8;

    /// <summary>Filters per block of an im2col or pointwise product of at most <see cref="NarrowProductPositions"/>
    /// positions split by filters: from 49 positions the runtime's narrow product copies B's columns once per call, so a
    /// range of fewer rows (the kernel computes 8 at a time) would spend more of its time copying; products of fewer
    /// positions keep the block they had, not measured with 8.</summary>
    public const int NarrowProductFilterBlock = 32;

    /// <summary>Filters per block of a wider product split by filters: the kernel's block of 8 rows. Such a product reads B
    /// where it lies (no copy per call), so a block of 32 only made the shares uneven: GoogLeNet's 1x1 layers at 14 x 14 of
    /// 16 to 32 filters were one block and ran on one thread, those of 96, 112, 144 and 160 filters shared 3, 4 or 5 blocks
    /// out to two threads.</summary>
    public const int KernelRowBlock = 8;

    /// <summary>Output positions up to which the runtime's product copies B's columns once per call
    /// (<c>NarrowGemmAvx512</c>: 49 to 64 columns).</summary>
    public const int NarrowProductPositions = 64;

    /// <summary>Filters per block of an im2col or pointwise product of <paramref name="positions"/> output positions split by
    /// filters: <see cref="NarrowProductFilterBlock"/> where the product copies its columns per call, else
    /// <see cref="KernelRowBlock"/>.</summary>
    public static int ProductFilterBlock(int positions) =>
        positions > NarrowProductPositions ? KernelRowBlock : NarrowProductFilterBlock;

    /// <summary>Whether the generator splits this layer (a convolution or dense layer with enough work).</summary>
    public static bool Worth(LayerSpec l) =>
        l.Kind is LayerKind.Conv or LayerKind.Dense && l.Macs >= (l.WinogradInference ? MinimumWinogradMultiplyAdds : MinimumMultiplyAdds) && !RunsWhole(l);

    /// <summary>Multiply-adds per image (counted as a direct convolution's) from which a Winograd layer is split: the CIFAR
    /// networks' 16x16 and 8x8 layers (1.2-2.4 M) are. With a quarter of the multiplications such a layer is short work, so
    /// its split pays only with one hand-over (each range lays out the input rows it reads: <c>WinogradConv.PadsInRanges</c>)
    /// and, by tiles, one range per thread (its products are as tall as its tiles). The CIFAR ResNet, one image, two threads,
    /// 2-core Zen 4 (<c>Cnn.Latency --layers --split --fixed</c>): its 16x16 layers 19-22 us on one thread -> 12.1-12.8 split
    /// (14.1-14.5 with a shared copy first and two ranges per thread), its 8x8 ones 15-16 -> 10.8-12.0; the whole pass
    /// (<c>Cnn.EngineRace run --engine cnngen --model cifar_resnet --threads 2</c>, 5 processes of each build alternating)
    /// medians 296 -> 250 us. Measured on a 2-core Zen 5 with a shared copy and two ranges per thread, the same layers were
    /// no faster split (16x16: 16.4 -> 16.3-17.6 us) or slower (8x8: 11.4 -> 16.4), which is why this was 4 M before.</summary>
    public const long MinimumWinogradMultiplyAdds = 1_000_000;

    /// <summary>Layers whose inference kernel runs whole on the calling thread: the direct depthwise kernel that pads each
    /// channel into one plane per workspace (those that read their input in place split by channels); a Winograd layer of few
    /// tiles with fewer than two blocks of filters and small transformed weights (<see cref="SplitsPoints"/>). (Other
    /// Winograd layers split by tiles, by filters or by points, each thread with a scratch of its own; those that run
    /// im2col + GEMM for few images split that.)</summary>
    private static bool RunsWhole(LayerSpec l) =>
        l.Op is ConvOp { Groups: > 1 } && l.DirectInference && !l.DepthwiseInPlace
        || l.WinogradInference && !SplitsTiles(l) && !SplitsFilters(l) && !SplitsPoints(l) && l.WinogradFromImages == 1;

    /// <summary>A Winograd layer with enough tiles per image to split them over the threads: 32 or more, or 16 or more
    /// (a 16x16 map) when its transformed weights are small enough to stay in a core's cache while every range reads them
    /// all (<see cref="SmallWinogradWeightBytes"/>).</summary>
    public static bool SplitsTiles(LayerSpec l) =>
        l.WinogradInference && (WinogradConv.TilesPerImage(l) >= MinimumWinogradTiles
                                || WinogradConv.TilesPerImage(l) >= MinimumWinogradTilesOfSmallWeights && TransformedWeightBytes(l) <= SmallWinogradWeightBytes);

    /// <summary>
    /// A Winograd layer of too few tiles to split them (fewer than <see cref="MinimumWinogradTilesOfSmallWeights"/>) whose
    /// filters make one block (<see cref="WinogradFilterBlock"/>), so that no split by filters fits it either, and whose
    /// transformed weights are at least <see cref="PointSplitWeightBytes"/>: split by its 36 points
    /// (<c>Winograd3x3.ForwardPoints</c>, each range reading only its points' weights into products all ranges share),
    /// then by tiles (<c>Winograd3x3.FinishTiles</c>); such a layer ran whole on one thread before. DenseNet-121's 16 3x3
    /// layers at 7x7 (128 -> 32, 4 tiles, 576 KiB of weights each) on two threads (<c>Cnn.Latency --model densenet121
    /// --split --fixed --layers</c>, 4 runs of each build alternating) 770 -> 633 us, against 795 and 776 on one. Its 24
    /// layers at 14x14 (16 tiles) keep their split by tiles: by points they took 2,011 us against 1,787, every range
    /// transforming all 16 tiles' input and a second hand-over for the output transforms. Not with a pool fused into the
    /// layer.
    /// </summary>
    public static bool SplitsPoints(LayerSpec l) =>
        l.WinogradInference && l.WinogradFromImages == 1 && l.FusedPool < 0 && WinogradConv.TilesPerImage(l) < MinimumWinogradTilesOfSmallWeights
        && l.Op is ConvOp { Filters: var f } && f < 2 * WinogradFilterBlock(l) && TransformedWeightBytes(l) >= PointSplitWeightBytes;

    /// <summary>Transformed weights from which a Winograd layer of few tiles and one block of filters splits by points
    /// (<see cref="SplitsPoints"/>): 256 KiB, so that each range's share of them is worth a hand-over of its own.</summary>
    public const long PointSplitWeightBytes = 256 * 1024;

    /// <summary>Tiles per image from which a Winograd layer of small transformed weights is split by tiles. Measured
    /// (thread CPU time, one image, ranges of 4 tiles against the whole layer; <c>Cnn.TrainProfile split</c>): the
    /// ranges of a 16x16 map's 16 tiles add up to 0.8-1.05x the whole layer for 32->32, 32->64 and 64->64 channels
    /// (their blocks of tiles are smaller, so their products stay in cache), where ranges of 32 filters add up to
    /// 1.0-1.3x (each range transforms every tile's input again); 16->32 1.3x (its input transform is most of it).</summary>
    public const int MinimumWinogradTilesOfSmallWeights = 16;

    /// <summary>Transformed weights (36 x channels x filters floats) read whole by every range of tiles: at most 1 MiB,
    /// which stays in a core's L2 (64 -> 64 channels is 576 KiB; ResNet-18's 14x14 layers of 256 channels are 9 MiB and
    /// split by filters, each range reading only its share).</summary>
    public const long SmallWinogradWeightBytes = 1 << 20;

    private static long TransformedWeightBytes(LayerSpec l) => 36L * l.Input.Channels * ((ConvOp)l.Op).Filters * sizeof(float);

    /// <summary>
    /// Whether a split Winograd layer runs one range per thread instead of <c>LayerSplit</c>'s default (more, so that a
    /// thread that is free can take over part of a late one's share): when each range pays a fixed cost of its own. By
    /// filters, every range transforms the whole input; by tiles, every range reads all the transformed weights, which for more than
    /// <see cref="SmallWinogradWeightBytes"/> come from beyond a core's L2. ResNet-18 on two threads (<c>Cnn.Latency
    /// --layers --split --fixed</c>): its 14 x 14 layers (by filters) 550-606 -> 433-450 us, its 28 x 28 ones (by tiles,
    /// 2.25 MiB of weights) 282-344 -> 254-267. Layers of smaller weights keep the default: the CIFAR VGG's one image on two
    /// threads went 207-222 -> 222-257 us with one range per thread for all of them (EngineRace, alternating). A layer whose
    /// ranges lay out their own input (<c>WinogradConv.PadsInRanges</c>: the CIFAR networks' 16x16 maps, 16 tiles) runs one
    /// range per thread too: two ranges of 4 tiles each make products of 4 rows where one of 8 makes them of 8 (the CIFAR
    /// ResNet's 16x16 layers split 13.3-14.1 -> 12.1-12.8 us; its pass, 5 processes of each alternating, medians 257 -> 250).
    /// </summary>
    public static bool WinogradOneRangePerThread(LayerSpec l) =>
        !SplitsTiles(l) || TransformedWeightBytes(l) > SmallWinogradWeightBytes || WinogradConv.PadsInRanges(l);

    /// <summary>A Winograd layer of fewer tiles split by ranges of filters instead (<see cref="WinogradFilterBlock"/>):
    /// each range reads only its share of the transformed weights (by tiles, every range would read them all). It needs
    /// two blocks of filters or more.</summary>
    public static bool SplitsFilters(LayerSpec l) =>
        l.WinogradInference && !SplitsTiles(l) && l.Op is ConvOp { Filters: var f } && f >= 2 * WinogradFilterBlock(l);

    /// <summary>Output filters the runtime's direct kernel computes together (<c>DirectConv.FilterBlock</c>): 8 on rows of
    /// any width (two rows of one vector, or one row of two).</summary>
    public const int DirectFilterBlock = 8;

    /// <summary>Output rows the runtime's direct kernel computes together (<c>DirectConv.RowBlock</c>): 2 on rows of at
    /// most 16 values, 1 on wider ones.</summary>
    public static int DirectRowBlock(int outWidth) => outWidth <= 16 ? 2 : 1;

    /// <summary>Whether a split direct convolution hands out ranges of output rows (of every filter) instead of ranges of
    /// filters: when its rows make at least as many blocks as its filters do. Both forms compute exactly the whole
    /// layer's operations, but blocks of filters share out unevenly when there are few of them (24 filters are 3 blocks of
    /// 8: on 2 threads one thread gets two of the three), while rows share out evenly (32 rows, 16 per thread). Each range of rows reads all the weights (16 x 144 floats for a 3x3 layer of
    /// 16 channels, 9 KiB) and two more input rows per channel than it computes.</summary>
    public static bool DirectSplitsRows(LayerSpec l) =>
        l.Op is ConvOp { Filters: var f }
        && (l.Output.Height + DirectRowBlock(l.Output.Width) - 1) / DirectRowBlock(l.Output.Width)
           >= (f + DirectFilterBlock - 1) / DirectFilterBlock;

    /// <summary>Filters per block of a Winograd layer split by filters: one panel of its transformed weights
    /// (<see cref="WinogradFilterPanel"/>), which a range reads in place; when the filters are not a multiple of 32, the
    /// last range ends with the narrower last panel (GoogLeNet's inception 4a 3x3 layer, 96 -> 208 channels at 14x14: two
    /// threads take 96 and 112 filters). Below 64 filters that are not a multiple of 32 the transformed weights are rows of
    /// all filters (<c>Gemm.PanelsAreRows</c>), whose columns a range reads in place: one vector of the output transform
    /// (<see cref="WinogradFilterVector"/>).</summary>
    public static int WinogradFilterBlock(LayerSpec l) =>
        l.Op is ConvOp { Filters: var f } && f % WinogradFilterPanel != 0 && f < 2 * WinogradFilterPanel ? WinogradFilterVector : WinogradFilterPanel;

    /// <summary>Filters per panel of a Winograd layer's transformed weights (<c>Gemm.PanelWidth</c>).</summary>
    public const int WinogradFilterPanel = 32;

    /// <summary>Filters per vector of a Winograd layer's output transform (16 lanes).</summary>
    public const int WinogradFilterVector = 16;

    /// <summary>Tiles per image from which a Winograd layer is split by tiles whatever its weights: every range reads the
    /// whole transformed weights for its 36 products, so a range needs enough tiles to pay for that (a 7x7 map has 4
    /// tiles, a 14x14 one 16, a 28x28 one 49).</summary>
    public const int MinimumWinogradTiles = 32;

    /// <summary>Values per image (of the layer's input or output, whichever is larger) from which a layer without weights
    /// (an activation, a shortcut's sum, pooling, a channel join) or a BatchNorm no convolution takes in is split: 32,768 values are 128 KiB, some microseconds of
    /// one core's memory traffic, against a job hand-over of about one microsecond when the workers are awake.</summary>
    public const long MinimumValues = 32_768;

    /// <summary>Values per block of an element-wise range: 64 bytes, one vector of 16 lanes, so every range but the last
    /// holds whole vectors and two threads share at most the cache line at a boundary.</summary>
    public const int ValueBlock = 16;

    /// <summary>Channels per block of a global average pool's range: its 16 means share one cache line.</summary>
    public const int MeanBlock = 16;

    /// <summary>Whether the generator splits this layer without weights (element-wise, pooling or a join) by ranges of
    /// values or channels: enough values per image to pay for a hand-over.</summary>
    public static bool WorthByValues(LayerSpec l) => System.Math.Max(l.Input.Length, l.Output.Length) >= MinimumValues;

    /// <summary>
    /// How a split pass shares out the map this element-wise layer reads, when the convolution that writes it (through a
    /// folded BatchNorm or a fused ReLU) is split by rows, tiles or filters: the same ranges of rows (or of channels), so
    /// that each thread sums the values it wrote itself. Ranges of whole blocks over the same number of blocks fall the
    /// same way (<c>LayerSplit.Range</c>), and each thread takes its own share first. On two cores that move a cache line
    /// the other wrote at about 29 GB/s, and take back one the other read at about 7 GB/s, a sum of one image left to the
    /// calling thread read the other half of its operands from the other core and handed the whole result back to it:
    /// the CIFAR ResNet's 16 x 32 x 32 sums took 1 us on one thread and 6-10 us in a split pass. Null when the map's
    /// writer is not split that way.
    /// </summary>
    public static MapRanges? RangesOfInput(NetworkSpec network, LayerSpec l)
    {
        if (l.InputIndex < 0 || l.InputIndex >= network.Layers.Count) return null;
        var writer = network.Layers[l.InputIndex];
        if (writer.InferredBy >= 0 && writer.InferredBy < network.Layers.Count) writer = network.Layers[writer.InferredBy];
        if (writer.Op is not ConvOp c || !Worth(writer) || writer.Output != l.Input) return null;
        var map = writer.Output;
        if (FilterLanesSplitsRows(writer)) return new MapRanges(false, map.Height, 1);
        if (SplitsProductColumns(writer)) return new MapRanges(false, map.Height, ProductRowBlock(writer));
        if (SplitsTiles(writer)) return new MapRanges(false, map.Height, WinogradConv.TileSide);
        if (SplitsFilters(writer)) return new MapRanges(true, map.Channels, WinogradFilterBlock(writer));
        if (!writer.DirectInference || writer.WinogradInference || c.Groups > 1) return null;
        return DirectSplitsRows(writer) ? new MapRanges(false, map.Height, DirectRowBlock(map.Width)) : new MapRanges(true, map.Channels, DirectFilterBlock);
    }

    /// <summary>Whether a split pass runs this convolution as an im2col or pointwise product split by columns (not the
    /// direct, depthwise, Winograd or blocks-of-rows kernels, which split their own ways).</summary>
    private static bool SplitsProductColumns(LayerSpec l) =>
        SplitsColumns(l) && l.Op is ConvOp { Groups: 1 } && !l.DirectInference && !l.WinogradInference
        && l.StrideTwoBlockRows == 0 && l.Im2ColBlockRows == 0;

    /// <summary>Opens <c>if (ws.SplitParts &gt; 1)</c>: the pass splits layers.</summary>
    public static void OpenWhenSplitting(SourceWriter w) => w.Open("if (ws.SplitParts > 1)");

    /// <summary>One statement: runs <paramref name="method"/> over <paramref name="units"/> units in blocks of
    /// <paramref name="block"/> on the pass's threads (its delegate made once, in a field).</summary>
    public static string Run(string method, string input, string output, string weight, string bias, string batch, int units, string block) =>
        RunDelegate($"_{method} ??= {method}", input, output, weight, bias, batch, units, block);

    /// <summary><see cref="Run"/> with the range method given as a delegate expression (one of two, say).</summary>
    public static string RunDelegate(string @delegate, string input, string output, string weight, string bias, string batch, int units, string block) =>
        $"GeneratedPasses.RunSplit({@delegate}, ws, {input}, {output}, {weight}, {bias}, {batch}, units: {units}, block: {block});";

    /// <summary>When the pass splits layers: runs <paramref name="method"/> (a range method without weights) over
    /// <paramref name="units"/> units per image in blocks of <paramref name="block"/>, writing <paramref name="output"/>, and returns;
    /// first returns at once when <paramref name="doneElsewhere"/>'s condition holds: then another layer's ranges did this
    /// layer's work, which its comment says.</summary>
    public static void EmitRunAndReturn(SourceWriter w, string method, string output, long units, int block,
        (string Condition, string Comment)? doneElsewhere = null)
    {
        OpenWhenSplitting(w);
        if (doneElsewhere is { } done) w.Line($"if ({done.Condition}) return; // {done.Comment}");
        w.Line(Run(method, "inp", output, "default", "default", "batch", (int)units, block.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        w.Line("return;");
        w.Close();
    }

    /// <summary>The delegate field of a range method, then the method's header (the caller writes the body and closes it).</summary>
    public static void OpenRange(SourceWriter w, string method, string summary)
    {
        w.Line($"private global::CnnGen.GeneratedNetworks.LayerRange<Workspace>? _{method};");
        w.Line($"/// <summary>{summary}</summary>");
        w.Line(LayerEmitter.Optimized);
        w.Open($"private void {method}(Workspace ws, global::System.ReadOnlySpan<float> inp, global::System.Span<float> outp, " +
               "global::System.ReadOnlySpan<float> weight, global::System.ReadOnlySpan<float> bias, int batch, int start, int end)");
    }
}

/// <summary>Ranges a split pass hands out over one image's map: <see cref="Units"/> rows (or channels, when
/// <see cref="ByChannels"/>) in blocks of <see cref="Block"/>.</summary>
internal readonly record struct MapRanges(bool ByChannels, int Units, int Block);
