using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A grouped convolution (<c>Groups = g</c>; depthwise when g equals the channels): the input's channels and the filters
/// split into g contiguous groups, and group j's filters see only group j's channels. Each group is an ordinary
/// convolution on its slice: im2col of its <c>C/g</c> channels, then <c>out_j[F/g, P] = weight_j[F/g, K_j] * col_j[K_j, P]</c>
/// with <c>K_j = (C/g)*k*k</c>; backward the same per group. The columns of all groups are kept while training, group
/// after group, so the backward pass need not rebuild them.
/// </summary>
internal sealed class GroupedConvLayer : LayerEmitter
{
    public static readonly GroupedConvLayer Instance = new();

    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    /// <summary>One group's column length: (C/g)*k*k rows of P positions.</summary>
    private static long GroupColLength(LayerSpec l) => (long)(l.Input.Channels / Op(l).Groups) * Op(l).Kernel * Op(l).Kernel * l.Output.Height * l.Output.Width;

    private static long ColLength(LayerSpec l) => GroupColLength(l) * Op(l).Groups;

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        yield return new Scratch("_col_" + l.Id, "float", ColLength(l), PerBatch: false, BackwardOnly: false, PerBatchWhenTraining: true);
        if (needInputGradient) yield return new Scratch("_dcol_" + l.Id, "float", GroupColLength(l), PerBatch: false, BackwardOnly: true);
        if (DepthwiseInference.NeedsPlane(l)) yield return DepthwiseInference.Buffer(l);
        if (l.Expansion >= 0 && !l.ExpansionChannelLastOnly) yield return ExpansionInference.Buffer(l);
    }

    private static string Geometry(LayerSpec l, ConvOp c) =>
        $"channels: {l.Input.Channels / c.Groups}, height: {l.Input.Height}, width: {l.Input.Width}, " +
        $"kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}" +
        ConvLayer.DilationArgument(c);

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int groupIn = inLen / c.Groups, groupFilters = c.Filters / c.Groups, k = l.Input.Channels / c.Groups * c.Kernel * c.Kernel;
        long groupCol = GroupColLength(l);
        var folded = l.FoldedBatchNorm >= 0 ? network.Layers[l.FoldedBatchNorm] : null;
        OpenForward(w, l);
        if (l.ComputedByStem >= 0) StemInference.EmitSkip(w, l, network);
        w.Line($"var weight = {Weight(l)}; // [{c.Filters}, {l.Input.Channels / c.Groups}, {c.Kernel}, {c.Kernel}]: {c.Groups} groups of [{groupFilters}, {k}]");
        w.Line($"var bias = {Bias(l)};");
        if (folded is not null) EmitFold(w, l, folded);
        if (DepthwiseInference.Applies(l)) DepthwiseInference.EmitForward(w, l, network);
        // A depthwise layer that reads its input in place runs every evaluation pass above, split by channels there.
        bool split = ImageSplit.Worth(l) && !DepthwiseInference.SplitsChannels(l);
        if (split)
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line("// Fewer images than threads: each thread computes a range of the groups.");
            w.Line(ImageSplit.Run(GroupsMethod(l), "inp", "outp", "weight", "bias", "batch", c.Groups, "1"));
            w.Line("return;");
            w.Close();
        }
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        w.Line($"var col = new global::System.Span<float>(ws._col_{l.Id}, ws.KeepForBackward ? b * {ColLength(l)} : 0, {ColLength(l)}); // {c.Groups} x [{k}, {positions}], kept for backward while training");
        w.Open($"for (int g = 0; g < {c.Groups}; g++)");
        w.Line($"var groupCol = col.Slice(g * {groupCol}, {groupCol});");
        w.Line($"{Kernels}.Im2Col.Pack(x.Slice(g * {groupIn}, {groupIn}), groupCol, {Geometry(l, c)});");
        w.Line($"{Kernels}.Gemm.Multiply(weight.Slice(g * {groupFilters * k}, {groupFilters * k}), groupCol, y.Slice(g * {groupFilters * positions}, {groupFilters * positions}), m: {groupFilters}, n: {positions}, k: {k});");
        w.Close();
        w.Line($"{Kernels}.Elementwise.AddBias(y, bias, rows: {c.Filters}, columns: {positions});");
        w.Close();
        w.Close();
        if (DepthwiseInference.SplitsChannels(l)) DepthwiseInference.EmitRangeMethod(w, l, network);
        if (l.Expansion >= 0) ExpansionInference.EmitRangeMethod(w, l, network);
        if (!split) return;
        w.Line();
        ImageSplit.OpenRange(w, GroupsMethod(l), "Groups [start, end) of every image, each group's columns in its own part of the buffer.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        w.Open("for (int g = start; g < end; g++)");
        w.Line($"var groupCol = new global::System.Span<float>(ws._col_{l.Id}, g * {groupCol}, {groupCol});");
        w.Line($"{Kernels}.Im2Col.Pack(x.Slice(g * {groupIn}, {groupIn}), groupCol, {Geometry(l, c)});");
        w.Line($"{Kernels}.Gemm.Multiply(weight.Slice(g * {groupFilters * k}, {groupFilters * k}), groupCol, y.Slice(g * {groupFilters * positions}, {groupFilters * positions}), m: {groupFilters}, n: {positions}, k: {k});");
        w.Close();
        w.Line($"{Kernels}.Elementwise.AddBias(y.Slice(start * {groupFilters * positions}, (end - start) * {groupFilters * positions}), bias.Slice(start * {groupFilters}, (end - start) * {groupFilters}), " +
               $"rows: (end - start) * {groupFilters}, columns: {positions});");
        w.Close();
        w.Close();
    }

    private static string GroupsMethod(LayerSpec l) => "ForwardGroups_" + l.Id;

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int groupIn = inLen / c.Groups, groupFilters = c.Filters / c.Groups, k = l.Input.Channels / c.Groups * c.Kernel * c.Kernel;
        long groupCol = GroupColLength(l);
        OpenBackward(w, l);
        w.Open($"if (!_frozen[{l.Index}])");
        w.Line("// Per group: dweight_g[f, k] += sum over images and positions of dy_g[f, p] * col_g[k, p] (columns kept by forward)");
        w.Line($"var dweight = {DWeight(l)};");
        w.Line($"for (int g = 0; g < {c.Groups}; g++)");
        w.Line($"    {Kernels}.Gemm.AccumulateTransposedB(dout.Slice(g * {groupFilters * positions}), {outLen}, new global::System.ReadOnlySpan<float>(ws._col_{l.Id}).Slice((int)(g * {groupCol})), {ColLength(l)}, " +
               $"dweight.Slice(g * {groupFilters * k}, {groupFilters * k}), m: {groupFilters}, n: {k}, k: {positions}, count: batch);");
        if (c.Bias)
        {
            w.Line($"// dbias[f] += sum over images and positions of dy[f, p] (a product with a row of ones)");
            w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {Kernels}.Ones.Get({positions}), 0, {DBias(l)}, m: {c.Filters}, n: 1, k: {positions}, count: batch);");
        }
        w.Close();
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line("// Per group: dinp_g = col2im(weight_g^T * dy_g)");
            w.Line($"var weight = {Weight(l)};");
            w.Line($"var dcol = new global::System.Span<float>(ws._dcol_{l.Id});");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"var dy = dout.Slice(b * {outLen}, {outLen});");
            w.Line($"var dx = dinp.Slice(b * {inLen}, {inLen});");
            w.Line("dx.Clear();");
            w.Open($"for (int g = 0; g < {c.Groups}; g++)");
            w.Line($"{Kernels}.Gemm.Multiply(weight.Slice(g * {groupFilters * k}, {groupFilters * k}), dy.Slice(g * {groupFilters * positions}, {groupFilters * positions}), dcol, m: {k}, n: {positions}, k: {groupFilters}, transposeA: true);");
            w.Line($"{Kernels}.Im2Col.Unpack(dcol, dx.Slice(g * {groupIn}, {groupIn}), {Geometry(l, c)});");
            w.Close();
            w.Close();
        }
        w.Close();
    }
}
