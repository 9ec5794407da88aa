using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A dense connection (DenseNet): forward, per image, <c>y = [x, s]</c> along the channels, where <c>s</c> is an earlier
/// layer's output, still in its buffer; backward <c>dx = dy[first channels]</c> and <c>ds = dy[last channels]</c>, the
/// latter added to the source's output gradient once the layers in between have run (see <c>RunBackward</c>).
/// </summary>
internal sealed class ConcatLayer : LayerEmitter
{
    public static readonly ConcatLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, LayerSpec? previous, LayerSpec? next, LayerSpec? afterNext)
    {
        long inLen = l.Input.Length, outLen = l.Output.Length, sourceLen = outLen - inLen;
        OpenForward(w, l);
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"inp.Slice(b * {inLen}, {inLen}).CopyTo(outp.Slice(b * {outLen}, {inLen})); // the input's {l.Input.Channels} channels");
        w.Line($"new global::System.ReadOnlySpan<float>(ws._act_{l.SourceName}, b * {sourceLen}, {sourceLen}).CopyTo(outp.Slice(b * {outLen} + {inLen}, {sourceLen})); // then {l.SourceName}'s {l.Output.Channels - l.Input.Channels}");
        w.Close();
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient)
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
