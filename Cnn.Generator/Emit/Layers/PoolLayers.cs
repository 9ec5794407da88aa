using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>Shared loop structure of the pools: every (image, channel) plane is pooled on its own, so when one image is
/// split over the threads a large pool runs by ranges of channels, each with the operations of the whole layer.</summary>
internal abstract class PoolLayer : LayerEmitter
{
    protected static PoolOp Op(LayerSpec l) => (PoolOp)l.Op;

    /// <summary>Opens the loops over the planes <c>[firstPlane, endPlane)</c> (every plane of the batch by default), each
    /// output position <c>(oy, ox)</c> at index <c>o</c>, and its window.</summary>
    protected static void OpenWindowLoops(SourceWriter w, LayerSpec l, string firstPlane = "0", string? endPlane = null)
    {
        var p = Op(l);
        int planeOut = l.Output.Height * l.Output.Width;
        w.Open($"for (int plane = {firstPlane}; plane < {endPlane ?? $"batch * {l.Input.Channels}"}; plane++)");
        w.Line($"int o = plane * {planeOut};");
        w.Open($"for (int oy = 0; oy < {l.Output.Height}; oy++)");
        w.Open($"for (int ox = 0; ox < {l.Output.Width}; ox++, o++)");
        // The window's rows [y0, y1) and columns [x0, x1), clipped to the image when there is padding or ceil mode.
        string y0 = Offset("oy", l), x0 = Offset("ox", l);
        if (p.Padding == 0 && !p.CeilMode)
        {
            w.Line($"int y0 = {y0}, y1 = y0 + {p.Size}, x0 = {x0}, x1 = x0 + {p.Size};");
        }
        else
        {
            w.Line($"int y0 = global::System.Math.Max({y0}, 0), y1 = global::System.Math.Min({y0} + {p.Size}, {l.Input.Height});");
            w.Line($"int x0 = global::System.Math.Max({x0}, 0), x1 = global::System.Math.Min({x0} + {p.Size}, {l.Input.Width});");
        }
    }

    protected static void CloseWindowLoops(SourceWriter w) => w.Close().Close().Close();

    /// <summary>Ceil mode: PyTorch's average divides by the window clipped to the padded input (count_include_pad), so the
    /// last windows, which run past it, count fewer values.</summary>
    protected static string CeilDivisor(LayerSpec l)
    {
        var p = Op(l);
        string y = Offset("oy", l), x = Offset("ox", l);
        return $"(float)((global::System.Math.Min({y} + {p.Size}, {l.Input.Height + p.Padding}) - ({y})) * (global::System.Math.Min({x} + {p.Size}, {l.Input.Width + p.Padding}) - ({x})))";
    }

    private static string Offset(string index, LayerSpec l)
    {
        var p = Op(l);
        string scaled = p.Stride == 1 ? index : $"{index} * {p.Stride}";
        return p.Padding == 0 ? scaled : $"{scaled} - {p.Padding}";
    }

    /// <summary>2x2 windows at stride 2 without padding have vectorised kernels.</summary>
    protected static bool IsHalving(LayerSpec l) => Op(l) is { Size: 2, Stride: 2, Padding: 0, CeilMode: false };

    protected static int PlaneIn(LayerSpec l) => l.Input.Height * l.Input.Width;

    protected static int PlaneOut(LayerSpec l) => l.Output.Height * l.Output.Width;

    private static string PlanesMethod(LayerSpec l) => "ForwardPlanes_" + l.Id;

    /// <summary>Writes the forward method: when the layer is large enough and the pass splits one image over the threads,
    /// the image's channels are shared out in ranges (<see cref="ImageSplit.WorthByValues"/>); either way every plane
    /// is pooled by the code <paramref name="pool"/> writes for the planes <c>[first, end)</c>. Its last argument is true
    /// in a range method: only an evaluation-mode pass splits an image, so a range never keeps anything for backward.</summary>
    protected static void EmitForward(SourceWriter w, LayerSpec l, NetworkSpec network, System.Action<SourceWriter, string, string, bool> pool)
    {
        bool split = ImageSplit.WorthByValues(l);
        OpenForward(w, l);
        if (l.PooledBy >= 0)
            w.Line($"if (!ws.KeepForBackward) return; // in inference {network.Layers[l.PooledBy].Name} stored these maxima as it stored its tiles");
        if (l.InputPooledBy >= 0)
            w.Line($"if (!ws.KeepForBackward) return; // in inference {network.Layers[l.InputPooledBy].Name} wrote this output, averaging its own input first");
        SumInRanges.EmitPoolReturn(w, network, l);
        if (split) ImageSplit.EmitRunAndReturn(w, PlanesMethod(l), "outp", l.Input.Channels, block: 1);
        pool(w, "0", $"batch * {l.Input.Channels}", false);
        w.Close();
        if (!split) return;
        ImageSplit.OpenRange(w, PlanesMethod(l), $"Channels [start, end) of each image of {l.Name}: the same operations as the whole layer.");
        w.Open("for (int b = 0; b < batch; b++)");
        pool(w, $"b * {l.Input.Channels} + start", $"b * {l.Input.Channels} + end", true);
        w.Close();
        w.Close();
    }
}

/// <summary>
/// Max pooling (seed 001): forward keeps each window's maximum and, when the pass keeps state for backward, remembers
/// where it was (padding counts as minus infinity; the first maximum wins, NaN propagates, as in PyTorch), in the
/// runtime's pooling kernels; backward routes the gradient only to that position. Inference writes the maxima alone
/// (<c>Pooling.MaxPoolValues</c>, the same bits).
/// </summary>
internal sealed class MaxPoolLayer : PoolLayer
{
    public static readonly MaxPoolLayer Instance = new();

    /// <summary>The winners' indices, which only the backward pass reads: grown only for passes that compute gradients.</summary>
    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        yield return new Scratch("_argmax_" + l.Id, "int", l.Output.Length, PerBatch: true, BackwardOnly: true);
    }

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network) =>
        EmitForward(w, l, network, (writer, first, end, inRange) => Pool(writer, l, first, end, inRange));

    /// <summary>Planes <c>[first, end)</c> of the batch: each window's maximum, and when the pass keeps state for
    /// backward its index (within its input plane), by the 2x2 kernel or the kernel for any window. A range of a split
    /// pass (<paramref name="inRange"/>) is always inference.</summary>
    private static void Pool(SourceWriter w, LayerSpec l, string first, string end, bool inRange)
    {
        var p = Op(l);
        bool all = first == "0";
        string planes = all ? end : $"{end} - ({first})";
        string input = all ? "inp" : $"inp.Slice(({first}) * {PlaneIn(l)})";
        string output = all ? "outp" : $"outp.Slice(({first}) * {PlaneOut(l)})";
        string shape = $"planes: {planes}, height: {l.Input.Height}, width: {l.Input.Width}";
        string window = $"size: {p.Size}, stride: {p.Stride}, padding: {p.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}";
        string values = $"{Kernels}.Pooling.MaxPoolValues({input}, {output}, {shape}, {window});";
        if (inRange)
        {
            w.Line($"{values} // a split pass is inference: the maxima alone");
            return;
        }
        string argmax = all ? $"ws._argmax_{l.Id}" : $"global::System.MemoryExtensions.AsSpan(ws._argmax_{l.Id}, ({first}) * {PlaneOut(l)})";
        w.Open("if (!ws.KeepForBackward)");
        w.Line($"{values} // inference: the maxima alone, no winners to keep");
        w.Close();
        w.Open("else");
        w.Line(IsHalving(l)
            ? $"{Kernels}.Pooling.MaxPool2x2({input}, {output}, {argmax}, {shape});"
            : $"{Kernels}.Pooling.MaxPool({input}, {output}, {argmax}, {shape}, {window});");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        int planeOut = l.Output.Height * l.Output.Width;
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            if (l.ReluMaskedInBackward >= 0)
            {
                w.Line("// With the ReLU before this pool's backward pass: the gradient goes only to winners above zero (this pool's output), and dinp is the ReLU's input gradient.");
                w.Line($"{Kernels}.Pooling.MaxPoolReluBackward(dout, ws._argmax_{l.Id}, outp, dinp, planes: batch * {l.Input.Channels}, planeIn: {PlaneIn(l)}, planeOut: {planeOut});");
            }
            else
                w.Line($"{Kernels}.Pooling.MaxPoolBackward(dout, ws._argmax_{l.Id}, dinp, planes: batch * {l.Input.Channels}, planeIn: {PlaneIn(l)}, planeOut: {planeOut});");
        }
        w.Close();
    }
}

/// <summary>
/// Average pooling: forward averages each window, dividing by the full window size so padded zeros count
/// (PyTorch's default), 2x2 windows at stride 2 in the runtime's vectorised kernel (<c>AveragePool2x2</c>, the same bits);
/// backward spreads each output's gradient evenly over its window.
/// </summary>
internal sealed class AvgPoolLayer : PoolLayer
{
    public static readonly AvgPoolLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network) =>
        EmitForward(w, l, network, (writer, first, end, _) => Pool(writer, l, first, end));

    /// <summary>A window over the whole input (a 1x1 output, no padding): each plane's mean, which the global pooling
    /// kernel computes with the same sum in index order, several planes side by side.</summary>
    internal static bool WholePlane(LayerSpec l) =>
        Op(l) is { Padding: 0, CeilMode: false } p && p.Size == l.Input.Height && p.Size == l.Input.Width && l.Output.Height == 1 && l.Output.Width == 1;

    /// <summary>Planes <c>[first, end)</c> of the batch: each window's average.</summary>
    private static void Pool(SourceWriter w, LayerSpec l, string first, string end)
    {
        if (WholePlane(l))
        {
            bool all = first == "0";
            string input = all ? "inp" : $"inp.Slice(({first}) * {PlaneIn(l)})";
            string output = all ? "outp" : $"outp.Slice({first})";
            w.Line($"{Kernels}.GlobalPooling.AverageForward({input}, {output}, planes: {(all ? end : $"{end} - ({first})")}, plane: {PlaneIn(l)}); // one window over each whole plane: its mean");
            return;
        }
        if (IsHalving(l))
        {
            bool all = first == "0";
            string input = all ? "inp" : $"inp.Slice(({first}) * {PlaneIn(l)})";
            string output = all ? "outp" : $"outp.Slice(({first}) * {PlaneOut(l)})";
            w.Line($"{Kernels}.AveragePool2x2.Forward({input}, {output}, planes: {(all ? end : $"{end} - ({first})")}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                   $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}); // each 2x2 window's values added in index order, divided by 4");
            return;
        }
        OpenWindowLoops(w, l, first, end);
        w.Line($"var x = inp.Slice(plane * {PlaneIn(l)}, {PlaneIn(l)});");
        w.Line("float sum = 0f;");
        w.Line("for (int iy = y0; iy < y1; iy++)");
        w.Line("    for (int ix = x0; ix < x1; ix++)");
        w.Line($"        sum += x[iy * {l.Input.Width} + ix];");
        w.Line(Op(l).CeilMode ? $"outp[o] = sum / {CeilDivisor(l)};" : $"outp[o] = sum / {(long)Op(l).Size * Op(l).Size}f;");
        CloseWindowLoops(w);
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            if (WholePlane(l))
                w.Line($"{Kernels}.GlobalPooling.AverageBackward(dout, dinp, planes: batch * {l.Input.Channels}, plane: {PlaneIn(l)}); // one window over each whole plane");
            else
                SpreadOverWindows(w, l);
        }
        w.Close();
    }

    /// <summary>Backward through windows of any placement: each output's gradient shared evenly over its window.</summary>
    private static void SpreadOverWindows(SourceWriter w, LayerSpec l)
    {
        w.Line($"dinp.Slice(0, batch * {l.Input.Length}).Clear();");
        OpenWindowLoops(w, l);
        w.Line($"var dx = dinp.Slice(plane * {PlaneIn(l)}, {PlaneIn(l)});");
        w.Line(Op(l).CeilMode ? $"float share = dout[o] / {CeilDivisor(l)};" : $"float share = dout[o] / {(long)Op(l).Size * Op(l).Size}f;");
        w.Line("for (int iy = y0; iy < y1; iy++)");
        w.Line("    for (int ix = x0; ix < x1; ix++)");
        w.Line($"        dx[iy * {l.Input.Width} + ix] += share;");
        CloseWindowLoops(w);
    }
}
