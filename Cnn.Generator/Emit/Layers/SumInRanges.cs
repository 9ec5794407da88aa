using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A shortcut's sum computed by the ranges of the convolution that writes its input, in a split pass of one image: each
/// range, once it has stored its outputs, adds the shortcut to them (and applies the ReLU the sum feeds) while they are in
/// its core's cache, and the sum's own pass returns at once. The sum then costs no hand-over between threads of its own
/// (on two cores about as much as its work: the CIFAR ResNet's 32 x 16 x 16 sums took 1.1 us on one thread and 2.7-3.1
/// split). Each value is summed by the same operations as the sum's own ranges would (element by element, so any cut
/// of the map gives the same bits). Measured on 2-core Zen 4, one image on two threads, layer by layer (<c>Cnn.Latency
/// --layers --split --fixed</c>, one run of each build): the CIFAR ResNet's six sums 19.4 -> 0.6 us and its convolutions
/// before them 2-3 us more each, the pass 243 -> 236 us; ResNet-18's five sums that qualify 70-80 us in all, its pass
/// 12,197 -> 11,870 us. Whole processes alternating (<c>Cnn.EngineRace run</c>, 5 of each) did not resolve the CIFAR
/// ResNet's difference (medians 250 and 256 us, each build spread over 237-420).
/// <para>Only for one image (<c>batch == 1</c>: the ranges of a direct convolution are one image's), with the BatchNorm
/// between them folded (<c>ws.Folded</c>) when there is one, for a convolution whose ranges are rows or channels of the
/// map (direct and Winograd kernels; a Winograd layer split by tiles then hands out whole rows of tiles), and when every
/// operand of the sum is written before the convolution runs (a projection shortcut computed after it is not).</para>
/// </summary>
internal static class SumInRanges
{
    /// <summary>The sum whose input this convolution writes and whose work its ranges take over, or null.</summary>
    public static LayerSpec? Sum(NetworkSpec network, LayerSpec conv)
    {
        if (conv.Kind != LayerKind.Conv || !ImageSplit.Worth(conv) || conv.FusedRelu >= 0 || conv.WinogradFromImages > 1 || !SplitsRowsOrChannels(conv))
            return null;
        foreach (var l in network.Layers)
        {
            if (l.Kind != LayerKind.Add || l.Join is null) continue;
            bool reads = l.InputIndex == conv.Index || conv.FoldedBatchNorm >= 0 && l.InputIndex == conv.FoldedBatchNorm;
            if (!reads || ImageSplit.RangesOfInput(network, l) is null) continue;
            if (l.Join.Sources.Any(s => s >= conv.Index)) return null;
            return l;
        }
        return null;
    }

    /// <summary>The convolution whose ranges take over this sum's work, or null.</summary>
    public static LayerSpec? Writer(NetworkSpec network, LayerSpec sum)
    {
        if (sum.InputIndex < 0 || sum.InputIndex >= network.Layers.Count) return null;
        var writer = network.Layers[sum.InputIndex];
        if (writer.InferredBy >= 0 && writer.InferredBy < network.Layers.Count) writer = network.Layers[writer.InferredBy];
        return Sum(network, writer) == sum ? writer : null;
    }

    /// <summary>The pool that reads the sum's output (after the ReLU it applies) and whose work the same ranges also take
    /// over, or null: its windows must lie within what one range stored. Ranges of channels pool whole planes, so any max
    /// pool, a global average or an average over the whole plane qualifies; ranges of rows take a max pool whose windows
    /// tile the rows without padding (size = stride, 2 or 4, the height a multiple of it), with ranges cut at multiples of
    /// its size (<see cref="RowBlock"/>; a Winograd layer's rows of tiles are 4 rows already).</summary>
    public static LayerSpec? Pool(NetworkSpec network, LayerSpec conv, LayerSpec sum)
    {
        int pooled = sum.FusedRelu >= 0 ? sum.FusedRelu : sum.Index;
        foreach (var l in network.Layers)
        {
            if (l.InputIndex != pooled || l.Index <= pooled) continue;
            bool fits = ByRows(conv)
                ? l.Op is PoolOp { Padding: 0, CeilMode: false } p && l.Kind == LayerKind.MaxPool && p.Stride == p.Size && p.Size is 2 or 4 && l.Input.Height % p.Size == 0
                : l.Kind is LayerKind.MaxPool or LayerKind.GlobalAvgPool || l.Kind == LayerKind.AvgPool && AvgPoolLayer.WholePlane(l);
            if (fits) return l;
        }
        return null;
    }

    /// <summary>The convolution and sum whose ranges take over this pool's work (<see cref="Pool"/>), or null.</summary>
    public static (LayerSpec Conv, LayerSpec Sum)? PoolWriter(NetworkSpec network, LayerSpec pool)
    {
        foreach (var sum in network.Layers)
        {
            if (sum.Kind != LayerKind.Add || Writer(network, sum) is not { } conv) continue;
            if (Pool(network, conv, sum) == pool) return (conv, sum);
        }
        return null;
    }

    /// <summary>For a pool whose work a convolution's ranges take over: the line its forward starts with, returning when
    /// they did.</summary>
    public static void EmitPoolReturn(SourceWriter w, NetworkSpec network, LayerSpec pool)
    {
        if (PoolWriter(network, pool) is not { } writer) return;
        w.Line($"if (!ws.KeepForBackward && ws.SplitParts > 1 && {Condition(writer.Conv, writer.Sum)}) return; // pooled by {writer.Conv.Name}'s ranges as they stored its input");
    }

    /// <summary>Output rows per block of a direct convolution split by rows: the kernel's own block, or, when the ranges
    /// also pool, the least multiple of both the pool's size and the kernel's block (<see cref="ImageSplit.DirectRowBlock"/>),
    /// a constant: every cut then falls between the pool's windows whatever the kernel computes together.</summary>
    public static string RowBlock(NetworkSpec network, LayerSpec conv, string kernelBlock) =>
        PooledRowBlock(network, conv) is int rows ? rows.ToString(System.Globalization.CultureInfo.InvariantCulture) : kernelBlock;

    /// <summary>The block of <see cref="RowBlock"/> when the ranges also pool by rows, else null.</summary>
    public static int? PooledRowBlock(NetworkSpec network, LayerSpec conv) =>
        PoolRows(network, conv) is int size ? LeastCommonMultiple(ImageSplit.DirectRowBlock(conv.Output.Width), size) : null;

    private static int LeastCommonMultiple(int a, int b)
    {
        int x = a, y = b;
        while (y != 0) (x, y) = (y, x % y);
        return a / x * b;
    }

    /// <summary>The size of the pool whose windows this convolution's ranges pool (<see cref="Pool"/>), or null.</summary>
    public static int? PoolRows(NetworkSpec network, LayerSpec conv) =>
        Sum(network, conv) is { } sum && Pool(network, conv, sum) is { Op: PoolOp p } ? p.Size : null;

    /// <summary>The range method a split pass of the convolution hands out: the one that also sums when
    /// <see cref="Condition"/> holds, else <paramref name="inner"/> alone (as a delegate, made once).</summary>
    public static string Delegate(LayerSpec conv, LayerSpec? sum, string inner) =>
        sum is null ? $"_{inner} ??= {inner}" : $"{Condition(conv, sum)} ? (_{Method(inner)} ??= {Method(inner)}) : (_{inner} ??= {inner})";

    /// <summary>When the convolution's ranges take over the sum: one image, and the BatchNorm between them folded.</summary>
    public static string Condition(LayerSpec conv, LayerSpec sum) => sum.InputIndex == conv.Index ? "batch == 1" : "batch == 1 && ws.Folded";

    /// <summary>The range method that runs <paramref name="inner"/> and then sums what it stored.</summary>
    public static string Method(string inner) => inner + "AndSum";

    private static bool SplitsRowsOrChannels(LayerSpec conv) =>
        conv.DirectInference && (conv.WinogradInference ? ImageSplit.SplitsTiles(conv) || ImageSplit.SplitsFilters(conv) : conv.Op is ConvOp { Groups: 1 });

    /// <summary>Whether the convolution's ranges are whole output rows (else whole channels).</summary>
    private static bool ByRows(LayerSpec conv) =>
        conv.WinogradInference ? ImageSplit.SplitsTiles(conv) : ImageSplit.DirectSplitsRows(conv);

    /// <summary>The range method: <paramref name="inner"/> over [start, end), then the sum over the rows or channels it
    /// stored, of image 0.</summary>
    public static void EmitRange(SourceWriter w, NetworkSpec network, LayerSpec conv, LayerSpec sum, string inner)
    {
        var relu = sum.FusedRelu >= 0 ? network.Layers[sum.FusedRelu] : null;
        var input = network.Layers[sum.InputIndex];
        var map = sum.Output;
        long plane = (long)map.Height * map.Width;
        bool rows = ByRows(conv);
        w.Line();
        ImageSplit.OpenRange(w, Method(inner), $"{inner} over [start, end), then {sum.Name}{(relu is null ? "" : $" with {relu.Name} applied")} over the " +
            $"{(rows ? "rows" : "channels")} it stored, of the one image: the same operations as the sum's own ranges.");
        w.Line($"{inner}(ws, inp, outp, weight, bias, batch, start, end);");
        if (rows && conv.WinogradInference)
        {
            // Ranges of whole rows of 4x4 tiles: tile row r holds output rows 4r .. 4r + 3, the last cut by the edge.
            int tilesWide = WinogradConv.TilesWide(conv);
            w.Line($"int firstRow = start / {tilesWide} * {WinogradConv.TileSide}, endRow = global::System.Math.Min(end / {tilesWide} * {WinogradConv.TileSide}, {map.Height});");
        }
        else if (rows) w.Line("int firstRow = start, endRow = end;");
        w.Line($"var sumInput = new global::System.ReadOnlySpan<float>(ws._act_{input.Id}); // {sum.Name}'s input: what this range stored");
        w.Line($"var sumOutput = new global::System.Span<float>(ws._act_{(relu ?? sum).Id});");
        if (rows) EmitRowsSum(w, network, sum, "sumInput", "sumOutput", "firstRow", "endRow");
        else AddLayer.EmitSum(w, sum, network, "sumInput", "sumOutput", $"start * {plane}", $"(end - start) * {plane}", relu is not null);
        if (Pool(network, conv, sum) is { } pool) EmitPool(w, pool, rows);
        w.Close();
    }

    /// <summary>The sum over rows <c>[firstRow, endRow)</c> of every channel (the expressions given), from
    /// <paramref name="input"/> and the shortcuts (from <paramref name="copyOf"/>'s spans where it gives one) into
    /// <paramref name="output"/>, with the ReLU after it when it has one: the operations of the sum's own ranges.</summary>
    internal static void EmitRowsSum(SourceWriter w, NetworkSpec network, LayerSpec sum, string input, string output, string firstRow, string endRow,
        System.Func<LayerSpec, string?>? copyOf = null)
    {
        var map = sum.Output;
        long plane = (long)map.Height * map.Width;
        w.Open($"for (int c = 0; c < {map.Channels}; c++)");
        AddLayer.EmitSum(w, sum, network, input, output, $"c * {plane} + {firstRow} * {map.Width}", $"({endRow} - {firstRow}) * {map.Width}", sum.FusedRelu >= 0, copyOf);
        w.Close();
    }

    /// <summary>The pool over what the range summed (<c>sumOutput</c>): its rows <c>[firstRow, endRow)</c> of every
    /// channel, or its channels <c>[start, end)</c>, with the kernel and operations of the pool's own pass.</summary>
    internal static void EmitPool(SourceWriter w, LayerSpec pool, bool rows)
    {
        var map = pool.Input;
        long planeIn = (long)map.Height * map.Width, planeOut = (long)pool.Output.Height * pool.Output.Width;
        w.Line($"var poolOutput = new global::System.Span<float>(ws._act_{pool.Id}); // {pool.Name}'s output, pooled from what this range summed");
        if (pool.Kind != LayerKind.MaxPool)
        {
            w.Line($"global::CnnGen.Kernels.GlobalPooling.AverageForward(sumOutput.Slice(start * {planeIn}), poolOutput.Slice(start), planes: end - start, plane: {planeIn});");
            return;
        }
        var p = (PoolOp)pool.Op;
        string window = $"size: {p.Size}, stride: {p.Stride}, padding: {p.Padding}";
        if (!rows)
        {
            w.Line($"global::CnnGen.Kernels.Pooling.MaxPoolValues(sumOutput.Slice(start * {planeIn}), poolOutput.Slice(start * {planeOut}), planes: end - start, " +
                   $"height: {map.Height}, width: {map.Width}, {window}, outHeight: {pool.Output.Height}, outWidth: {pool.Output.Width});");
            return;
        }
        // Windows of size x size at stride size: the rows [firstRow, endRow) pool into output rows firstRow / size on.
        w.Open($"for (int c = 0; c < {map.Channels}; c++)");
        w.Line($"global::CnnGen.Kernels.Pooling.MaxPoolValues(sumOutput.Slice(c * {planeIn} + firstRow * {map.Width}, (endRow - firstRow) * {map.Width}), " +
               $"poolOutput.Slice(c * {planeOut} + firstRow / {p.Size} * {pool.Output.Width}), planes: 1, height: endRow - firstRow, width: {map.Width}, {window}, " +
               $"outHeight: (endRow - firstRow) / {p.Size}, outWidth: {pool.Output.Width});");
        w.Close();
    }
}
