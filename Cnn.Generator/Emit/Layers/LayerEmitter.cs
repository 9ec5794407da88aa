using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>A scratch buffer a layer keeps between calls. <c>PerImage</c> values, times the batch when <c>PerBatch</c>.</summary>
internal sealed record Scratch(string Field, string ElementType, long PerImage, bool PerBatch, bool BackwardOnly);

/// <summary>
/// Writes one layer kind's forward and backward methods, side by side, so one can be checked against the other.
/// Forward signature: <c>(ReadOnlySpan&lt;float&gt; inp, Span&lt;float&gt; outp, int batch)</c>.
/// Backward: <c>(ReadOnlySpan&lt;float&gt; inp, ReadOnlySpan&lt;float&gt; outp, ReadOnlySpan&lt;float&gt; dout, Span&lt;float&gt; dinp, int batch)</c>,
/// adding parameter gradients into <c>_gradients</c> and writing <c>dinp</c> only when a trainable layer lies before it.
/// </summary>
internal abstract class LayerEmitter
{
    public virtual IEnumerable<Scratch> Buffers(LayerSpec layer) { yield break; }

    public abstract void Forward(SourceWriter w, LayerSpec l);

    public abstract void Backward(SourceWriter w, LayerSpec l, bool needInputGradient);

    public static LayerEmitter For(LayerKind kind) => kind switch
    {
        LayerKind.Conv => ConvLayer.Instance,
        LayerKind.Dense => DenseLayer.Instance,
        LayerKind.MaxPool => MaxPoolLayer.Instance,
        LayerKind.AvgPool => AvgPoolLayer.Instance,
        _ => ActivationLayer.Instance,
    };

    protected const string Kernels = "global::CnnGen.Kernels";

    public static string ForwardName(LayerSpec l) => "Forward_" + l.Name;
    public static string BackwardName(LayerSpec l) => "Backward_" + l.Name;

    protected static void OpenForward(SourceWriter w, LayerSpec l) =>
        w.Open($"private void {ForwardName(l)}(global::System.ReadOnlySpan<float> inp, global::System.Span<float> outp, int batch)");

    protected static void OpenBackward(SourceWriter w, LayerSpec l) =>
        w.Open($"private void {BackwardName(l)}(global::System.ReadOnlySpan<float> inp, global::System.ReadOnlySpan<float> outp, " +
               "global::System.ReadOnlySpan<float> dout, global::System.Span<float> dinp, int batch)");

    protected static string Weight(LayerSpec l) => $"new global::System.ReadOnlySpan<float>(_parameters, {l.ParameterOffset}, {l.WeightLength})";
    protected static string Bias(LayerSpec l) => $"new global::System.ReadOnlySpan<float>(_parameters, {l.ParameterOffset + l.WeightLength}, {l.BiasLength})";
    protected static string DWeight(LayerSpec l) => $"new global::System.Span<float>(_gradients, {l.ParameterOffset}, {l.WeightLength})";
    protected static string DBias(LayerSpec l) => $"new global::System.Span<float>(_gradients, {l.ParameterOffset + l.WeightLength}, {l.BiasLength})";
}
