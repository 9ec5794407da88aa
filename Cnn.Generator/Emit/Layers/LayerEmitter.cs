using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// A buffer in each worker's workspace: <c>PerImage</c> values, times the batch when <c>PerBatch</c>, or when
/// <c>PerBatchWhenTraining</c> and the pass computes gradients (the backward pass then reuses what forward kept);
/// <c>BackwardOnly</c> buffers exist only once gradients are computed. <c>LeftOutOfMicroBatch</c> buffers (inference-only
/// scratch) are not counted when the micro-batch is sized, so they leave training's micro-batch as it was. A per-batch
/// buffer holds at most <c>MostValues</c> values however large the batch (a kernel that works a cache-sized block at a time).
/// A <c>TailBlock</c> buffer (a batched tail's output, see <c>BatchedTail</c>) holds at least a tail block's images.
/// </summary>
internal sealed record Scratch(string Field, string ElementType, long PerImage, bool PerBatch, bool BackwardOnly, bool PerBatchWhenTraining = false,
    bool LeftOutOfMicroBatch = false, long MostValues = long.MaxValue, bool TailBlock = false);

/// <summary>
/// Writes one layer kind's forward and backward methods, side by side, so one can be checked against the other.
/// Forward signature: <c>(ReadOnlySpan&lt;float&gt; inp, Span&lt;float&gt; outp, int batch)</c>.
/// Backward: <c>(ReadOnlySpan&lt;float&gt; inp, ReadOnlySpan&lt;float&gt; outp, ReadOnlySpan&lt;float&gt; dout, Span&lt;float&gt; dinp, int batch)</c>,
/// adding parameter gradients into the worker's <c>ws.Gradients</c> and writing <c>dinp</c> only when a trainable layer lies before it.
/// </summary>
internal abstract class LayerEmitter
{
    public virtual IEnumerable<Scratch> Buffers(LayerSpec layer, bool needInputGradient) { yield break; }

    /// <param name="network">The whole network, to look up the layers that the analysis's fusion decisions name.</param>
    public abstract void Forward(SourceWriter w, LayerSpec l, NetworkSpec network);

    /// <param name="network">The whole network, as for <see cref="Forward"/>.</param>
    public abstract void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network);

    public static LayerEmitter For(LayerSpec l) => l.Op is ConvOp { Groups: > 1 } ? GroupedConvLayer.Instance : For(l.Kind);

    public static LayerEmitter For(LayerKind kind) => kind switch
    {
        LayerKind.Conv => ConvLayer.Instance,
        LayerKind.Dense => DenseLayer.Instance,
        LayerKind.MaxPool => MaxPoolLayer.Instance,
        LayerKind.AvgPool => AvgPoolLayer.Instance,
        LayerKind.Maxout => MaxoutLayer.Instance,
        LayerKind.Dropout => DropoutLayer.Instance,
        LayerKind.BatchNorm => BatchNormLayer.Instance,
        LayerKind.Add => AddLayer.Instance,
        LayerKind.Concat => ConcatLayer.Instance,
        LayerKind.GlobalAvgPool => GlobalAvgPoolLayer.Instance,
        _ => ActivationLayer.Instance,
    };

    internal const string Kernels = "global::CnnGen.Kernels";

    /// <summary>The runtime's <c>FusedActivation</c> for a ReLU or ReLU6 layer that a kernel applies as it stores.</summary>
    internal static string FusedActivationKind(LayerSpec relu) => $"{Kernels}.FusedActivation.{(relu.Kind == LayerKind.ReLU6 ? "Relu6" : "Relu")}";

    public static string ForwardName(LayerSpec l) => "Forward_" + l.Id;
    public static string BackwardName(LayerSpec l) => "Backward_" + l.Id;

    /// <summary>Hot methods are compiled fully optimised at once: tier-0 code would run long loops slowly.</summary>
    public const string Optimized = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    protected static void OpenForward(SourceWriter w, LayerSpec l)
    {
        w.Line(Optimized);
        w.Open($"private void {ForwardName(l)}(Workspace ws, global::System.ReadOnlySpan<float> inp, global::System.Span<float> outp, int batch)");
    }

    protected static void OpenBackward(SourceWriter w, LayerSpec l)
    {
        w.Line(Optimized);
        w.Open($"private void {BackwardName(l)}(Workspace ws, global::System.ReadOnlySpan<float> inp, global::System.ReadOnlySpan<float> outp, " +
               "global::System.ReadOnlySpan<float> dout, global::System.Span<float> dinp, int batch)");
    }

    /// <summary>The caller passes an empty <c>dinp</c> when no layer before this one trains (all frozen): stop there.</summary>
    protected static void ReturnWithoutInputGradient(SourceWriter w) =>
        w.Line("if (dinp.IsEmpty) return; // no trainable layer before this one");

    internal static string Weight(LayerSpec l) => $"new global::System.ReadOnlySpan<float>(_parameters, {l.ParameterOffset}, {l.WeightLength})";
    /// <summary>The learned bias, or zeros (<c>_noBias</c>) for a Conv or Dense layer declared with <c>Bias = false</c>.</summary>
    internal static string Bias(LayerSpec l) => l.BiasLength == 0
        ? $"new global::System.ReadOnlySpan<float>(_noBias, 0, {l.BiasSlots})"
        : $"new global::System.ReadOnlySpan<float>(_parameters, {l.ParameterOffset + l.WeightLength}, {l.BiasLength})";
    /// <summary>The weights with the BatchNorm after this layer folded in (<c>FoldBatchNorms</c>).</summary>
    internal static string FoldedWeight(LayerSpec l) => $"new global::System.ReadOnlySpan<float>(_folded, {l.FoldOffset}, {l.WeightLength})";
    /// <summary>The bias with the BatchNorm after this layer folded in.</summary>
    internal static string FoldedBias(LayerSpec l) => $"new global::System.ReadOnlySpan<float>(_folded, {l.FoldOffset + l.WeightLength}, {l.BiasSlots})";
    /// <summary>Evaluation with the BatchNorm after this convolution folded in: read the folded weights and write the BatchNorm's output.</summary>
    protected static void EmitFold(SourceWriter w, LayerSpec l, LayerSpec bn)
    {
        w.Open("if (ws.Folded)");
        w.Line($"// Evaluation: {bn.Name} is folded into these weights (FoldBatchNorms), so this writes {bn.Name}'s output.");
        w.Line($"weight = {FoldedWeight(l)};");
        w.Line($"bias = {FoldedBias(l)};");
        w.Line($"outp = ws._act_{bn.Id};");
        w.Close();
    }

    protected static string DWeight(LayerSpec l) => $"new global::System.Span<float>(ws.Gradients, {l.ParameterOffset}, {l.WeightLength})";
    protected static string DBias(LayerSpec l) => $"new global::System.Span<float>(ws.Gradients, {l.ParameterOffset + l.WeightLength}, {l.BiasLength})";
}
