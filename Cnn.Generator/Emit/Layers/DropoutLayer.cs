using System.Collections.Generic;
using System.Globalization;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inverted dropout (seed 003): in training mode forward multiplies each value by its mask entry, 0 with probability
/// <c>rate</c> and <c>1 / (1 - rate)</c> otherwise, and backward multiplies the gradient by the same mask; in evaluation
/// mode both pass values through.
/// </summary>
internal sealed class DropoutLayer : LayerEmitter
{
    public static readonly DropoutLayer Instance = new();

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        yield return new Scratch("_mask_" + l.Id, "float", l.Output.Length, PerBatch: true, BackwardOnly: false);
    }

    private static string Rate(LayerSpec l) => ((DropoutOp)l.Op).Rate.ToString("R", CultureInfo.InvariantCulture) + "f";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long length = l.Input.Length;
        OpenForward(w, l);
        w.Line($"var x = inp.Slice(0, batch * {length});");
        w.Open("if (!ws.TrainMode)");
        w.Line("x.CopyTo(outp); // evaluation: identity");
        w.Line("return;");
        w.Close();
        w.Line($"{Kernels}.Dropout.Mask(ws._mask_{l.Id}, _dropoutSeed, Step, ws.ImageOffset, batch, units: {length}, rate: {Rate(l)});");
        w.Line($"{Kernels}.Dropout.Apply(x, ws._mask_{l.Id}, outp);");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"var dy = dout.Slice(0, batch * {l.Input.Length});");
            w.Line($"if (ws.TrainMode) {Kernels}.Dropout.Apply(dy, ws._mask_{l.Id}, dinp); // dx = dy * mask");
            w.Line("else dy.CopyTo(dinp);");
        }
        w.Close();
    }
}
