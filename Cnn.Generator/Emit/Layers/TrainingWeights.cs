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
/// they change, so training keeps its own). One array of each per layer, owned by the network, allocated on first use by
/// <c>EnsureTrainingWeights</c> (the runtime's <c>BeforeKeptPass</c>, on the calling thread), made by
/// <c>PrepareTrainingWeights</c> once per such pass (the runtime's <c>PrepareKeptPass</c>: in parts, one on each worker
/// before their chunks, or all on the calling thread) and read by every worker and micro-batch of the pass. Weights change
/// with every optimiser step, so they are made every time.
/// </summary>
internal static class TrainingWeights
{
    private const string Runtime = "global::CnnGen.Parallelism";

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

    /// <summary>The fields, <c>EnsureTrainingWeights</c> and <c>PrepareTrainingWeights</c> for <paramref name="layers"/> (from <see cref="Layers"/>).</summary>
    public static void EmitPreparation(SourceWriter w, IReadOnlyList<LayerSpec> layers, System.Func<LayerSpec, bool> needsInputGradient)
    {
        w.Line("// ---- The weights passes that keep their outputs read in other layouts: flipped for the input gradients, Winograd's transforms ----");
        var tasks = Tasks(layers, needsInputGradient);
        // Each layer's arrays: the forward transform's, then the flipped weights and their transform.
        var arrays = layers.SelectMany(l => tasks.Where(t => t.Layer == l).OrderBy(t => t.Kind).SelectMany(Arrays)).ToList();
        foreach (var l in layers)
            w.Line($"private float[] {string.Join(" = global::System.Array.Empty<float>(), ", arrays.Where(a => a.Layer == l).Select(a => a.Field))} = global::System.Array.Empty<float>();");
        w.Line();
        w.Line("/// <summary>Before a pass that keeps its outputs, on the calling thread: the arrays of the weights below, on first use.</summary>");
        w.Open("private void EnsureTrainingWeights()");
        foreach (var (_, field, length) in arrays)
            w.Line($"if ({field}.Length == 0) {field} = new float[{length}];");
        w.Close();
        w.Line();
        w.Line("/// <summary>Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of making the weights a pass that keeps its outputs reads:");
        w.Line("/// each such layer's weights rotated 180 degrees with channels and filters swapped, and Winograd's transforms, once for");
        w.Line("/// all the workers and micro-batches of the pass, each part on its own worker. The tasks are numbered from the most");
        w.Line("/// values written down and dealt out by <c>TaskParts</c>; each writes its own arrays.</summary>");
        w.Open("private void PrepareTrainingWeights(int part, int parts)");
        for (int t = 0; t < tasks.Count; t++)
        {
            var (l, kind, values) = tasks[t];
            var c = (ConvOp)l.Op;
            string shape = $"filters: {c.Filters}, channels: {l.Input.Channels}";
            string guard = $"if ({Runtime}.TaskParts.Of({t}, parts) == part)";
            switch (kind)
            {
                case TaskKind.Forward:
                    w.Line($"// {l.Name}: the transform of its weights for its Winograd training forward pass ({values:N0} values)");
                    w.Line($"{guard} {LayerEmitter.Kernels}.Winograd3x3.TransformWeights({LayerEmitter.Weight(l)}, {Forward(l)}, {shape}, f0: 0, f1: {c.Filters});");
                    break;
                case TaskKind.WinogradInputGradient:
                    w.Line($"// {l.Name}: its flipped weights and their transform for its Winograd input gradient ({values:N0} values)");
                    w.Line($"{guard} {LayerEmitter.Kernels}.WinogradInputGradient.TransformWeights({LayerEmitter.Weight(l)}, {Flipped(l)}, {InputGradient(l)}, {shape});");
                    break;
                default:
                    w.Line($"// {l.Name}: its flipped weights for its direct input gradient ({values:N0} values)");
                    w.Line($"{guard} {LayerEmitter.Kernels}.DirectConvInputGradient.FlipWeights({LayerEmitter.Weight(l)}, {Flipped(l)}, {shape}, kernel: {c.Kernel});");
                    break;
            }
        }
        w.Close();
    }

    /// <summary>Values the preparation of <paramref name="layers"/> writes (0 for none).</summary>
    public static long Values(IReadOnlyList<LayerSpec> layers, System.Func<LayerSpec, bool> needsInputGradient) =>
        Tasks(layers, needsInputGradient).Sum(t => t.Values);

    private enum TaskKind { Forward, WinogradInputGradient, Flip }

    /// <summary>The arrays a task writes: its field and length, in the order the fields are declared.</summary>
    private static IEnumerable<(LayerSpec Layer, string Field, long Length)> Arrays((LayerSpec Layer, TaskKind Kind, long Values) task)
    {
        var (l, kind, _) = task;
        if (kind == TaskKind.Forward) yield return (l, Forward(l), Transformed(l));
        if (kind != TaskKind.Forward) yield return (l, Flipped(l), l.WeightLength);
        if (kind == TaskKind.WinogradInputGradient) yield return (l, InputGradient(l), Transformed(l));
    }

    /// <summary>Values of a layer's Winograd transform of its weights (or of its flipped weights): 6 x 6 per filter and channel.</summary>
    private static long Transformed(LayerSpec l) => 36L * ((ConvOp)l.Op).Filters * l.Input.Channels;

    /// <summary>The preparation's tasks, from the most values written to the fewest (in layer order among equals).</summary>
    private static List<(LayerSpec Layer, TaskKind Kind, long Values)> Tasks(IReadOnlyList<LayerSpec> layers, System.Func<LayerSpec, bool> needsInputGradient)
    {
        var tasks = new List<(LayerSpec Layer, TaskKind Kind, long Values)>();
        foreach (var l in layers)
        {
            if (l.WinogradTraining) tasks.Add((l, TaskKind.Forward, Transformed(l)));
            if (l.WinogradInputGradient && needsInputGradient(l)) tasks.Add((l, TaskKind.WinogradInputGradient, Transformed(l) + l.WeightLength));
            else if (l.DirectInputGradient && needsInputGradient(l)) tasks.Add((l, TaskKind.Flip, l.WeightLength));
        }
        return tasks.Select((t, i) => (t, i)).OrderByDescending(x => x.t.Values).ThenBy(x => x.i).Select(x => x.t).ToList();
    }
}
