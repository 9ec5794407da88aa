using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Maxout (seed 002): forward keeps the largest of each group of <c>pieces</c> consecutive channels and remembers
/// which channel won; backward routes the gradient only to that channel, like max pooling across channels.
/// </summary>
internal sealed class MaxoutLayer : LayerEmitter
{
    public static readonly MaxoutLayer Instance = new();

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        yield return new Scratch("_winner_" + l.Id, "int", l.Output.Length, PerBatch: true, BackwardOnly: false);
    }

    private static string Shape(LayerSpec l) =>
        $"outChannels: {l.Output.Channels}, pieces: {((MaxoutOp)l.Op).Pieces}, plane: {l.Output.Height * l.Output.Width}";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        OpenForward(w, l);
        w.Line($"{Kernels}.Maxout.Forward(inp, outp, ws._winner_{l.Id}, batch, {Shape(l)});");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"{Kernels}.Maxout.Backward(dout, ws._winner_{l.Id}, dinp, batch, {Shape(l)});");
        }
        w.Close();
    }
}
