using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// The flipped weights of the convolutions whose input gradient the direct kernel computes
/// (<see cref="LayerSpec.DirectInputGradient"/>): one array per layer, owned by the network, made by
/// <c>PrepareInputGradientWeights</c> once per gradient call (the runtime's <c>BeforeBackward</c>, before the workers
/// start) and read by every worker and micro-batch of the call.
/// </summary>
internal static class InputGradientWeights
{
    /// <summary>The network's field of a layer's flipped weights.</summary>
    public static string Field(LayerSpec l) => "_flippedWeights_" + l.Id;

    /// <summary>The fields and <c>PrepareInputGradientWeights</c> for <paramref name="layers"/> (those whose input
    /// gradient is computed and runs the direct kernel).</summary>
    public static void EmitPreparation(SourceWriter w, IReadOnlyList<LayerSpec> layers)
    {
        w.Line("// ---- The flipped weights of the input gradients computed as full convolutions by the direct kernel ----");
        foreach (var l in layers)
            w.Line($"private float[] {Field(l)} = global::System.Array.Empty<float>();");
        w.Line();
        w.Line("/// <summary>Before a gradient pass: each such layer's weights rotated 180 degrees with channels and filters swapped,");
        w.Line("/// once for all the workers and micro-batches of the call.</summary>");
        w.Open("private void PrepareInputGradientWeights()");
        foreach (var l in layers)
        {
            var c = (ConvOp)l.Op;
            w.Line($"if ({Field(l)}.Length == 0) {Field(l)} = new float[{l.WeightLength}];");
            w.Line($"{LayerEmitter.Kernels}.DirectConvInputGradient.FlipWeights({LayerEmitter.Weight(l)}, {Field(l)}, filters: {c.Filters}, channels: {l.Input.Channels}, kernel: {c.Kernel}); // {l.Name}");
        }
        w.Close();
    }
}
