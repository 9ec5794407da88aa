using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A channel join (DenseNet, inception): forward, per image, <c>y = [x, s1, s2, ...]</c> along the channels, where each
/// <c>s</c> is an earlier layer's output, still in its buffer; backward <c>dx = dy[first channels]</c> and each source's
/// channels of <c>dy</c> to that source's output gradient, once its other readers have run (see <c>GradientFlow</c>). When
/// one image is split over the threads, a large join is copied by ranges of the output's values. An evaluation pass keeps
/// the output in its input's buffer when nothing reads the input later (<c>OutputSharing</c>): DenseNet's joins then copy
/// only each layer's 32 new channels for one image, not every earlier one again.
/// </summary>
internal sealed class ConcatLayer : LayerEmitter
{
    public static readonly ConcatLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length;
        bool split = ImageSplit.WorthByValues(l);
        OpenForward(w, l);
        w.Open("if (global::System.MemoryExtensions.Overlaps(inp, (global::System.ReadOnlySpan<float>)outp, out int shift) && shift == 0)");
        w.Line("// In place: an evaluation pass keeps this output in its input's buffer (nothing reads the input after this layer). Image 0's");
        w.Line("// input channels are already where they belong; the later images' move up, the last first, so none is overwritten unread.");
        w.Line("for (int b = batch - 1; b >= 1; b--)");
        w.Line($"    inp.Slice(b * {inLen}, {inLen}).CopyTo(outp.Slice(b * {outLen}, {inLen}));");
        if (split) ImageSplit.EmitRunAndReturn(w, SourcesMethod(l), "outp", outLen - inLen, ImageSplit.ValueBlock);
        w.Open("for (int b = 0; b < batch; b++)");
        EmitSourceCopies(w, l, network, inLen, outLen);
        w.Close();
        w.Line("return;");
        w.Close();
        if (split) ImageSplit.EmitRunAndReturn(w, ValuesMethod(l), "outp", outLen, ImageSplit.ValueBlock);
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"inp.Slice(b * {inLen}, {inLen}).CopyTo(outp.Slice(b * {outLen}, {inLen})); // the input's {l.Input.Channels} channels");
        EmitSourceCopies(w, l, network, inLen, outLen);
        w.Close();
        w.Close();
        if (split)
        {
            EmitValues(w, l, network, withInput: true);
            EmitValues(w, l, network, withInput: false);
        }
    }

    /// <summary>Image <c>b</c>'s copies of the joined sources' channels, after the input's.</summary>
    private static void EmitSourceCopies(SourceWriter w, LayerSpec l, NetworkSpec network, long inLen, long outLen)
    {
        long offset = inLen;
        foreach (int index in l.Join!.Sources)
        {
            var source = network.Layers[index];
            long sourceLen = source.Output.Length;
            w.Line($"new global::System.ReadOnlySpan<float>(ws._act_{source.Id}, b * {sourceLen}, {sourceLen}).CopyTo(outp.Slice(b * {outLen} + {offset}, {sourceLen})); // then {source.Name}'s {source.Output.Channels}");
            offset += sourceLen;
        }
    }

    private static string ValuesMethod(LayerSpec l) => "ForwardValues_" + l.Id;

    private static string SourcesMethod(LayerSpec l) => "ForwardSourceValues_" + l.Id;

    /// <summary>Values <c>[start, end)</c> of each image's output: the part of each joined tensor that falls in them
    /// (<paramref name="withInput"/> false: values <c>[start, end)</c> of the sources' part only, the input's being in
    /// place already, so that the threads share the copying out: ranges of the whole output left DenseNet's 32 new
    /// channels, which come last, to the last thread).</summary>
    private static void EmitValues(SourceWriter w, LayerSpec l, NetworkSpec network, bool withInput)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length;
        ImageSplit.OpenRange(w, withInput ? ValuesMethod(l) : SourcesMethod(l), withInput
            ? $"Values [start, end) of each image of {l.Name}: the same copies as the whole layer."
            : $"Values [start, end) of the sources' part of each image of {l.Name} in place: the same copies of the sources as the whole layer.");
        if (!withInput)
        {
            w.Line($"start += {inLen}; // the sources' values follow the input's {l.Input.Channels} channels");
            w.Line($"end += {inLen};");
        }
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        if (withInput) w.Line($"{Kernels}.Elementwise.CopyOverlap(inp.Slice(b * {inLen}, {inLen}), y, 0, start, end); // the input's {l.Input.Channels} channels");
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
