using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A shortcut (ResNet): forward <c>y = x + s1 + s2 + ...</c>, where each <c>s</c> is an earlier layer's output, still in its
/// buffer; backward <c>dx = dy</c> and <c>ds = dy</c> for each. The layers in between overwrite the source's output gradient on their
/// way back, so <c>ds</c> is added to it once they have (see <c>RunBackward</c>), read from this layer's output gradient,
/// which no later step of the backward pass changes.
/// </summary>
internal sealed class AddLayer : LayerEmitter
{
    public static readonly AddLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long length = l.Output.Length;
        OpenForward(w, l);
        w.Line($"var x = inp.Slice(0, batch * {length});");
        var sources = l.Join!.Sources;
        for (int k = 0; k < sources.Count; k++)
        {
            var source = network.Layers[sources[k]];
            string shortcut = sources.Count == 1 ? "shortcut" : "shortcut" + (k + 1);
            w.Line($"var {shortcut} = new global::System.ReadOnlySpan<float>(ws._act_{source.Id}, 0, x.Length); // {source.Name}'s output");
            string sum = k == 0 ? "x" : "outp.Slice(0, x.Length)";
            w.Line($"global::System.Numerics.Tensors.TensorPrimitives.Add({sum}, {shortcut}, outp.Slice(0, x.Length)); // y = {(k == 0 ? "x" : "y")} + {shortcut}");
        }
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient)
    {
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"var dy = dout.Slice(0, batch * {l.Output.Length});");
            w.Line("dy.CopyTo(dinp); // dx = dy; ds = dy is added to the source's gradient once the layers in between have run");
        }
        w.Close();
    }
}
