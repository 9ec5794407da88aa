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
        if (rows)
        {
            w.Open($"for (int c = 0; c < {map.Channels}; c++)");
            AddLayer.EmitSum(w, sum, network, "sumInput", "sumOutput", $"c * {plane} + firstRow * {map.Width}", $"(endRow - firstRow) * {map.Width}", relu is not null);
            w.Close();
        }
        else AddLayer.EmitSum(w, sum, network, "sumInput", "sumOutput", $"start * {plane}", $"(end - start) * {plane}", relu is not null);
        w.Close();
    }
}
