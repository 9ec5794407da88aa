using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// The weights a pass that keeps its outputs (a gradient pass, or the unfused pass of <c>Activations</c>) reads in another
/// layout than the parameters: the flipped weights of the input gradients computed as full convolutions
/// (<see cref="LayerSpec.DirectInputGradient"/>, <see cref="LayerSpec.WinogradInputGradient"/>), the Winograd transform of
/// those flipped weights, and the Winograd transform of the weights of convolutions whose training forward pass runs
/// Winograd (<see cref="LayerSpec.WinogradTraining"/>; the inference transform is of folded weights and only remade when
/// they change, so training keeps its own). One array of each per layer, owned by the network, made by
/// <c>PrepareTrainingWeights</c> once per such pass (the runtime's <c>BeforeKeptPass</c>, before the workers start) and
/// read by every worker and micro-batch of the pass. Weights change with every optimiser step, so they are made every time.
/// </summary>
internal static class TrainingWeights
{
    /// <summary>The network's field of a layer's flipped weights.</summary>
    public static string Flipped(LayerSpec l) => "_flippedWeights_" + l.Id;

    /// <summary>The network's field of a layer's weights transformed for its Winograd training forward pass.</summary>
    public static string Forward(LayerSpec l) => "_winogradTraining_" + l.Id;

    /// <summary>The network's field of a layer's flipped weights transformed for its Winograd input gradient.</summary>
    public static string InputGradient(LayerSpec l) => "_winogradInputGradient_" + l.Id;

    /// <summary>The layers that need any of these weights: those whose training forward pass runs Winograd, and those
    /// whose input gradient is computed (<paramref name="needsInputGradient"/>) as a full convolution.</summary>
    public static List<LayerSpec> Layers(IEnumerable<LayerSpec> body, System.Func<LayerSpec, bool> needsInputGradient) =>
        body.Where(l => l.WinogradTraining || (l.DirectInputGradient || l.WinogradInputGradient) && needsInputGradient(l)).ToList();

    /// <summary>The fields and <c>PrepareTrainingWeights</c> for <paramref name="layers"/> (from <see cref="Layers"/>).</summary>
    public static void EmitPreparation(SourceWriter w, IReadOnlyList<LayerSpec> layers, System.Func<LayerSpec, bool> needsInputGradient)
    {
        w.Line("// ---- The weights passes that keep their outputs read in other layouts: flipped for the input gradients, Winograd's transforms ----");
        foreach (var l in layers)
        {
            var fields = new List<string>();
            if (l.WinogradTraining) fields.Add(Forward(l));
            if (FlipsWeights(l, needsInputGradient)) fields.Add(Flipped(l));
            if (l.WinogradInputGradient && needsInputGradient(l)) fields.Add(InputGradient(l));
            w.Line($"private float[] {string.Join(" = global::System.Array.Empty<float>(), ", fields)} = global::System.Array.Empty<float>();");
        }
        w.Line();
        w.Line("/// <summary>Before a pass that keeps its outputs: each such layer's weights rotated 180 degrees with channels and filters");
        w.Line("/// swapped, and Winograd's transforms, once for all the workers and micro-batches of the pass.</summary>");
        w.Open("private void PrepareTrainingWeights()");
        foreach (var l in layers)
        {
            var c = (ConvOp)l.Op;
            string shape = $"filters: {c.Filters}, channels: {l.Input.Channels}";
            long transformed = 36L * c.Filters * l.Input.Channels;
            w.Line($"// {l.Name}");
            if (l.WinogradTraining)
            {
                w.Line($"if ({Forward(l)}.Length == 0) {Forward(l)} = new float[{transformed}];");
                w.Line($"{LayerEmitter.Kernels}.Winograd3x3.TransformWeights({LayerEmitter.Weight(l)}, {Forward(l)}, {shape}, f0: 0, f1: {c.Filters});");
            }
            if (FlipsWeights(l, needsInputGradient))
                w.Line($"if ({Flipped(l)}.Length == 0) {Flipped(l)} = new float[{l.WeightLength}];");
            if (l.WinogradInputGradient && needsInputGradient(l))
            {
                w.Line($"if ({InputGradient(l)}.Length == 0) {InputGradient(l)} = new float[{transformed}];");
                w.Line($"{LayerEmitter.Kernels}.WinogradInputGradient.TransformWeights({LayerEmitter.Weight(l)}, {Flipped(l)}, {InputGradient(l)}, {shape});");
            }
            else if (l.DirectInputGradient && needsInputGradient(l))
                w.Line($"{LayerEmitter.Kernels}.DirectConvInputGradient.FlipWeights({LayerEmitter.Weight(l)}, {Flipped(l)}, {shape}, kernel: {c.Kernel});");
        }
        w.Close();
    }

    private static bool FlipsWeights(LayerSpec l, System.Func<LayerSpec, bool> needsInputGradient) =>
        (l.DirectInputGradient || l.WinogradInputGradient) && needsInputGradient(l);
}
