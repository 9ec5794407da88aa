using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Batch normalisation (seed 002), per channel over the batch and the positions (<c>M = batch * H * W</c> values):
/// forward <c>x_hat = (x - mean) * invstd</c>, <c>y = weight * x_hat + bias</c>; backward <c>dbias = sum dy</c>,
/// <c>dweight = sum dy * x_hat</c>, <c>dx = weight * invstd * (dy - sum(dy) / M - x_hat * sum(dy * x_hat) / M)</c>.
/// In training mode the mean and biased variance are the whole batch's: every worker sums its own images, all workers
/// meet at a barrier, and each adds the sums in worker order (so all get the same statistics); worker 0 then updates
/// the running statistics. In evaluation mode the running statistics are constants, <c>dx = dy * weight * invstd</c>,
/// and after a convolution inference does not run this layer at all: it is folded into the convolution's weights. A ReLU
/// that alone reads this layer is applied as the values are stored in a gradient pass (<c>FuseGradientPassRelus</c>) and,
/// when no convolution takes this layer in, in inference (<c>FuseAddRelus</c>). When a 1x1 convolution alone reads that
/// ReLU (DenseNet's pre-activation layers), the convolution applies both to this layer's input as it reads it in
/// inference (<c>NormalizeProductInputs</c>) and this layer only computes its scale and shift. Otherwise, when one image
/// is split over the threads, a large layer applies its scale and shift by ranges of channels: DenseNet-121's 58
/// normalisations of its joined maps (one image, two threads) took 2.1 ms on one thread and 4.6 ms left to the calling
/// thread, which read the join's values the other core had written.
/// </summary>
internal sealed class BatchNormLayer : LayerEmitter
{
    public static readonly BatchNormLayer Instance = new();

    /// <summary>The layer's eps: the attribute's default by name, or the declared value.</summary>
    internal static string Epsilon(LayerSpec l) => ((BatchNormOp)l.Op).Epsilon is var e && e == BatchNormOp.DefaultEpsilon
        ? "global::CnnGen.BatchNormAttribute.DefaultEpsilon" : e.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    private static string Momentum(LayerSpec l) => ((BatchNormOp)l.Op).Momentum is var m && m == BatchNormOp.DefaultMomentum
        ? "global::CnnGen.BatchNormAttribute.DefaultMomentum" : m.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    private static int Channels(LayerSpec l) => ((BatchNormOp)l.Op).Channels;

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        int c = Channels(l);
        yield return new Scratch("_sums_" + l.Id, "double", 2 * c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_total_" + l.Id, "double", 2 * c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_mean_" + l.Id, "float", c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_invstd_" + l.Id, "float", c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_scale_" + l.Id, "float", c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_shift_" + l.Id, "float", c, PerBatch: false, BackwardOnly: false);
        yield return new Scratch("_dsums_" + l.Id, "double", 2 * c, PerBatch: false, BackwardOnly: true);
        if (needInputGradient) yield return new Scratch("_dtotal_" + l.Id, "double", 2 * c, PerBatch: false, BackwardOnly: true);
    }

    private static string RunningMean(LayerSpec l) => $"new global::System.Span<float>(_state, {l.StateOffset}, {Channels(l)})";
    private static string RunningVar(LayerSpec l) => $"new global::System.Span<float>(_state, {l.StateOffset + Channels(l)}, {Channels(l)})";
    private static string Dims(LayerSpec l) => $"batch, channels: {Channels(l)}, spatial: {l.Spatial}";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        string n = l.Id;
        OpenForward(w, l);
        w.Line($"var x = inp.Slice(0, batch * {l.Input.Length});");
        w.Open("if (ws.TrainMode)");
        w.Line("// Training: the whole batch's statistics. Sum this worker's images, wait for the others, add all sums in worker order.");
        w.Line($"var sums = new global::System.Span<double>(ws._sums_{n});");
        w.Line("sums.Clear();");
        w.Line($"{Kernels}.BatchNorm.AddSums(x, {Dims(l)}, sums);");
        w.Line($"var total = SumOverWorkers(ws._total_{n}, static w => w._sums_{n});");
        w.Line($"long count = (long)_batchSize * {l.Spatial}; // values per channel in the batch");
        w.Line($"{Kernels}.BatchNorm.MeanAndInvStd(total, count, {Epsilon(l)}, ws._mean_{n}, ws._invstd_{n});");
        w.Line($"if (ws.Worker == 0) {Kernels}.BatchNorm.UpdateRunning(total, count, {Momentum(l)}, {RunningMean(l)}, {RunningVar(l)}, ref _state[{l.StateOffset + 2 * Channels(l)}]);");
        w.Close();
        w.Open("else");
        w.Line("// Evaluation: the running statistics.");
        w.Line($"{RunningMean(l)}.CopyTo(ws._mean_{n});");
        w.Line($"{Kernels}.BatchNorm.InvStd({RunningVar(l)}, {Epsilon(l)}, ws._invstd_{n});");
        w.Close();
        w.Line($"// y = x * scale + shift: scale = weight * invstd, shift = bias - mean * scale");
        w.Line($"{Kernels}.BatchNorm.ScaleAndShift({Weight(l)}, {Bias(l)}, ws._mean_{n}, ws._invstd_{n}, ws._scale_{n}, ws._shift_{n});");
        if (l.NormalizedBy >= 0)
            w.Line($"if (!ws.KeepForBackward) return; // in inference {network.Layers[l.NormalizedBy].Name} applies this scale and shift and {network.Layers[l.FusedRelu].Name} to this layer's input as it reads it");
        bool split = ImageSplit.WorthByValues(l) && l.Spatial > 1;
        var inferenceRelu = l.FusedRelu >= 0 ? network.Layers[l.FusedRelu] : null;
        if (split)
        {
            // A split pass is an evaluation pass that keeps nothing for backward: the fused ReLU's output when there is one.
            ImageSplit.EmitRunAndReturn(w, ChannelsMethod(l), inferenceRelu is null ? "outp" : $"ws._act_{inferenceRelu.Id}", Channels(l), block: 1);
        }
        if (l.FusedRelu >= 0 || l.GradientPassRelu >= 0)
        {
            // The same ReLU either way: the one that alone reads this layer.
            var relu = network.Layers[l.FusedRelu >= 0 ? l.FusedRelu : l.GradientPassRelu];
            bool inference = l.FusedRelu >= 0, gradientPass = l.GradientPassRelu >= 0;
            w.Open(inference && gradientPass ? "if (!ws.KeepForBackward || !ws.WritesEveryOutput)"
                : inference ? "if (!ws.KeepForBackward)" : "if (ws.KeepForBackward && !ws.WritesEveryOutput)");
            string when = inference && gradientPass ? "In inference and in a gradient pass" : inference ? "In inference" : "A gradient pass";
            w.Line($"// {when}: {relu.Name} is applied as the values are stored, into its output (same bits as its own pass); this layer's own output is not written.");
            w.Line($"{Kernels}.BatchNorm.Apply(x, ws._act_{relu.Id}, {Dims(l)}, ws._scale_{n}, ws._shift_{n}, {Kernels}.FusedActivation.Relu);");
            w.Line("return;");
            w.Close();
        }
        w.Line($"{Kernels}.BatchNorm.Apply(x, outp, {Dims(l)}, ws._scale_{n}, ws._shift_{n});");
        w.Close();
        if (split) EmitChannels(w, l, inferenceRelu);
    }

    private static string ChannelsMethod(LayerSpec l) => "ForwardChannels_" + l.Id;

    /// <summary>Channels <c>[start, end)</c> of each image, in evaluation: the scale and shift the whole layer computed,
    /// applied plane by plane as the whole layer applies them (with <paramref name="relu"/> when it is fused), so any cut
    /// gives the same bits. By channels, each thread reads and writes one contiguous part of the map: cut by rows, every
    /// plane's halves met at a boundary the two cores' prefetchers crossed, and on 2 cores a range of rows of
    /// 96 x 56 x 56 values took as long as the whole map on one thread.</summary>
    private static void EmitChannels(SourceWriter w, LayerSpec l, LayerSpec? relu)
    {
        string n = l.Id;
        long plane = l.Spatial, image = l.Input.Length;
        ImageSplit.OpenRange(w, ChannelsMethod(l), $"Channels [start, end) of each image of {l.Name}{(relu is null ? "" : $" with {relu.Name} applied")}: " +
            "the same operations as the whole layer.");
        w.Line($"var scale = new global::System.ReadOnlySpan<float>(ws._scale_{n}, start, end - start);");
        w.Line($"var shift = new global::System.ReadOnlySpan<float>(ws._shift_{n}, start, end - start);");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {Kernels}.BatchNorm.Apply(inp.Slice(b * {image} + start * {plane}, (end - start) * {plane}), outp.Slice(b * {image} + start * {plane}, (end - start) * {plane}), " +
               $"1, end - start, {plane}, scale, shift{(relu is null ? "" : $", {Kernels}.FusedActivation.Relu")});");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        string n = l.Id;
        OpenBackward(w, l);
        w.Line($"var x = inp.Slice(0, batch * {l.Input.Length});");
        var relu = l.ReluBackwardBeforeOwn >= 0 ? network.Layers[l.ReluBackwardBeforeOwn] : null;
        if (relu is not null)
        {
            w.Line($"// dout is {relu.Name}'s output gradient: its backward pass (dy = y > 0 ? dy : 0, y being the output this layer stored for it)");
            w.Line($"// masks it in place into this layer's output gradient, a channel's row at a time as its sums are taken.");
            w.Line($"var dy = new global::System.Span<float>(ws.{GradientFlow.Grad(network, relu.Index)}, 0, batch * {l.Input.Length});");
        }
        else
        {
            w.Line($"var dy = dout.Slice(0, batch * {l.Input.Length});");
            w.Line($"// This worker's sum(dy) and sum(dy * (x - mean)) per channel.");
        }
        w.Line($"var dsums = new global::System.Span<double>(ws._dsums_{n});");
        w.Line("dsums.Clear();");
        w.Line(relu is not null
            ? $"{Kernels}.BatchNorm.MaskAndAddGradientSums(dy, new global::System.ReadOnlySpan<float>(ws._act_{relu.Id}, 0, batch * {l.Input.Length}), x, ws._mean_{n}, {Dims(l)}, dsums);"
            : $"{Kernels}.BatchNorm.AddGradientSums(dy, x, ws._mean_{n}, {Dims(l)}, dsums);");
        w.Line($"// dweight += sum dy * x_hat, dbias += sum dy");
        w.Line($"if (!_frozen[{l.Index}]) {Kernels}.BatchNorm.AddParameterGradients(dsums, ws._invstd_{n}, {DWeight(l)}, {DBias(l)});");
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Open("if (ws.TrainMode)");
            w.Line("// The mean and variance depend on every image of the batch: dx needs the whole batch's gradient sums.");
            w.Line($"var total = SumOverWorkers(ws._dtotal_{n}, static w => w._dsums_{n});");
            w.Line($"{Kernels}.BatchNorm.InputGradient(dy, x, ws._mean_{n}, ws._invstd_{n}, {Weight(l)}, total, (long)_batchSize * {l.Spatial}, {Dims(l)}, dinp);");
            w.Close();
            w.Line($"else {Kernels}.BatchNorm.ScaledGradient(dy, ws._scale_{n}, {Dims(l)}, dinp); // dx = dy * weight * invstd");
        }
        w.Close();
    }
}
