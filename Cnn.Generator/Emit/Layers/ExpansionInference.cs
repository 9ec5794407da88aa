using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference of a 1x1 expansion (its BatchNorm folded in, its ReLU or ReLU6 fused) together with the depthwise
/// convolution that reads it, where the analysis chose so (<c>ExpansionFusion</c>): the depthwise layer computes the
/// expanded tensor a band of rows at a time with the runtime's <c>ExpandDepthwise</c>, and the expansion's own
/// method returns at once. Both conditions are the same expression, checked in each method: the BatchNorms are folded
/// (evaluation). A pass that splits one image over threads hands each thread a range of the output rows, which it
/// expands and convolves in its own bands (<c>ExpandDepthwise.ForwardRows</c>, the same bits). Otherwise both layers run
/// as before.
/// </summary>
internal static class ExpansionInference
{
    /// <summary>When the two layers run as one: the BatchNorms folded, and for a smaller expansion
    /// (<see cref="LayerSpec.ExpansionChannelLastOnly"/>) a machine that expands channel-last.</summary>
    private static string Condition(LayerSpec depthwise, NetworkSpec network)
    {
        if (!depthwise.ExpansionChannelLastOnly) return "ws.Folded";
        var c = (ConvOp)depthwise.Op;
        return $"ws.Folded && {LayerEmitter.Kernels}.ExpandDepthwise.ChannelLast({network.Layers[depthwise.Expansion].Output.Channels}, {c.Kernel}, {c.Stride})";
    }

    /// <summary>The kernel's scratch for one image: <c>ExpandDepthwise.ScratchLength</c>'s formula (the band's input rows
    /// of every input and expanded channel, then the depthwise plane of one band).</summary>
    public static long ScratchLength(LayerSpec depthwise)
    {
        var c = (ConvOp)depthwise.Op;
        long planeRows = (depthwise.ExpansionBand - 1) * c.Stride + c.Kernel;
        return (long)(depthwise.ExpansionInputChannels + depthwise.Input.Channels) * BandInputRows(depthwise) * depthwise.Input.Width + DepthwiseInference.PlaneLength(depthwise, planeRows);
    }

    public static Scratch Buffer(LayerSpec depthwise) =>
        new("_expand_" + depthwise.Id, "float", ScratchLength(depthwise), PerBatch: false, BackwardOnly: false);

    /// <summary>At the top of the expansion's forward method: nothing to do when the depthwise layer computes it.</summary>
    public static void EmitSkip(SourceWriter w, LayerSpec expansion, NetworkSpec network)
    {
        var depthwise = network.Layers[expansion.ExpandedBy];
        w.Line($"if ({Condition(depthwise, network)}) return; // {depthwise.Name} computes this expansion, a band of rows at a time, as it needs it");
    }

    /// <summary>In the depthwise layer's inference branch, after its folded <c>weight</c> and <c>bias</c> and its output
    /// <paramref name="target"/> are set: the expansion and this convolution over each image, then return.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec depthwise, NetworkSpec network, string target)
    {
        var e = network.Layers[depthwise.Expansion];
        long rows = BandInputRows(depthwise);
        w.Open($"if ({Condition(depthwise, network)})");
        w.Line($"// {e.Name} (with {network.Layers[e.FoldedBatchNorm].Name} folded in and {network.Layers[e.FusedRelu].Name} applied as it stores) computed here from its input, " +
               $"for {depthwise.ExpansionBand} output rows at a time (the {rows} input rows they read, " +
               $"{(long)e.Output.Channels * rows * e.Output.Width * 4 / 1024} KiB expanded), " +
               "each band convolved at once while it is in cache; the same bits as the two layers one after the other.");
        EmitExpandWeights(w, e);
        if (ImageSplit.Worth(depthwise))
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line($"// Fewer images than threads: each thread expands and convolves a range of the output rows, in bands of at most {depthwise.ExpansionBand} rows in its own scratch.");
            w.Line(ImageSplit.Run(RowsMethod(depthwise), "inp", target, "weight", "bias", "batch", depthwise.Output.Height, "1"));
            w.Line("return;");
            w.Close();
        }
        w.Line("for (int b = 0; b < batch; b++)");
        // The channel-last path keeps a thread's own scratch: none here.
        w.Line("    " + Call(depthwise, network, "Forward", target, depthwise.ExpansionChannelLastOnly ? "default, " : $"ws._expand_{depthwise.Id}, ", ");"));
        w.Line("return;");
        w.Close();
    }

    private static string RowsMethod(LayerSpec depthwise) => "ForwardExpandedRows_" + depthwise.Id;

    /// <summary>The range method of a split pass: output rows [start, end) of every image, each thread's input rows
    /// expanded in its own scratch; written when the layer splits (<c>ImageSplit.Worth</c>).</summary>
    public static void EmitRangeMethod(SourceWriter w, LayerSpec depthwise, NetworkSpec network)
    {
        if (!ImageSplit.Worth(depthwise)) return;
        var e = network.Layers[depthwise.Expansion];
        w.Line();
        ImageSplit.OpenRange(w, RowsMethod(depthwise), $"Output rows [start, end) of every image: {e.Name} of the input rows they read, then this convolution, in bands of at most {depthwise.ExpansionBand} rows.");
        EmitExpandWeights(w, e);
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line("    " + Call(depthwise, network, "ForwardRows", "outp", "", ", firstRow: start, endRow: end);"));
        w.Close();
    }

    /// <summary>Input rows one band reads, at most (<c>ExpandDepthwise</c>'s own count).</summary>
    private static long BandInputRows(LayerSpec depthwise)
    {
        var c = (ConvOp)depthwise.Op;
        return System.Math.Min(depthwise.Input.Height, (depthwise.ExpansionBand - 1) * c.Stride + c.Kernel);
    }

    /// <summary>The expansion's folded weights and biases, <c>expandWeight</c> and <c>expandBias</c>.</summary>
    private static void EmitExpandWeights(SourceWriter w, LayerSpec e)
    {
        w.Line($"var expandWeight = {LayerEmitter.FoldedWeight(e)}; // [{e.Output.Channels}, {e.Input.Channels}]");
        w.Line($"var expandBias = {LayerEmitter.FoldedBias(e)};");
    }

    /// <summary>The call of <c>ExpandDepthwise.</c><paramref name="method"/> for image <c>b</c>, into <paramref name="output"/>,
    /// with <paramref name="scratch"/> (an argument and its comma, or nothing) and <paramref name="end"/> after the band.</summary>
    private static string Call(LayerSpec depthwise, NetworkSpec network, string method, string output, string scratch, string end)
    {
        var e = network.Layers[depthwise.Expansion];
        var c = (ConvOp)depthwise.Op;
        var dwRelu = depthwise.FusedRelu >= 0 ? network.Layers[depthwise.FusedRelu] : null;
        int inLen = (int)e.Input.Length, outLen = (int)depthwise.Output.Length;
        return $"{LayerEmitter.Kernels}.ExpandDepthwise.{method}(new global::System.ReadOnlySpan<float>({PassEmitter.Input(network, e)}, b * {inLen}, {inLen}), expandWeight, expandBias, " +
               $"{LayerEmitter.FusedActivationKind(network.Layers[e.FusedRelu])}, weight, bias, " +
               $"{(dwRelu is null ? $"{LayerEmitter.Kernels}.FusedActivation.None" : LayerEmitter.FusedActivationKind(dwRelu))}, {output}.Slice(b * {outLen}, {outLen}), {scratch}" +
               $"inChannels: {e.Input.Channels}, channels: {e.Output.Channels}, height: {e.Output.Height}, width: {e.Output.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {depthwise.Output.Height}, outWidth: {depthwise.Output.Width}, bandRows: {depthwise.ExpansionBand}{end}";
    }
}
