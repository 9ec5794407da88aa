using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A channel join (DenseNet, inception): forward, per image, <c>y = [x, s1, s2, ...]</c> along the channels, where each
/// <c>s</c> is an earlier layer's output, still in its buffer; backward <c>dx = dy[first channels]</c> and each source's
/// channels of <c>dy</c> to that source's output gradient, once its other readers have run (see <c>GradientFlow</c>). When
/// one image is split over the threads, a large join is copied by ranges of the output's values.
/// </summary>
internal sealed class ConcatLayer : LayerEmitter
{
    public static readonly ConcatLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length;
        bool split = ImageSplit.WorthByValues(l);
        OpenForward(w, l);
        if (split) ImageSplit.EmitRunAndReturn(w, ValuesMethod(l), "outp", outLen, ImageSplit.ValueBlock);
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"inp.Slice(b * {inLen}, {inLen}).CopyTo(outp.Slice(b * {outLen}, {inLen})); // the input's {l.Input.Channels} channels");
        long offset = inLen;
        foreach (int index in l.Join!.Sources)
        {
            var source = network.Layers[index];
            long sourceLen = source.Output.Length;
            w.Line($"new global::System.ReadOnlySpan<float>(ws._act_{source.Id}, b * {sourceLen}, {sourceLen}).CopyTo(outp.Slice(b * {outLen} + {offset}, {sourceLen})); // then {source.Name}'s {source.Output.Channels}");
            offset += sourceLen;
        }
        w.Close();
        w.Close();
        if (split) EmitValues(w, l, network);
    }

    private static string ValuesMethod(LayerSpec l) => "ForwardValues_" + l.Id;

    /// <summary>Values <c>[start, end)</c> of each image's output: the part of each joined tensor that falls in them.</summary>
    private static void EmitValues(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length;
        ImageSplit.OpenRange(w, ValuesMethod(l), $"Values [start, end) of each image of {l.Name}: the same copies as the whole layer.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        w.Line($"{Kernels}.Elementwise.CopyOverlap(inp.Slice(b * {inLen}, {inLen}), y, 0, start, end); // the input's {l.Input.Channels} channels");
        long offset = inLen;
        foreach (int index in l.Join!.Sources)
        {
            var source = network.Layers[index];
            long sourceLen = source.Output.Length;
            w.Line($"{Kernels}.Elementwise.CopyOverlap(new global::System.ReadOnlySpan<float>(ws._act_{source.Id}, b * {sourceLen}, {sourceLen}), y, {offset}, start, end); // then {source.Name}'s {source.Output.Channels}");
            offset += sourceLen;
        }
        w.Close();
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length;
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line("// dx = the gradient of the input's channels; the source's part is added to its gradient later");
            w.Line("for (int b = 0; b < batch; b++)");
            w.Line($"    dout.Slice(b * {outLen}, {inLen}).CopyTo(dinp.Slice(b * {inLen}, {inLen}));");
        }
        w.Close();
    }
}
