using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference of a depthwise convolution (<c>Groups</c> = channels = filters, no dilation) with the runtime's direct
/// kernel, <c>DepthwiseConv.Forward</c>, instead of im2col and a product with one row per channel; training keeps the
/// im2col columns for the backward pass. The kernel gives the bits of the im2col path.
/// </summary>
internal static class DepthwiseInference
{
    private const int Lanes = 16;

    public static bool Applies(LayerSpec l) =>
        l.Op is ConvOp c && c.Groups == l.Input.Channels && c.Groups == c.Filters && c.Dilation == 1;

    /// <summary>The kernel's padded plane, one channel at a time: <c>DepthwiseConv.ScratchLength</c>'s formula.</summary>
    public static long ScratchLength(LayerSpec l)
    {
        var c = (ConvOp)l.Op;
        int paddedWidth = l.Input.Width + 2 * c.Padding, chunks = (l.Output.Width + Lanes - 1) / Lanes;
        long phaseLength = global::System.Math.Max((paddedWidth + c.Stride - 1) / c.Stride, chunks * Lanes + (c.Kernel - 1) / c.Stride);
        return (long)(l.Input.Height + 2 * c.Padding) * c.Stride * phaseLength;
    }

    public static Scratch Buffer(LayerSpec l) => new("_dwpad_" + l.Id, "float", ScratchLength(l), PerBatch: false, BackwardOnly: false);

    /// <summary>Writes, after <c>weight</c> and <c>bias</c> are set (folded or not), the inference branch that returns.</summary>
    public static void EmitForward(SourceWriter w, LayerSpec l)
    {
        var c = (ConvOp)l.Op;
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        w.Open("if (!ws.KeepForBackward)");
        w.Line("// Inference: direct depthwise convolution, one filter per channel; same result as the im2col path below.");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {LayerEmitter.Kernels}.DepthwiseConv.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, outp.Slice(b * {outLen}, {outLen}), ws._dwpad_{l.Id}, " +
               $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstChannel: 0, endChannel: {l.Input.Channels});");
        w.Line("return;");
        w.Close();
    }
}
