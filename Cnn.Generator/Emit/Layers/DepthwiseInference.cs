using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference of a depthwise convolution (<c>Groups</c> = channels = filters, no dilation) with the runtime's direct
/// kernel, <c>DepthwiseConv.Forward</c>, instead of im2col and a product with one row per channel; training keeps the
/// im2col columns for the backward pass. The kernel gives the bits of the im2col path. A 3x3 layer of padding 1
/// and stride 1 or 2 (<c>LayerSpec.DepthwiseInPlace</c>) runs <c>Depthwise3x3.Forward</c> or
/// <c>Depthwise3x3Stride2.Forward</c>, which read their input in place and need no padded plane (and split one image by
/// channels, or by rows: <see cref="MaySplitRows"/>); other shapes run <c>DepthwiseConv.Forward</c> with one.
/// </summary>
internal static class DepthwiseInference
{
    private const int Lanes = 16;

    /// <summary>The analysis marks depthwise convolutions without dilation as direct (<c>Fusion</c>).</summary>
    public static bool Applies(LayerSpec l) => l.DirectInference;

    /// <summary>The kernel's padded plane, one channel at a time: <c>DepthwiseConv.ScratchLength</c>'s formula.</summary>
    public static long ScratchLength(LayerSpec l) => PlaneLength(l, l.Input.Height + 2 * ((ConvOp)l.Op).Padding);

    /// <summary>A padded plane of <paramref name="rows"/> rows (the whole padded input, or one band's).</summary>
    public static long PlaneLength(LayerSpec l, long rows)
    {
        var c = (ConvOp)l.Op;
        int paddedWidth = l.Input.Width + 2 * c.Padding, chunks = (l.Output.Width + Lanes - 1) / Lanes;
        long phaseLength = global::System.Math.Max((paddedWidth + c.Stride - 1) / c.Stride, chunks * Lanes + (c.Kernel - 1) / c.Stride);
        return rows * c.Stride * phaseLength;
    }

    /// <summary>The padded plane, for the layers that use one (not those that read their input in place).</summary>
    public static bool NeedsPlane(LayerSpec l) => l.DirectInference && !l.DepthwiseInPlace;

    public static Scratch Buffer(LayerSpec l) => new("_dwpad_" + l.Id, "float", ScratchLength(l), PerBatch: false, BackwardOnly: false);

    /// <summary>Whether a pass that splits one image over the threads hands out ranges of this layer's channels: a kernel
    /// that reads its input in place needs no scratch, so the threads share nothing but the weights; each channel's chain
    /// is the same whichever thread computes it, so every thread count gives the same bits.</summary>
    public static bool SplitsChannels(LayerSpec l) => l.DirectInference && l.DepthwiseInPlace && ImageSplit.Worth(l);

    private static string ChannelsMethod(LayerSpec l) => "ForwardChannels_" + l.Id;

    /// <summary>
    /// Whether a split pass may hand out ranges of this layer's output rows instead (of every channel): a 3x3 stride-1
    /// layer on rows wider than 16, which the runtime's kernel splits by rows on AVX-512 (<c>Depthwise3x3.SplitsRows</c>,
    /// asked at run time; elsewhere the channels). By rows, a thread reads the rows a layer split by rows before it (a
    /// stem, a projection) wrote on its own core, and writes the rows a layer split by rows after it reads there; by
    /// channels it read half of every channel from the other core and wrote lines the other core had read in the pass
    /// before. MobileNetV2's features.1 (32 x 112 x 112, between a stem and a projection both split by rows), one image on
    /// two threads (<c>Cnn.Latency --split --layers</c>, medians of 11 runs of each build in turn): the projection after it
    /// 82.1 -> 62.2 us, the layer itself 94.3 -> 97.2, the pass 3,127 -> 3,041.
    /// </summary>
    public static bool MaySplitRows(LayerSpec l) =>
        SplitsChannels(l) && l.Op is ConvOp { Stride: 1 } && l.Input.Width > Lanes && (long)l.Input.Height * l.Input.Width > 4 * Lanes;

    private static string RowsMethod(LayerSpec l) => "ForwardRows_" + l.Id;

    /// <summary>Output rows per block of <see cref="MaySplitRows"/>'s ranges: the kernel's block of four rows.</summary>
    private const int RowBlock = 4;

    /// <summary>The runtime kernel of a depthwise layer that reads its input in place: 3x3, padding 1, stride 1 or 2.</summary>
    private static string InPlaceKernel(LayerSpec l) =>
        $"{LayerEmitter.Kernels}.{(((ConvOp)l.Op).Stride == 1 ? "Depthwise3x3" : "Depthwise3x3Stride2")}";

    /// <summary>The range method of <see cref="SplitsChannels"/>: channels [start, end) of every image, into
    /// <c>outp</c> (the layer's output, or that of the activation fused into it).</summary>
    public static void EmitRangeMethod(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        w.Line();
        ImageSplit.OpenRange(w, ChannelsMethod(l), "Channels [start, end) of every image, read in place, with the activation fused into the layer.");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {InPlaceKernel(l)}.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, outp.Slice(b * {outLen}, {outLen}), " +
               $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, firstChannel: start, endChannel: end{FusedActivationArgument(l, network)});");
        w.Close();
        if (!MaySplitRows(l)) return;
        w.Line();
        ImageSplit.OpenRange(w, RowsMethod(l), "Output rows [start, end) of every channel of one image, read in place, with the activation fused into the layer.");
        w.Line($"{InPlaceKernel(l)}.ForwardRows(inp, weight, bias, outp, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"firstRow: start, endRow: end{FusedActivationArgument(l, network)});");
        w.Close();
    }

    /// <summary>The kernel's activation argument for the ReLU or ReLU6 fused into the layer (only when its BatchNorm is
    /// folded in, if the fusion needs the fold); empty when none is.</summary>
    private static string FusedActivationArgument(LayerSpec l, NetworkSpec network)
    {
        if (l.FusedRelu < 0) return "";
        string kind = LayerEmitter.FusedActivationKind(network.Layers[l.FusedRelu]);
        return l.FusedReluNeedsFold ? $", activation: ws.Folded ? {kind} : {LayerEmitter.Kernels}.FusedActivation.None" : $", activation: {kind}";
    }

    /// <summary>Writes, after <c>weight</c> and <c>bias</c> are set (folded or not), the inference branch that returns; a
    /// fused ReLU or ReLU6 is applied as the kernel stores, into that activation's output.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        var c = (ConvOp)l.Op;
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        var fused = l.FusedRelu >= 0 ? network.Layers[l.FusedRelu] : null;
        w.Open("if (!ws.KeepForBackward)");
        string target = "outp", activation = "";
        if (fused is null)
            w.Line("// Inference: direct depthwise convolution, one filter per channel; same result as the im2col path below.");
        else
        {
            w.Line($"// Inference: direct depthwise convolution, one filter per channel, with {fused.Name} fused " +
                   $"{(l.FusedReluNeedsFold ? "when the BatchNorm is folded in " : "")}(written to its output); same result as the im2col path below.");
            target = "target";
            w.Line(l.FusedReluNeedsFold
                ? $"var target = ws.Folded ? new global::System.Span<float>(ws._act_{fused.Id}) : outp;"
                : $"var target = new global::System.Span<float>(ws._act_{fused.Id});");
            activation = FusedActivationArgument(l, network);
        }
        if (l.Expansion >= 0) ExpansionInference.EmitForward(w, l, network, target);
        if (l.DepthwiseInPlace)
        {
            if (SplitsChannels(l))
            {
                ImageSplit.OpenWhenSplitting(w);
                if (MaySplitRows(l))
                {
                    w.Open($"if ({InPlaceKernel(l)}.SplitsRows(height: {l.Input.Height}, width: {l.Input.Width}))");
                    w.Line("// Fewer images than threads: each thread computes a range of the output rows of every channel, read in place: the rows the layers split by rows around it read and write on the same core.");
                    w.Line("for (int b = 0; b < batch; b++)");
                    w.Line("    " + ImageSplit.Run(RowsMethod(l), $"inp.Slice(b * {inLen}, {inLen})", $"{target}.Slice(b * {outLen}, {outLen})", "weight", "bias", "1",
                        l.Output.Height, RowBlock.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    w.Line("return;");
                    w.Close();
                }
                w.Line("// Fewer images than threads: each thread computes a range of the channels, read in place.");
                w.Line(ImageSplit.Run(ChannelsMethod(l), "inp", target, "weight", "bias", "batch", l.Input.Channels, "1"));
                w.Line("return;");
                w.Close();
            }
            w.Line($"// 3x3, stride {c.Stride}, padding 1: the kernel that reads the input in place (no padded copy of each channel).");
            w.Line("for (int b = 0; b < batch; b++)");
            w.Line($"    {InPlaceKernel(l)}.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, {target}.Slice(b * {outLen}, {outLen}), " +
                   $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, firstChannel: 0, endChannel: {l.Input.Channels}{activation});");
            w.Line("return;");
            w.Close();
            return;
        }
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {LayerEmitter.Kernels}.DepthwiseConv.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, {target}.Slice(b * {outLen}, {outLen}), ws._dwpad_{l.Id}, " +
               $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstChannel: 0, endChannel: {l.Input.Channels}{activation});");
        w.Line("return;");
        w.Close();
    }
}
