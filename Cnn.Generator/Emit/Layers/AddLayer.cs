using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A shortcut (ResNet): forward <c>y = x + s1 + s2 + ...</c>, where each <c>s</c> is an earlier layer's output, still in its
/// buffer; backward <c>dx = dy</c> and <c>ds = dy</c> for each. The layers in between overwrite the source's output gradient on their
/// way back, so <c>ds</c> is added to it once they have (see <c>RunBackward</c>), read from this layer's output gradient,
/// which no later step of the backward pass changes. A ReLU that alone reads the sum is applied as it is stored, in
/// inference (<c>FuseAddRelus</c>) and in a gradient pass (<c>FuseGradientPassRelus</c>), where the sum's backward also
/// masks that ReLU's output gradient in place into its own (<c>FuseReluBackwardsIntoWriters</c>), adding first the one
/// share a later sum's shortcut leaves that gradient, when it has one (<c>AddShortcutSharesInReluMasks</c>); a main input that only
/// the sum reads takes the sum's output gradient as its own (<c>ShareSumInputGradients</c>), so nothing is copied; and a
/// large sum is split over the threads by ranges of values when one image is.
/// </summary>
internal sealed class AddLayer : LayerEmitter
{
    public static readonly AddLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long length = l.Output.Length;
        var relu = l.FusedRelu >= 0 ? network.Layers[l.FusedRelu] : null;
        // A split pass sums each image by the ranges of rows or channels its input's convolution was split by, or else,
        // when large enough, by ranges of values.
        var ranges = ImageSplit.RangesOfInput(network, l);
        bool split = ranges is not null || ImageSplit.WorthByValues(l);
        OpenForward(w, l);
        bool gradientPassRelu = l.GradientPassRelu >= 0;
        if (gradientPassRelu)
        {
            var gradientRelu = network.Layers[l.GradientPassRelu];
            w.Open("if (ws.KeepForBackward && !ws.WritesEveryOutput)");
            w.Line($"// A gradient pass: {gradientRelu.Name} is applied as the sum is stored, into its output (same bits as its own pass); this layer's own output is not written.");
            w.Line($"var relued = new global::System.Span<float>(ws._act_{gradientRelu.Id});");
            EmitSum(w, l, network, "inp", "relued", "0", $"batch * {length}", relu: true);
            w.Close();
            w.Open("else");
        }
        if (relu is not null)
        {
            w.Open("if (!ws.KeepForBackward)");
            w.Line($"// Inference: {relu.Name} is applied as the sum is stored, into its output; same bits as the two passes.");
            w.Line($"var fused = new global::System.Span<float>(ws._act_{relu.Id});");
            if (split) EmitRunAndReturn(w, l, network, ranges, "fused");
            EmitSum(w, l, network, "inp", "fused", "0", $"batch * {length}", relu: true);
            w.Close();
            w.Open("else");
            EmitSum(w, l, network, "inp", "outp", "0", $"batch * {length}", relu: false);
            w.Close();
        }
        else
        {
            if (split) EmitRunAndReturn(w, l, network, ranges, "outp");
            EmitSum(w, l, network, "inp", "outp", "0", $"batch * {length}", relu: false);
        }
        if (gradientPassRelu) w.Close();
        w.Close();
        if (!split) return;
        string applied = relu is null ? "" : $" with {relu.Name} applied";
        if (ranges is { } r)
        {
            var map = l.Output;
            long plane = (long)map.Height * map.Width;
            ImageSplit.OpenRange(w, RangeMethod(l, ranges), r.ByChannels
                ? $"Channels [start, end) of each image of {l.Name}{applied}, as its input's convolution computed them: the same operations as the whole layer."
                : $"Rows [start, end) of every channel of each image of {l.Name}{applied}, as its input's convolution computed them: the same operations as the whole layer.");
            w.Open("for (int b = 0; b < batch; b++)");
            if (r.ByChannels)
                EmitSum(w, l, network, "inp", "outp", $"b * {length} + start * {plane}", $"(end - start) * {plane}", relu: relu is not null);
            else
            {
                w.Open($"for (int c = 0; c < {map.Channels}; c++)");
                EmitSum(w, l, network, "inp", "outp", $"b * {length} + c * {plane} + start * {map.Width}", $"(end - start) * {map.Width}", relu: relu is not null);
                w.Close();
            }
            w.Close();
            w.Close();
            return;
        }
        ImageSplit.OpenRange(w, RangeMethod(l, ranges), $"Values [start, end) of each image of {l.Name}{applied}: the same operations as the whole layer.");
        w.Open("for (int b = 0; b < batch; b++)");
        EmitSum(w, l, network, "inp", "outp", $"b * {length} + start", "end - start", relu: relu is not null);
        w.Close();
        w.Close();
    }

    /// <summary>When the pass splits layers: the range method over the input's ranges of rows or channels, or over
    /// values, writing <paramref name="output"/>, then return.</summary>
    private static void EmitRunAndReturn(SourceWriter w, LayerSpec l, NetworkSpec network, MapRanges? ranges, string output)
    {
        if (ranges is { } r)
        {
            // The ranges of the convolution that writes the input may sum it as they store (SumInRanges).
            (string, string)? summed = SumInRanges.Writer(network, l) is { } writer
                ? (SumInRanges.Condition(writer, l), $"summed by {writer.Name}'s ranges as they stored its input") : null;
            ImageSplit.EmitRunAndReturn(w, RangeMethod(l, ranges), output, r.Units, r.Block, summed);
        }
        else
            ImageSplit.EmitRunAndReturn(w, RangeMethod(l, ranges), output, l.Output.Length, ImageSplit.ValueBlock);
    }

    private static string RangeMethod(LayerSpec l, MapRanges? ranges) =>
        (ranges is null ? "ForwardValues_" : ranges.Value.ByChannels ? "ForwardChannels_" : "ForwardRows_") + l.Id;

    /// <summary><c>y = x + s1 + s2 + ...</c> (then the ReLU when <paramref name="relu"/>) over the values <c>[first, first + count)</c>;
    /// a shortcut read from <paramref name="copyOf"/>'s span when it gives one for its source (a band's copy), else from the workspace.</summary>
    internal static void EmitSum(SourceWriter w, LayerSpec l, NetworkSpec network, string input, string output, string first, string count, bool relu,
        System.Func<LayerSpec, string?>? copyOf = null)
    {
        w.Line($"var x = {input}.Slice({first}, {count});");
        w.Line($"var y = {output}.Slice({first}, x.Length);");
        var sources = l.Join!.Sources;
        for (int k = 0; k < sources.Count; k++)
        {
            var source = network.Layers[sources[k]];
            string shortcut = sources.Count == 1 ? "shortcut" : "shortcut" + (k + 1);
            w.Line(copyOf?.Invoke(source) is { } copy
                ? $"var {shortcut} = {copy}.Slice({first}, x.Length); // {source.Name}'s output"
                : $"var {shortcut} = new global::System.ReadOnlySpan<float>(ws._act_{source.Id}, {first}, x.Length); // {source.Name}'s output");
            string sum = k == 0 ? "x" : "y"; // the sum so far
            if (relu && k == sources.Count - 1)
                w.Line($"{Kernels}.Elementwise.AddRelu({sum}, {shortcut}, y); // y = max({sum} + {shortcut}, 0)");
            else
                w.Line($"global::System.Numerics.Tensors.TensorPrimitives.Add({sum}, {shortcut}, y); // y = {sum} + {shortcut}");
        }
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        OpenBackward(w, l);
        long length = l.Output.Length;
        if (l.ReluBackwardBeforeOwn >= 0)
        {
            // Before the input gradient's early return: the shortcut's source reads this gradient later too.
            var relu = network.Layers[l.ReluBackwardBeforeOwn];
            var join = l.ReluBackwardAddsShareOf >= 0 ? network.Layers[l.ReluBackwardAddsShareOf] : null;
            w.Line($"// dout is {relu.Name}'s output gradient: its backward pass (dy = y > 0 ? dy : 0, y being the output this layer stored for it)");
            if (join is null) w.Line("// masks it in place into this layer's output gradient.");
            else
            {
                w.Line($"// masks it in place into this layer's output gradient, adding first {join.Name}'s output gradient, the share {relu.Name}'s output gets");
                w.Line("// down that sum's shortcut (dy = y > 0 ? dy + ds : 0): one pass instead of the sum of the shares, then the mask.");
            }
            w.Line($"var masked = new global::System.Span<float>(ws.{GradientFlow.Grad(network, relu.Index)}, 0, batch * {length});");
            var y = $"new global::System.ReadOnlySpan<float>(ws._act_{relu.Id}, 0, batch * {length})";
            w.Line(join is null
                ? $"{Kernels}.Activations.ReluBackward({y}, masked, masked);"
                : $"{Kernels}.Activations.ReluBackwardAddingShare({y}, masked, new global::System.ReadOnlySpan<float>(ws.{GradientFlow.Grad(network, join.Index)}, 0, batch * {length}));");
        }
        if (needInputGradient && network.Layers[l.InputIndex].GradientBufferOf == l.Index)
            w.Line($"// dx = dy: {network.Layers[l.InputIndex].Name}'s output gradient is this layer's buffer. ds = dy is added to the source's gradient once the layers in between have run.");
        else if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"var dy = dout.Slice(0, batch * {length});");
            w.Line("dy.CopyTo(dinp); // dx = dy; ds = dy is added to the source's gradient once the layers in between have run");
        }
        w.Close();
    }
}
