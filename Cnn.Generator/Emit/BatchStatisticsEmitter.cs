using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// What a network with <c>[BatchNorm]</c> needs besides its layers: in training mode the workers must share the
/// batch's statistics (a barrier and a sum over workers, with each worker's chunk run as one micro-batch), and in
/// evaluation mode each BatchNorm after a convolution is folded into the convolution's weights before a pass.
/// </summary>
internal static class BatchStatisticsEmitter
{
    /// <summary>Layers with a BatchNorm folded into them (their folded weights start at <c>FoldOffset</c> in <c>_folded</c>).</summary>
    public static List<(LayerSpec Layer, LayerSpec BatchNorm)> Folds(NetworkSpec spec, List<LayerSpec> body) =>
        body.Where(l => l.FoldedBatchNorm >= 0).Select(l => (l, spec.Layers[l.FoldedBatchNorm])).ToList();

    public static void Emit(SourceWriter w, NetworkSpec spec, List<LayerSpec> body)
    {
        string cls = spec.ClassName;
        var norms = body.Where(l => l.Kind == LayerKind.BatchNorm).ToList();
        w.Line("// ---- Batch statistics: training-mode BatchNorm sees the whole batch across the workers ----");
        w.Line("private global::System.Threading.Barrier? _barrier;");
        w.Line("private int _activeWorkers = 1, _batchSize;");
        w.Line();
        w.Line("/// <summary>Before a training-mode pass: checks the batch, sizes every worker's buffers for its whole chunk (a worker");
        w.Line("/// must not fail between barriers) and sets up the barrier the workers meet at.</summary>");
        w.Open("private void PrepareBatchStatistics(int workers, int batchSize, bool training)");
        if (norms.FirstOrDefault(l => l.Spatial == 1) is { } flat)
        {
            w.Line("if (batchSize < 2)");
            w.Line($"    throw new global::System.ArgumentException($\"{cls}: {flat.Name} normalises each of its {flat.BiasLength} units over the batch in training mode, which needs more than one value per unit, but the batch has {{batchSize}} image. Use a larger batch, or evaluation mode (Training = false).\", nameof(batchSize));");
        }
        w.Line("_activeWorkers = workers;");
        w.Line("_batchSize = batchSize;");
        w.Line("int chunk = (batchSize + workers - 1) / workers;");
        w.Line("for (int t = 0; t < workers; t++) GeneratedPasses.Workspace(t).Ensure(chunk, training);");
        w.Open("if (workers > 1 && _barrier?.ParticipantCount != workers)");
        w.Line("_barrier?.Dispose();");
        w.Line("_barrier = new global::System.Threading.Barrier(workers);");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Waits until every worker has its share of a BatchNorm's sums, then adds the shares in worker order:");
        w.Line("/// every worker gets the same totals, whatever the timing.</summary>");
        w.Open("private global::System.ReadOnlySpan<double> SumOverWorkers(double[] total, global::System.Func<Workspace, double[]> share)");
        w.Line("if (_activeWorkers > 1) _barrier!.SignalAndWait();");
        w.Line("global::System.Array.Clear(total);");
        w.Open("for (int t = 0; t < _activeWorkers; t++)");
        w.Line("var part = share(GeneratedPasses.Workspace(t));");
        w.Line("for (int i = 0; i < total.Length; i++) total[i] += part[i];");
        w.Close();
        w.Line("return total;");
        w.Close();
        w.Line();
        w.Line("/// <summary>A failing worker leaves the barrier so the others do not wait for it; the pass then rethrows its exception.</summary>");
        w.Open("private void LeaveBarrier()");
        w.Line("try { if (_activeWorkers > 1) _barrier?.RemoveParticipant(); }");
        w.Line("catch (global::System.InvalidOperationException) { }");
        w.Close();

        var folds = Folds(spec, body);
        w.Line();
        w.Line("// ---- BatchNorm folding: in evaluation a BatchNorm after a convolution becomes part of its weights ----");
        w.Line($"private readonly float[] _folded = new float[{folds.Sum(f => (long)f.Layer.WeightLength + f.Layer.BiasSlots)}];");
        w.Line();
        w.Line("/// <summary>Evaluation-mode <c>Forward</c> folds each BatchNorm that follows a convolution into the convolution's");
        w.Line("/// weights (true, the default), so the BatchNorm costs nothing; false runs it as a layer (same result to float rounding).</summary>");
        w.Open("public bool FoldBatchNorm");
        w.Line("get => _foldBatchNorm;");
        w.Line("set { _foldBatchNorm = value; _passes?.WeightsMayChange(); } // a pass that did not fold left no folded weights to reuse");
        w.Close();
        w.Line("private bool _foldBatchNorm = true;");
        w.Line();
        w.Line("/// <summary>weight' = weight * s, bias' = (bias - running_mean) * s + bn.bias, with s = bn.weight / sqrt(running_var + eps),");
        if (folds.Any(f => FilterLanesConv.LaysOut(f.Layer)))
        {
            w.Line("/// from the current parameters and statistics: one pass over the weights. A Winograd or filter-lane layer's fold is compared");
            w.Line("/// with the one already held, only the values whose bits differ are written, and its transform or layout is marked stale");
            w.Line("/// when any did.</summary>");
        }
        else if (folds.Any(f => f.Layer.WinogradInference))
        {
            w.Line("/// from the current parameters and statistics: one pass over the weights. A Winograd layer's fold is compared with the one");
            w.Line("/// already held, only the values whose bits differ are written, and its transform is marked stale when any did.</summary>");
        }
        else
            w.Line("/// from the current parameters and statistics: one pass over the weights, 1 / (output positions) of one image's convolution.</summary>");
        w.Open("private void FoldBatchNorms()");
        foreach (var (layer, bn) in folds)
        {
            // Refold (read and compare) where a Winograd transform or filter-lane layout depends on knowing about a change; elsewhere nothing
            // needs to know, and writing every folded value measured faster than comparing it (MobileNetV2).
            bool refold = layer.WinogradInference || FilterLanesConv.LaysOut(layer);
            string kernel = refold ? "Refold" : "Fold";
            string call = $"{LayerEmitter.Kernels}.BatchNorm.{kernel}({LayerEmitter.Weight(layer)}, {LayerEmitter.Bias(layer)}, " +
                          $"{LayerEmitter.Weight(bn)}, {LayerEmitter.Bias(bn)}, new global::System.ReadOnlySpan<float>(_state, {bn.StateOffset}, {bn.BiasLength}), " +
                          $"new global::System.ReadOnlySpan<float>(_state, {bn.StateOffset + bn.BiasLength}, {bn.BiasLength}), {BatchNormLayer.Epsilon(bn)}, " +
                          $"new global::System.Span<float>(_folded, {layer.FoldOffset}, {layer.WeightLength}), new global::System.Span<float>(_folded, {layer.FoldOffset + layer.WeightLength}, {layer.BiasSlots}))";
            var stale = new List<string>();
            if (layer.WinogradInference) stale.Add($"{WinogradConv.FromCurrentFold(layer)} = false;");
            if (FilterLanesConv.LaysOut(layer)) stale.Add($"{FilterLanesConv.FromCurrentFold(layer)} = false;");
            w.Line(refold
                ? $"if ({call}) {(stale.Count == 1 ? stale[0] : $"{{ {string.Join(" ", stale)} }}")} // {bn.Name} into {layer.Name}"
                : $"{call}; // {bn.Name} into {layer.Name}");
        }
        w.Close();
    }
}
