using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference of a stem (a stride-2 convolution of few input channels, its BatchNorm folded in, its ReLU or ReLU6 fused)
/// together with the depthwise convolution that reads it, where the analysis chose so (<c>StemFusion</c>): the stem's
/// method computes both with the runtime's <c>StemDepthwise</c>, a band of the depthwise layer's output rows at a time
/// (and the 1x1 projection after them, where the analysis chose that too), and the later layers' own methods return at
/// once. Both conditions are the same expression, checked in each
/// method: the BatchNorms are folded (evaluation) and the machine runs the kernel (AVX-512). A pass that splits one image
/// over threads hands each thread a range of the depthwise layer's output rows (<c>StemDepthwise.ForwardRows</c>, the
/// same bits). Otherwise both layers run as before.
/// </summary>
internal static class StemInference
{
    /// <summary>When the stem computes the layers after it.</summary>
    private static string Condition(LayerSpec stem, NetworkSpec network)
    {
        var c = (ConvOp)network.Layers[stem.StemDepthwise].Op;
        return $"ws.Folded && {LayerEmitter.Kernels}.StemDepthwise.ChannelLast({c.Filters}, {c.Kernel}, {c.Stride})";
    }

    /// <summary>At the top of the depthwise layer's (or the projection's) forward method: nothing to do when the stem
    /// computes it.</summary>
    public static void EmitSkip(SourceWriter w, LayerSpec computed, NetworkSpec network)
    {
        var stem = network.Layers[computed.ComputedByStem];
        w.Line($"if ({Condition(stem, network)}) return; // {stem.Name} computes this layer too, a band of rows at a time, from the rows before it in cache");
    }

    /// <summary>In the stem's forward method, after its folded <c>weight</c> and <c>bias</c> are set: both layers over
    /// each image, into the depthwise layer's fused activation's output, then return.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec stem, NetworkSpec network)
    {
        var depthwise = network.Layers[stem.StemDepthwise];
        var stemRelu = network.Layers[stem.FusedRelu];
        var depthwiseRelu = network.Layers[depthwise.FusedRelu];
        var projection = stem.StemProjection >= 0 ? network.Layers[stem.StemProjection] : null;
        long rows = (stem.StemBand - 1) * ((ConvOp)depthwise.Op).Stride + 3;
        w.Open($"if ({Condition(stem, network)})");
        w.Line($"// {depthwise.Name} (with {network.Layers[depthwise.FoldedBatchNorm].Name} folded in and {depthwiseRelu.Name} applied as it stores) computed here too, " +
               $"{stem.StemBand} of its output rows at a time: the {rows} rows of this layer's output (with {stemRelu.Name} applied) that a band reads go " +
               $"straight into channel-last rows in cache ({(long)stem.Output.Channels * rows * stem.Output.Width * 4 / 1024} KiB), computed once, " +
               "and never to memory" +
               (projection is null ? "" : $"; then {projection.Name} (with {network.Layers[projection.FoldedBatchNorm].Name} folded in) on each band's outputs, which are not stored either") +
               $"; the same bits as the {(projection is null ? "two" : "three")} layers one after the other.");
        EmitWeights(w, stem, network);
        string output = projection is null ? "depthwiseOutput" : "projectionOutput";
        w.Line(projection is null
            ? $"var depthwiseOutput = new global::System.Span<float>(ws._act_{depthwiseRelu.Id});"
            : $"var projectionOutput = new global::System.Span<float>(ws._act_{network.Layers[projection.FoldedBatchNorm].Id});");
        ImageSplit.OpenWhenSplitting(w);
        w.Line($"// Fewer images than threads: each thread computes a range of {depthwise.Name}'s output rows{(projection is null ? "" : " and their projection")}, in bands in its own scratch.");
        w.Line(ImageSplit.Run(RowsMethod(stem), "inp", output, "weight", "bias", "batch", depthwise.Output.Height, "1"));
        w.Line("return;");
        w.Close();
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line("    " + Call(stem, network, "Forward", output, ");"));
        w.Line("return;");
        w.Close();
    }

    private static string RowsMethod(LayerSpec stem) => "ForwardStemRows_" + stem.Id;

    /// <summary>The range method of a split pass: the depthwise layer's output rows [start, end) of every image (and
    /// their projection).</summary>
    public static void EmitRangeMethod(SourceWriter w, LayerSpec stem, NetworkSpec network)
    {
        var depthwise = network.Layers[stem.StemDepthwise];
        w.Line();
        ImageSplit.OpenRange(w, RowsMethod(stem), $"Output rows [start, end) of {depthwise.Name} for every image, with the rows of this layer's output they read" +
            (stem.StemProjection >= 0 ? $" and then {network.Layers[stem.StemProjection].Name}" : "") + $", in bands of at most {stem.StemBand} rows.");
        EmitWeights(w, stem, network);
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line("    " + Call(stem, network, "ForwardRows", "outp", ", firstRow: start, endRow: end);"));
        w.Close();
    }

    /// <summary>The depthwise layer's folded weights and biases, <c>depthwiseWeight</c> and <c>depthwiseBias</c>, and
    /// the projection's, <c>projectionWeight</c> and <c>projectionBias</c>.</summary>
    private static void EmitWeights(SourceWriter w, LayerSpec stem, NetworkSpec network)
    {
        var depthwise = network.Layers[stem.StemDepthwise];
        w.Line($"var depthwiseWeight = {LayerEmitter.FoldedWeight(depthwise)}; // [{depthwise.Output.Channels}, 9]");
        w.Line($"var depthwiseBias = {LayerEmitter.FoldedBias(depthwise)};");
        if (stem.StemProjection < 0) return;
        var projection = network.Layers[stem.StemProjection];
        w.Line($"var projectionWeight = {LayerEmitter.FoldedWeight(projection)}; // [{projection.Output.Channels}, {projection.Input.Channels}]");
        w.Line($"var projectionBias = {LayerEmitter.FoldedBias(projection)};");
    }

    /// <summary>The call of <c>StemDepthwise.</c><paramref name="method"/> for image <c>b</c>, into <paramref name="output"/>,
    /// with <paramref name="end"/> after the band.</summary>
    private static string Call(LayerSpec stem, NetworkSpec network, string method, string output, string end)
    {
        var depthwise = network.Layers[stem.StemDepthwise];
        var projection = stem.StemProjection >= 0 ? network.Layers[stem.StemProjection] : null;
        var s = (ConvOp)stem.Op;
        var c = (ConvOp)depthwise.Op;
        int inLen = (int)stem.Input.Length, outLen = (int)(projection ?? depthwise).Output.Length;
        return $"{LayerEmitter.Kernels}.StemDepthwise.{method}{(projection is null ? "" : "Projected")}(inp.Slice(b * {inLen}, {inLen}), weight, bias, " +
               $"{LayerEmitter.FusedActivationKind(network.Layers[stem.FusedRelu])}, depthwiseWeight, depthwiseBias, {LayerEmitter.FusedActivationKind(network.Layers[depthwise.FusedRelu])}, " +
               (projection is null ? "" : $"projectionWeight, projectionBias, {LayerEmitter.Kernels}.FusedActivation.None, ") +
               $"{output}.Slice(b * {outLen}, {outLen}), " +
               $"inChannels: {stem.Input.Channels}, inHeight: {stem.Input.Height}, inWidth: {stem.Input.Width}, stemKernel: {s.Kernel}, stemStride: {s.Stride}, " +
               $"stemPadding: {s.Padding}, channels: {c.Filters}, height: {depthwise.Input.Height}, width: {depthwise.Input.Width}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {depthwise.Output.Height}, outWidth: {depthwise.Output.Width}, " +
               (projection is null ? "" : $"projectChannels: {projection.Output.Channels}, ") + $"bandRows: {stem.StemBand}{end}";
    }
}
