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
    /// <summary>When the two layers run as one.</summary>
    private const string Condition = "ws.Folded";

    /// <summary>The kernel's scratch for one image: <c>ExpandDepthwise.ScratchLength</c>'s formula (the band's input rows
    /// of every input and expanded channel, then the depthwise plane of one band).</summary>
    public static long ScratchLength(LayerSpec depthwise)
    {
        var c = (ConvOp)depthwise.Op;
        long planeRows = (depthwise.ExpansionBand - 1) * c.Stride + c.Kernel;
        long rows = System.Math.Min(depthwise.Input.Height, planeRows);
        return (long)(depthwise.ExpansionInputChannels + depthwise.Input.Channels) * rows * depthwise.Input.Width + DepthwiseInference.PlaneLength(depthwise, planeRows);
    }

    public static Scratch Buffer(LayerSpec depthwise) =>
        new("_expand_" + depthwise.Id, "float", ScratchLength(depthwise), PerBatch: false, BackwardOnly: false);

    /// <summary>At the top of the expansion's forward method: nothing to do when the depthwise layer computes it.</summary>
    public static void EmitSkip(SourceWriter w, LayerSpec expansion, NetworkSpec network)
    {
        var depthwise = network.Layers[expansion.ExpandedBy];
        w.Line($"if ({Condition}) return; // {depthwise.Name} computes this expansion, a band of rows at a time, as it needs it");
    }

    /// <summary>In the depthwise layer's inference branch, after its folded <c>weight</c> and <c>bias</c> and its output
    /// <paramref name="target"/> are set: the expansion and this convolution over each image, then return.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec depthwise, NetworkSpec network, string target)
    {
        var e = network.Layers[depthwise.Expansion];
        var c = (ConvOp)depthwise.Op;
        var relu = network.Layers[e.FusedRelu];
        var dwRelu = depthwise.FusedRelu >= 0 ? network.Layers[depthwise.FusedRelu] : null;
        int inLen = (int)e.Input.Length, outLen = (int)depthwise.Output.Length;
        string source = PassEmitter.Input(network, e);
        w.Open($"if ({Condition})");
        w.Line($"// {e.Name} (with {network.Layers[e.FoldedBatchNorm].Name} folded in and {relu.Name} applied as it stores) computed here from its input, " +
               $"for {depthwise.ExpansionBand} output rows at a time (the {System.Math.Min(e.Output.Height, (depthwise.ExpansionBand - 1) * c.Stride + c.Kernel)} input rows they read, " +
               $"{(long)e.Output.Channels * System.Math.Min(e.Output.Height, (depthwise.ExpansionBand - 1) * c.Stride + c.Kernel) * e.Output.Width * 4 / 1024} KiB expanded), " +
               "each band convolved at once while it is in cache; the same bits as the two layers one after the other.");
        w.Line($"var expandWeight = new global::System.ReadOnlySpan<float>(_folded, {e.FoldOffset}, {e.WeightLength}); // [{e.Output.Channels}, {e.Input.Channels}]");
        w.Line($"var expandBias = new global::System.ReadOnlySpan<float>(_folded, {e.FoldOffset + e.WeightLength}, {e.BiasSlots});");
        if (ImageSplit.Worth(depthwise))
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line($"// Fewer images than threads: each thread expands and convolves a range of the output rows, in bands of at most {depthwise.ExpansionBand} rows in its own scratch.");
            w.Line(ImageSplit.Run(RowsMethod(depthwise), "inp", target, "weight", "bias", "batch", depthwise.Output.Height, "1"));
            w.Line("return;");
            w.Close();
        }
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {LayerEmitter.Kernels}.ExpandDepthwise.Forward(new global::System.ReadOnlySpan<float>({source}, b * {inLen}, {inLen}), expandWeight, expandBias, {LayerEmitter.FusedActivationKind(relu)}, " +
               $"weight, bias, {(dwRelu is null ? $"{LayerEmitter.Kernels}.FusedActivation.None" : LayerEmitter.FusedActivationKind(dwRelu))}, {target}.Slice(b * {outLen}, {outLen}), ws._expand_{depthwise.Id}, " +
               $"inChannels: {e.Input.Channels}, channels: {e.Output.Channels}, height: {e.Output.Height}, width: {e.Output.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {depthwise.Output.Height}, outWidth: {depthwise.Output.Width}, bandRows: {depthwise.ExpansionBand});");
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
        var c = (ConvOp)depthwise.Op;
        var relu = network.Layers[e.FusedRelu];
        var dwRelu = depthwise.FusedRelu >= 0 ? network.Layers[depthwise.FusedRelu] : null;
        int inLen = (int)e.Input.Length, outLen = (int)depthwise.Output.Length;
        w.Line();
        ImageSplit.OpenRange(w, RowsMethod(depthwise), $"Output rows [start, end) of every image: {e.Name} of the input rows they read, then this convolution, in bands of at most {depthwise.ExpansionBand} rows.");
        w.Line($"var expandWeight = new global::System.ReadOnlySpan<float>(_folded, {e.FoldOffset}, {e.WeightLength}); // [{e.Output.Channels}, {e.Input.Channels}]");
        w.Line($"var expandBias = new global::System.ReadOnlySpan<float>(_folded, {e.FoldOffset + e.WeightLength}, {e.BiasSlots});");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {LayerEmitter.Kernels}.ExpandDepthwise.ForwardRows(new global::System.ReadOnlySpan<float>({PassEmitter.Input(network, e)}, b * {inLen}, {inLen}), expandWeight, expandBias, {LayerEmitter.FusedActivationKind(relu)}, " +
               $"weight, bias, {(dwRelu is null ? $"{LayerEmitter.Kernels}.FusedActivation.None" : LayerEmitter.FusedActivationKind(dwRelu))}, outp.Slice(b * {outLen}, {outLen}), " +
               $"inChannels: {e.Input.Channels}, channels: {e.Output.Channels}, height: {e.Output.Height}, width: {e.Output.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {depthwise.Output.Height}, outWidth: {depthwise.Output.Width}, bandRows: {depthwise.ExpansionBand}, firstRow: start, endRow: end);");
        w.Close();
    }
}
