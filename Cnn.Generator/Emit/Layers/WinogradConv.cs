using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference through Winograd F(4x4, 3x3) for the convolutions the analysis picked (<see cref="LayerSpec.WinogradInference"/>):
/// the workspace buffers, the call in the layer's inference branch, and the network's transformed weights. The weights
/// are transformed before a forward pass (<c>PrepareWinogradWeights</c>, from <c>BeforeForward</c>, after BatchNorms are
/// folded) into a buffer the network owns, and only when they differ in any bit from the ones the last transform was made
/// from, so a change by an optimiser, a checkpoint load or a write to <c>Parameters</c> or <c>State</c> is always seen.
/// Weights with a BatchNorm folded in learn that from the fold itself (<c>BatchNorm.Refold</c> reports whether any folded
/// bit changed); the others keep a copy of the weights the transform was made from and compare with it.
/// </summary>
internal static class WinogradConv
{
    private const string Kernel = LayerEmitter.Kernels + ".Winograd3x3";

    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    private static string Transformed(LayerSpec l) => "_winogradWeight_" + l.Id;

    private static string Source(LayerSpec l) => "_winogradSource_" + l.Id;

    /// <summary>The field that is true while a layer's transformed weights are those of its current fold (a layer with a
    /// folded BatchNorm only): <c>FoldBatchNorms</c> clears it when the fold changes.</summary>
    public static string FromCurrentFold(LayerSpec l) => "_winogradFromFold_" + l.Id;

    /// <summary>The channel-last padded images and the scratch of one block of tiles, both per image of the micro-batch; they
    /// leave the micro-batch's size (training's) as it was.</summary>
    public static IEnumerable<Scratch> Buffers(LayerSpec l)
    {
        var c = Op(l);
        int tiles = Tiles(l);
        yield return new Scratch(Padded(l), "float", PaddedLength(l), PerBatch: true, BackwardOnly: false, LeftOutOfMicroBatch: true);
        // The kernels transform and multiply a block of at most BlockTiles tiles at a time, whatever the batch; each of the
        // 36 points' planes of transformed input and of products is followed by PlanePad values.
        yield return new Scratch("_winogradScratch_" + l.Id, "float", BlockLength(l, tiles), PerBatch: true, BackwardOnly: false,
            LeftOutOfMicroBatch: true, MostValues: BlockLength(l, BlockTiles(l)));
    }

    /// <summary>Values of a block of <paramref name="tiles"/> tiles: 36 planes of their transformed input and 36 of their
    /// products (or transformed gradients), each followed by <see cref="PlanePad"/> values (<c>Winograd3x3.BlockLength</c>).</summary>
    public static long BlockLength(LayerSpec l, int tiles) => 36L * ((long)tiles * (l.Input.Channels + Op(l).Filters) + 2 * PlanePad);

    /// <summary>Values the runtime's Winograd kernels leave after each point's plane of a block's transformed input and of
    /// its products (<c>Winograd3x3.PlanePad</c>), so that the 36 planes do not start a multiple of 4 KiB apart.</summary>
    public const int PlanePad = 16;

    private static int Tiles(LayerSpec l) => TilesPerImage(l);

    /// <summary>Tiles the runtime's Winograd kernels transform and multiply at once when a call has more: as many as keep a
    /// block's transformed input and products within 512 KiB, at least 32, in whole 8-row blocks (<c>Winograd3x3.BlockTiles</c>).</summary>
    public static int BlockTiles(LayerSpec l) => System.Math.Max(32, 131072 / (36 * (l.Input.Channels + Op(l).Filters)) / 8 * 8);

    /// <summary>Images whose input and output gradient the weight gradient copies channel-last at once: about one block of
    /// tiles (<c>WinogradWeightGradient.ImagesPerGroup</c>).</summary>
    public static int WeightGradientImages(LayerSpec l) => System.Math.Max(1, BlockTiles(l) / TilesPerImage(l));

    /// <summary>The workspace buffer of the images channel-last with zero padding, in whole tiles.</summary>
    public static string Padded(LayerSpec l) => "_winogradPadded_" + l.Id;

    /// <summary>Values of <see cref="Padded"/> per image.</summary>
    public static long PaddedLength(LayerSpec l) => (long)(TiledSide(l.Output.Height) + 2) * (TiledSide(l.Output.Width) + 2) * l.Input.Channels;

    /// <summary>A side of <paramref name="size"/> values in whole 4x4 tiles.</summary>
    public static int TiledSide(int size) => TileSide * ((size + 3) / TileSide);

    /// <summary>Output rows (and columns) of one F(4x4, 3x3) tile.</summary>
    public const int TileSide = 4;

    /// <summary>The output in 4x4 tiles, the last row and column of tiles cut by the edge.</summary>
    public static int TilesPerImage(LayerSpec l) => ((l.Output.Height + 3) / 4) * TilesWide(l);

    /// <summary>Values per image the layer stores in inference: its output, or with a pool taken as the tiles are stored
    /// (<see cref="LayerSpec.FusedPool"/>) the pool's, a quarter of it.</summary>
    private static long StoredLength(LayerSpec l) => l.FusedPool >= 0 ? l.Output.Length / 4 : l.Output.Length;

    /// <summary>Tiles in a row of the output's 4x4 tiles, the last cut by the edge.</summary>
    public static int TilesWide(LayerSpec l) => (l.Output.Width + TileSide - 1) / TileSide;

    /// <summary>The call that replaces the per-image direct convolution: all images of the micro-batch at once.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec l, string target, string reluArg)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length;
        w.Line($"// Winograd F(4x4, 3x3) over the micro-batch (weights transformed by PrepareWinogradWeights); within rounding of the im2col path.");
        w.Line($"{Kernel}.Forward(inp.Slice(0, batch * {inLen}), batch, {Transformed(l)}, bias, {target}.Slice(0, batch * {StoredLength(l)}), " +
               $"ws._winogradPadded_{l.Id}, ws._winogradScratch_{l.Id}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{reluArg});");
    }

    private static string TilesMethod(LayerSpec l) => "ForwardTiles_" + l.Id;

    private static string FiltersMethod(LayerSpec l) => "WinogradFilters_" + l.Id;

    /// <summary>Inference over the threads (fewer images than threads): the channel-last copy (on this thread, or for a
    /// large input by rows over the threads: <see cref="SplitsPadding"/>; for a small one, by each range in its thread's
    /// own copy: <see cref="PadsInRanges"/>), then each
    /// thread transforms, multiplies and transforms back a range of the tiles of all filters, or, for a layer of few
    /// tiles, all tiles of a range of filters (<c>ImageSplit.WinogradFilterBlock</c>; bits of one thread either way).</summary>
    public static void EmitSplit(SourceWriter w, LayerSpec l, string target, LayerSpec? sum)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length;
        bool byTiles = ImageSplit.SplitsTiles(l), oneRange = ImageSplit.WinogradOneRangePerThread(l);
        ImageSplit.OpenWhenSplitting(w);
        w.Line(byTiles ? "// Fewer images than threads: each thread computes a range of the tiles."
                       : $"// Fewer images than threads: each thread computes all {Tiles(l)} tiles per image of a range of filters, reading only their transformed weights.");
        if (oneRange)
            w.Line(!byTiles ? "// One range per thread: each range transforms the whole input."
                   : PadsInRanges(l) ? "// One range per thread: the products of a range are as tall as its tiles, and a range lays out its own input rows."
                   : "// One range per thread: each range reads all the transformed weights, too large for a core's cache.");
        string input = $"ws._winogradPadded_{l.Id}";
        if (PadsInRanges(l))
        {
            // One hand-over: each range lays out the input rows it reads in its thread's own copy (WinogradRanges).
            w.Line(byTiles ? "// Each range lays out the input rows of its tiles channel-last itself, in a copy of its thread's own (one hand-over, no wait for a shared copy)."
                           : "// Each range lays out the whole input channel-last itself, in a copy of its thread's own (one hand-over, no wait for a shared copy).");
            input = $"inp.Slice(0, batch * {inLen})";
        }
        else if (SplitsPadding(l))
        {
            w.Line($"// The channel-last copy first, its {PaddedRows(l)} rows per image shared out too ({l.Input.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} values an image).");
            w.Line($"GeneratedPasses.RunSplit(_{PadMethod(l)} ??= {PadMethod(l)}, ws, inp.Slice(0, batch * {inLen}), ws._winogradPadded_{l.Id}, " +
                   $"default, default, batch, units: batch * {PaddedRows(l)}, block: 1);");
        }
        else
            w.Line($"{Kernel}.PadChannelLast(inp.Slice(0, batch * {inLen}), batch, ws._winogradPadded_{l.Id}, channels: {l.Input.Channels}, " +
                   $"height: {l.Input.Height}, width: {l.Input.Width}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
        string method = byTiles ? TilesMethod(l) : FiltersMethod(l);
        string units = (byTiles ? $"units: batch * {Tiles(l)}, block: {TileBlock(l, sum)}" : $"units: {c.Filters}, block: {ImageSplit.WinogradFilterBlock(l)}")
                       + (oneRange ? ", piecesPerThread: 1" : "");
        if (sum is not null) w.Line($"// With {SumInRanges.Condition(l, sum)}, the ranges also compute {sum.Name} as they store.");
        w.Line($"GeneratedPasses.RunSplit({SumInRanges.Delegate(l, sum, method)}, ws, {input}, {target}.Slice(0, batch * {StoredLength(l)}), " +
               $"{Transformed(l)}, bias, batch, {units});");
        w.Line("return;");
        w.Close();
    }

    private static string PointsMethod(LayerSpec l) => "WinogradPoints_" + l.Id;

    private static string FinishMethod(LayerSpec l) => "WinogradFinish_" + l.Id;

    /// <summary>
    /// Inference over the threads by points (<c>ImageSplit.SplitsPoints</c>), when the images' tiles make one block (else
    /// the code after it runs the layer as one thread would): the channel-last copy on this thread (a small map's), then
    /// ranges of the 36 points multiply their share of the transformed weights into the products all of them share (the
    /// workspace's block scratch, which a split pass does not use otherwise), then ranges of the tiles turn the products
    /// back into outputs. One range per thread each time: every range of points transforms all the tiles' input.
    /// </summary>
    public static void EmitPointSplit(SourceWriter w, LayerSpec l, string target)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length;
        string shape = $"{l.Input.Channels}, {c.Filters}, {l.Output.Height}, {l.Output.Width}";
        w.Open($"if (ws.SplitParts > 1 && {Kernel}.FitsOneBlock(batch, {shape}))");
        w.Line($"// Fewer images than threads: each thread multiplies a range of the 36 points with only their transformed weights (by tiles, every range " +
               $"would read all {(TransformedLength(l) * sizeof(float) / 1024).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} KiB of them), then transforms a range of the tiles back.");
        w.Line($"{Kernel}.PadChannelLast(inp.Slice(0, batch * {inLen}), batch, ws._winogradPadded_{l.Id}, channels: {l.Input.Channels}, " +
               $"height: {l.Input.Height}, width: {l.Input.Width}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
        w.Line($"GeneratedPasses.RunSplit(_{PointsMethod(l)} ??= {PointsMethod(l)}, ws, ws._winogradPadded_{l.Id}, ws._winogradScratch_{l.Id}, " +
               $"{Transformed(l)}, default, batch, units: 36, block: 1, piecesPerThread: 1);");
        w.Line($"GeneratedPasses.RunSplit(_{FinishMethod(l)} ??= {FinishMethod(l)}, ws, ws._winogradScratch_{l.Id}, {target}.Slice(0, batch * {StoredLength(l)}), " +
               $"default, bias, batch, units: batch * {Tiles(l)}, block: 1, piecesPerThread: 1);");
        w.Line("return;");
        w.Close();
    }

    /// <summary>The range methods of <see cref="EmitPointSplit"/>: points [start, end) of every tile's products, with a
    /// scratch of the running thread's own for the transformed input; tiles [start, end) of every filter's output.</summary>
    public static void EmitPointRangeMethods(SourceWriter w, LayerSpec l, string reluArg)
    {
        var c = Op(l);
        w.Line();
        ImageSplit.OpenRange(w, PointsMethod(l), "Points [start, end) of the products of every tile and filter, into the products the ranges share.");
        w.Line($"var scratch = {Kernel}.ThreadScratch({Kernel}.PointScratchLength(batch, {l.Input.Channels}, {l.Output.Height}, {l.Output.Width}));");
        w.Line($"{Kernel}.ForwardPoints(inp, batch, weight, outp, scratch, channels: {l.Input.Channels}, filters: {c.Filters}, " +
               $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstPoint: start, endPoint: end);");
        w.Close();
        w.Line();
        ImageSplit.OpenRange(w, FinishMethod(l), "Tiles [start, end) of every filter from the products of all points: the output transform, the bias and the fused ReLU.");
        w.Line($"{Kernel}.FinishTiles(inp, batch, bias, outp, filters: {c.Filters}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, " +
               $"firstTile: start, endTile: end{reluArg});");
        w.Close();
    }

    private static string PadMethod(LayerSpec l) => "PadRows_" + l.Id;

    /// <summary>Tiles per block of a split by tiles: 1, or a whole row of tiles when the ranges also compute a shortcut's
    /// sum (<see cref="SumInRanges"/>), which they do by whole output rows.</summary>
    private static int TileBlock(LayerSpec l, LayerSpec? sum) => sum is null ? 1 : TilesWide(l);

    /// <summary>Whether a split pass shares out the channel-last copy by rows too: for a layer split by tiles (each
    /// thread's tiles then read mostly the rows that thread copied, where a copy made on the calling thread had the other
    /// threads read their part of it from its core's cache), and for an input of at least
    /// <see cref="ImageSplit.MinimumValues"/> values an image (ResNet-18's 56x56, 28x28 and 14x14 layers: 14-45 us of
    /// copying each on one thread while the others waited), against a second hand-over of about a microsecond.</summary>
    public static bool SplitsPadding(LayerSpec l) => !PadsInRanges(l) && (l.Input.Length >= ImageSplit.MinimumValues || ImageSplit.SplitsTiles(l));

    /// <summary>Whether each range of a split pass lays out the input it reads itself (<c>WinogradRanges</c>) instead of a
    /// copy made first for all: when one image's copy is at most <see cref="RangeCopyMaxBytes"/>, a few microseconds of
    /// copying at most, where a hand-over of its own (or a wait on the calling thread while the others idle) costs as much.</summary>
    public static bool PadsInRanges(LayerSpec l) => PaddedLength(l) * sizeof(float) <= RangeCopyMaxBytes;

    /// <summary>Bytes of one image's channel-last copy up to which each range of a split pass makes the copy it reads
    /// itself: the CIFAR networks' 16x16 and 8x8 layers (41 and 25 KiB with 32 and 64 channels; the CIFAR VGG's 8x8 layers
    /// of 128 channels 50 KiB), not ResNet-18's (330 KiB and more).</summary>
    public const long RangeCopyMaxBytes = 64 * 1024;

    /// <summary>Rows of the padded copy per image: the tiles' input, the tiled output's rows and 2.</summary>
    private static int PaddedRows(LayerSpec l) => TiledSide(l.Output.Height) + 2;

    /// <summary>The range methods of <see cref="EmitSplit"/>: tiles [start, end) of all filters, or filters [start, end) of
    /// all tiles, with a scratch of the running thread's own; and, for a large input, rows [start, end) of its channel-last copy.</summary>
    public static void EmitRangeMethod(SourceWriter w, LayerSpec l, string reluArg, NetworkSpec network, LayerSpec? sum)
    {
        var c = Op(l);
        if (sum is not null) SumInRanges.EmitRange(w, network, l, sum, ImageSplit.SplitsTiles(l) ? TilesMethod(l) : FiltersMethod(l));
        if (SplitsPadding(l))
        {
            w.Line();
            ImageSplit.OpenRange(w, PadMethod(l), "Rows [start, end) of the images' channel-last copy with its zero border.");
            w.Line($"{Kernel}.PadChannelLastRows(inp, batch, outp, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                   $"padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstRow: start, endRow: end);");
            w.Close();
        }
        bool byTiles = ImageSplit.SplitsTiles(l);
        w.Line();
        if (PadsInRanges(l))
        {
            ImageSplit.OpenRange(w, byTiles ? TilesMethod(l) : FiltersMethod(l),
                byTiles ? "Tiles [start, end) of all filters, from the NCHW input: the rows they read laid out by this thread."
                        : "Filters [start, end) of every tile, from the NCHW input: laid out by this thread.");
            string shape = $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, filters: {c.Filters}, padding: {c.Padding}, " +
                           $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}";
            w.Line(byTiles
                ? $"{LayerEmitter.Kernels}.WinogradRanges.ForwardTiles(inp, batch, weight, bias, outp, {shape}, firstTile: start, endTile: end{reluArg});"
                : $"{LayerEmitter.Kernels}.WinogradRanges.ForwardFilters(inp, batch, weight, bias, outp, {shape}, firstFilter: start, endFilter: end{reluArg});");
            w.Close();
            return;
        }
        ImageSplit.OpenRange(w, byTiles ? TilesMethod(l) : FiltersMethod(l),
            byTiles ? "Tiles [start, end) of the images laid out channel-last, all filters." : "Filters [start, end) of every tile of the images laid out channel-last.");
        w.Line($"var scratch = {Kernel}.ThreadScratch({Kernel}.ScratchLength(batch, {l.Input.Channels}, {c.Filters}, {l.Output.Height}, {l.Output.Width}));");
        w.Line(byTiles
            ? $"{Kernel}.ForwardTiles(inp, batch, weight, bias, outp, scratch, channels: {l.Input.Channels}, filters: {c.Filters}, " +
              $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstTile: start, endTile: end{reluArg});"
            : $"{Kernel}.ForwardFilters(inp, batch, weight, bias, outp, scratch, channels: {l.Input.Channels}, filters: {c.Filters}, " +
              $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstFilter: start, endFilter: end{reluArg});");
        w.Close();
    }

    public static bool Any(IEnumerable<LayerSpec> layers) => layers.Any(l => l.WinogradInference);

    /// <summary>The transformed weights, their source copies (made on first use, and for a layer with a folded BatchNorm only
    /// while it runs without the fold) and <c>PrepareWinogradWeights</c>.</summary>
    public static void EmitPreparation(SourceWriter w, NetworkSpec spec, IEnumerable<LayerSpec> body)
    {
        var layers = body.Where(l => l.WinogradInference).ToList();
        w.Line("// ---- Winograd: the transformed weights of the convolutions inference runs as F(4x4, 3x3) ----");
        foreach (var l in layers)
        {
            w.Line($"private float[] {Transformed(l)} = global::System.Array.Empty<float>(), {Source(l)} = global::System.Array.Empty<float>();");
            if (l.FoldedBatchNorm >= 0) w.Line($"private bool {FromCurrentFold(l)};");
        }
        w.Line();
        w.Line("/// <summary>Before an inference pass: each Winograd layer's transformed weights, made again only when its weights differ");
        w.Line("/// in any bit from the ones the last transform was made from. With BatchNorms folded, a layer's folded weights are");
        w.Line("/// transformed again only when FoldBatchNorms found a changed bit in them (or the last transform was not of the fold);");
        w.Line("/// other weights are compared with a copy of the ones last transformed. A layer that runs Winograd only from some number");
        w.Line("/// of images per call is prepared only for a pass of at least that many images: no call of a smaller pass reads its");
        w.Line("/// transform, which is then neither made nor allocated (until a pass that uses it).</summary>");
        w.Open("private void PrepareWinogradWeights(int batchSize)");
        if (spec.HasBatchNorm) w.Line("bool folded = !Training && FoldBatchNorm;");
        foreach (var l in layers)
        {
            bool fromImages = l.WinogradFromImages > 1;
            if (fromImages)
                w.Open($"if (batchSize >= {l.WinogradFromImages}) // else every call of this pass runs {l.Name} as im2col + GEMM");
            if (l.FoldedBatchNorm >= 0) EmitFoldedPreparation(w, l);
            else
            {
                w.Line($"if ({Source(l)}.Length == 0) {{ {Transformed(l)} = new float[{TransformedLength(l)}]; {Source(l)} = new float[{l.WeightLength + 1}]; }}");
                w.Line($"{Kernel}.PrepareWeights({LayerEmitter.Weight(l)}, {Source(l)}, {Transformed(l)}, filters: {Op(l).Filters}, channels: {l.Input.Channels}); // {l.Name}");
            }
            if (fromImages) w.Close();
        }
        w.Close();
    }

    private static long TransformedLength(LayerSpec l) => 36L * Op(l).Filters * l.Input.Channels;

    /// <summary>A layer with a folded BatchNorm: its fold is transformed when FoldBatchNorms reported a change (or the last
    /// transform was of the raw weights), with no copy kept; its raw weights, when the fold is not in use, through the
    /// bitwise comparison with a copy that is dropped again once the fold is transformed.</summary>
    private static void EmitFoldedPreparation(SourceWriter w, LayerSpec l)
    {
        var c = Op(l);
        string args = $"filters: {c.Filters}, channels: {l.Input.Channels}";
        w.Line($"// {l.Name}");
        w.Line($"if ({Transformed(l)}.Length == 0) {Transformed(l)} = new float[{TransformedLength(l)}];");
        w.Open("if (folded)");
        w.Open($"if (!{FromCurrentFold(l)})");
        w.Line($"{Kernel}.TransformWeights({LayerEmitter.FoldedWeight(l)}, {Transformed(l)}, {args}, f0: 0, f1: {c.Filters});");
        w.Line($"{FromCurrentFold(l)} = true;");
        w.Line($"{Source(l)} = global::System.Array.Empty<float>();");
        w.Close();
        w.Close();
        w.Open("else");
        w.Line($"{FromCurrentFold(l)} = false;");
        w.Line($"if ({Source(l)}.Length == 0) {Source(l)} = new float[{l.WeightLength + 1}];");
        w.Line($"{Kernel}.PrepareWeights({LayerEmitter.Weight(l)}, {Source(l)}, {Transformed(l)}, {args});");
        w.Close();
    }
}
