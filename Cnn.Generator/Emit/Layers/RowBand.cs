using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A band of rows: consecutive direct convolutions of one map size, each split by output rows in a pass of one image,
/// run as one job instead of one per layer. Each thread computes its rows of the band's last output through every layer
/// of the band, and with them the rows beyond its own that the layers after it read (a 3x3 layer's input one row more
/// on each side, so a band of five such layers computes its first layer's rows four further out), each row of each
/// layer with the operations of the layer's own ranges (<c>ForwardRows_</c>, and its sum's and pool's when its ranges
/// take them over: <see cref="SumInRanges"/>). The outputs of every layer but the last go to copies of the thread's
/// own, so the threads meet once per band instead of once per layer, and no thread reads or writes a row of the other's:
/// on two cores whose caches move a line the other has read at about 6 GB/s, the layers of a 32 x 32 map split one by
/// one cost each thread nearly what the whole layer costs one, and so did a band that kept its outputs in the shared maps.
/// <para>For one image (<c>batch == 1</c>, and <c>ws.Folded</c> when a BatchNorm is folded in: the conditions under
/// which the band's sums and ReLUs are taken over by its convolutions' ranges), and only for a chain in which each
/// convolution reads what the one before it stored, every layer between them being one that the convolution's ranges
/// take over (its folded BatchNorm, its ReLU, its shortcut's sum and that sum's ReLU). A band ends at a layer whose
/// outputs a layer after the band reads: its last layer's outputs go to the workspace, each range its own rows (which
/// cover the map), and the band's job names them, so <see cref="OutputSharing"/> keeps them apart from what the band
/// reads while it runs.</para>
/// </summary>
internal static class RowBand
{
    /// <summary>Rows a band's ranges compute again beyond their own, summed over its layers, at most this share (in
    /// percent) of the rows they own on two threads; a chain that would compute more is cut into several bands.</summary>
    public const int MaximumRecomputedPercent = 25;

    /// <summary>The band this convolution starts, in layer order, or null (it starts none).</summary>
    public static IReadOnlyList<LayerSpec>? StartedBy(NetworkSpec network, LayerSpec conv) =>
        Bands(network).FirstOrDefault(b => b[0].Index == conv.Index);

    /// <summary>The band this convolution belongs to after its first layer, or null.</summary>
    public static IReadOnlyList<LayerSpec>? ContinuedBy(NetworkSpec network, LayerSpec conv) =>
        Bands(network).FirstOrDefault(b => b.Skip(1).Any(l => l.Index == conv.Index));

    /// <summary>When the pass runs the band: one image, with the BatchNorms folded when the band has one.</summary>
    public static string Condition(IReadOnlyList<LayerSpec> band) =>
        band.Any(l => l.FoldedBatchNorm >= 0) ? "batch == 1 && ws.Folded" : "batch == 1";

    /// <summary>The band's range method.</summary>
    public static string Method(IReadOnlyList<LayerSpec> band) => "ForwardBand_" + band[0].Id;

    /// <summary>The rows each layer of the band computes beyond a range's own rows of its last output: the paddings of the
    /// layers after it, summed.</summary>
    public static int[] Halos(IReadOnlyList<LayerSpec> band)
    {
        var halos = new int[band.Count];
        for (int i = band.Count - 2; i >= 0; i--) halos[i] = halos[i + 1] + ((ConvOp)band[i + 1].Op).Padding;
        return halos;
    }

    /// <summary>The network's bands, each of two or more convolutions, in layer order.</summary>
    public static IReadOnlyList<IReadOnlyList<LayerSpec>> Bands(NetworkSpec network)
    {
        var bands = new List<IReadOnlyList<LayerSpec>>();
        var current = new List<LayerSpec>();
        foreach (var l in network.Layers)
        {
            if (!Step(l)) continue;
            if (current.Count > 0 && Follows(network, current[current.Count - 1], l) && Affordable(current, l)) current.Add(l);
            else
            {
                Cut(network, current, bands);
                current = new List<LayerSpec> { l };
            }
        }
        Cut(network, current, bands);
        return bands;
    }

    /// <summary>Adds the bands of two or more layers that <paramref name="chain"/> makes: a band ends at the first layer
    /// whose outputs a layer after the band reads (a thread keeps its own copies of the other layers' outputs).</summary>
    private static void Cut(NetworkSpec network, List<LayerSpec> chain, List<IReadOnlyList<LayerSpec>> bands)
    {
        for (int first = 0; first < chain.Count;)
        {
            int last = chain.Count - 1;
            for (bool cut = true; cut;)
            {
                cut = false;
                var members = new HashSet<int>(chain.Skip(first).Take(last - first + 1).SelectMany(l => TakenOver(network, l).Append(l.Index)));
                for (int i = first; i < last && !cut; i++)
                    if (Outputs(network, new[] { chain[i] }).Any(t => ReadOutside(network, t, members))) { last = i; cut = true; }
            }
            if (last > first) bands.Add(chain.GetRange(first, last - first + 1));
            first = last + 1;
        }
    }

    /// <summary>Whether a layer other than <paramref name="members"/> reads <paramref name="t"/>'s output, or it is the
    /// network's output.</summary>
    private static bool ReadOutside(NetworkSpec network, LayerSpec t, HashSet<int> members) =>
        t.Index == network.OutputLayer
        || network.Layers.Any(l => !members.Contains(l.Index) && (l.InputIndex == t.Index || l.Join is { } j && j.Sources.Contains(t.Index)));

    /// <summary>A direct convolution that a split pass runs by ranges of output rows, computing a map of its input's size
    /// (odd kernel, stride 1, padding half the kernel), so that each output row reads the input rows around it.</summary>
    private static bool Step(LayerSpec l) =>
        l.Kind == LayerKind.Conv && l.Op is ConvOp { Groups: 1, Stride: 1, Dilation: 1 } c && c.Kernel % 2 == 1 && c.Padding == c.Kernel / 2
        && l.DirectInference && !l.WinogradInference && l.WinogradFromImages <= 1 && l.FusedPool < 0 && l.ExpandedBy < 0
        && ImageSplit.Worth(l) && ImageSplit.DirectSplitsRows(l)
        && l.Output.Height == l.Input.Height && l.Output.Width == l.Input.Width;

    /// <summary>Whether <paramref name="next"/> reads what <paramref name="previous"/>'s ranges store last, with nothing
    /// but the layers those ranges take over between them, and <paramref name="previous"/>'s ranges pool nothing (a
    /// range widened by the rows after it would cut a pool's windows).</summary>
    private static bool Follows(NetworkSpec network, LayerSpec previous, LayerSpec next)
    {
        if (next.InputIndex != Stored(network, previous) || next.Input != previous.Output || SumInRanges.PoolRows(network, previous) is not null) return false;
        var taken = TakenOver(network, previous);
        for (int i = previous.Index + 1; i < next.Index; i++)
            if (!taken.Contains(i)) return false;
        return true;
    }

    /// <summary>Whether the band with <paramref name="next"/> added computes again at most
    /// <see cref="MaximumRecomputedPercent"/> of the rows its two ranges own.</summary>
    private static bool Affordable(List<LayerSpec> band, LayerSpec next)
    {
        var widened = new List<LayerSpec>(band) { next };
        long again = Halos(widened).Sum();
        long owned = (long)widened.Count * next.Output.Height / 2;
        return again * 100 <= MaximumRecomputedPercent * owned;
    }

    /// <summary>The layer whose output a convolution's ranges store last in the band's pass: its sum's ReLU, its sum, its
    /// ReLU, its folded BatchNorm, or itself.</summary>
    private static int Stored(NetworkSpec network, LayerSpec conv)
    {
        if (SumInRanges.Sum(network, conv) is { } sum) return sum.FusedRelu >= 0 ? sum.FusedRelu : sum.Index;
        return Written(conv);
    }

    /// <summary>The layer whose output the convolution itself writes in the band's pass (ahead of any sum).</summary>
    private static int Written(LayerSpec conv) =>
        conv.FusedRelu >= 0 ? conv.FusedRelu : conv.FoldedBatchNorm >= 0 ? conv.FoldedBatchNorm : conv.Index;

    /// <summary>The layers whose work the convolution's ranges do in the band's pass.</summary>
    private static HashSet<int> TakenOver(NetworkSpec network, LayerSpec conv)
    {
        var taken = new HashSet<int> { conv.FoldedBatchNorm, conv.FusedRelu };
        if (SumInRanges.Sum(network, conv) is { } sum)
        {
            taken.Add(sum.Index);
            taken.Add(sum.FusedRelu);
        }
        taken.Remove(-1);
        return taken;
    }

    /// <summary>Inside a split pass of the band's first convolution: when <see cref="Condition"/> holds, runs the band
    /// over the last map's rows, one range per thread, and returns.</summary>
    public static void EmitRun(SourceWriter w, NetworkSpec network, IReadOnlyList<LayerSpec> band)
    {
        var first = band[0];
        var last = band[band.Count - 1];
        var halos = Halos(band);
        w.Open($"if ({Condition(band)})");
        var widened = halos.Take(band.Count - 1).ToList();
        w.Line($"// {Names(band)} run as one band of rows: each thread computes its rows of {last.Name}'s output through {(band.Count == 2 ? "both" : $"all {band.Count}")} layers, and the rows " +
               $"beyond them that the layers after each read ({string.Join(", ", widened)} {(widened.Count == 1 && widened[0] == 1 ? "row" : "rows")} out), " +
               $"so the threads meet once, not {(band.Count == 2 ? "twice" : $"{band.Count} times")}, and read no row the other wrote.");
        string rowBlock = SumInRanges.RowBlock(network, last, $"{LayerEmitter.Kernels}.DirectConv.RowBlock({last.Output.Width})");
        w.Line($"GeneratedPasses.RunSplit(_{Method(band)} ??= {Method(band)}, ws, inp.Slice(0, {first.Input.Length}), default, default, default, 1, " +
               $"units: {last.Output.Height}, block: {rowBlock}, piecesPerThread: 1);");
        w.Line("return;");
        w.Close();
    }

    /// <summary>In a split pass of a convolution after the band's first: returns when the band computed it.</summary>
    public static void EmitReturn(SourceWriter w, IReadOnlyList<LayerSpec> band) =>
        w.Line($"if ({Condition(band)}) return; // computed in {band[0].Name}'s band of rows");

    /// <summary>The band's range method: rows [start, end) of its last outputs, each layer's rows widened by its halo.
    /// The outputs of every layer but the last go to this thread's own copies (no other thread reads or writes them);
    /// the last layer's, which the layers after the band read, to the workspace, its own rows only.</summary>
    public static void EmitRange(SourceWriter w, NetworkSpec network, IReadOnlyList<LayerSpec> band)
    {
        var last = band[band.Count - 1];
        var halos = Halos(band);
        var copies = Copies(network, band);
        int height = last.Output.Height;
        w.Line($"[global::System.ThreadStatic] private static float[]? t_{Method(band)};");
        ImageSplit.OpenRange(w, Method(band), $"Rows [start, end) of {last.Name}'s output through {Names(band)}, each layer's rows widened by the rows the layers after it read; one image.");
        long length = copies.Sum(c => c.Output.Length);
        w.Line($"// This thread's own copies of {string.Join(", ", copies.Select(c => c.Name))} ({length.ToString("N0", CultureInfo.InvariantCulture)} values, made once per thread); the band's last layer writes " +
               $"{string.Join(", ", Outputs(network, band).Skip(copies.Count).Select(o => "_act_" + o.Id))} in the workspace.");
        w.Line($"var copies = t_{Method(band)} ??= new float[{length}];");
        long offset = 0;
        foreach (var c in copies)
        {
            w.Line($"var {Copy(c)} = new global::System.Span<float>(copies, {offset}, {c.Output.Length});");
            offset += c.Output.Length;
        }
        foreach (var t in Outputs(network, band).Skip(copies.Count).Where(t => t.Kind != LayerKind.MaxPool))
            w.Line($"var {Shared(t)} = new global::System.Span<float>(ws._act_{t.Id});");
        var copied = new HashSet<int>(copies.Select(c => c.Index));
        string Tensor(LayerSpec t) => copied.Contains(t.Index) ? Copy(t) : Shared(t);
        for (int i = 0; i < band.Count; i++)
        {
            var l = band[i];
            string from = halos[i] == 0 ? "start" : $"global::System.Math.Max(start - {halos[i]}, 0)";
            string to = halos[i] == 0 ? "end" : $"global::System.Math.Min(end + {halos[i]}, {height})";
            w.Line($"int from{i} = {from}, to{i} = {to}; // {l.Name}'s rows" + (halos[i] == 0 ? "" : $": {halos[i]} more on each side"));
        }
        for (int i = 0; i < band.Count; i++)
        {
            var l = band[i];
            string input = i == 0 ? "inp" : Tensor(network.Layers[l.InputIndex]);
            var written = network.Layers[Written(l)];
            string bias = l.FoldedBatchNorm >= 0 ? LayerEmitter.FoldedBias(l) : LayerEmitter.Bias(l);
            string weight = l.FoldedBatchNorm >= 0 ? LayerEmitter.FoldedWeight(l) : LayerEmitter.Weight(l);
            w.Line($"{ConvLayer.RowsMethod(l)}(ws, {input}, {Tensor(written)}, {weight}, {bias}, 1, from{i}, to{i});");
            if (SumInRanges.Sum(network, l) is not { } sum) continue;
            var relu = sum.FusedRelu >= 0 ? network.Layers[sum.FusedRelu] : null;
            w.Line($"// {sum.Name}{(relu is null ? "" : $" with {relu.Name} applied")} over the same rows: the operations of its own ranges.");
            SumInRanges.EmitRowsSum(w, network, sum, Tensor(written), Tensor(relu ?? sum), $"from{i}", $"to{i}", source => copied.Contains(source.Index) ? Copy(source) : null);
            if (SumInRanges.Pool(network, l, sum) is { } pool)
            {
                w.Line($"int firstRow = from{i}, endRow = to{i};");
                w.Line($"var sumOutput = {Shared(relu ?? sum)};");
                SumInRanges.EmitPool(w, pool, rows: true);
            }
        }
        w.Close();
    }

    /// <summary>The outputs a thread keeps its own copies of: those of every layer of the band but the last.</summary>
    private static List<LayerSpec> Copies(NetworkSpec network, IReadOnlyList<LayerSpec> band) =>
        Outputs(network, band.Take(band.Count - 1).ToList()).ToList();

    private static string Copy(LayerSpec t) => "own_" + t.Id;

    private static string Shared(LayerSpec t) => "act_" + t.Id;

    /// <summary>Every output the band's ranges write, in the order they write them: each convolution's (or its folded
    /// BatchNorm's or ReLU's), its sum's (or the ReLU after it) and the pool's its ranges take over.</summary>
    private static IEnumerable<LayerSpec> Outputs(NetworkSpec network, IReadOnlyList<LayerSpec> band)
    {
        foreach (var l in band)
        {
            yield return network.Layers[Written(l)];
            if (SumInRanges.Sum(network, l) is not { } sum) continue;
            yield return network.Layers[sum.FusedRelu >= 0 ? sum.FusedRelu : sum.Index];
            if (SumInRanges.Pool(network, l, sum) is { } pool) yield return pool;
        }
    }

    private static string Names(IReadOnlyList<LayerSpec> band) => band.Count == 2
        ? $"{band[0].Name} and {band[1].Name}"
        : $"{band[0].Name} to {band[band.Count - 1].Name}";
}
