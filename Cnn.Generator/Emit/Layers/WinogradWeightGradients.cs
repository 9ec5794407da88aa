using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// The per-point sums of the convolutions whose weight gradient runs through Winograd F(4x4, 3x3)
/// (<see cref="LayerSpec.WinogradWeightGradient"/>): every backward call of a worker's chunk adds its tiles' products to
/// them (<c>WinogradWeightGradient.AddTiles</c>), so they are cleared when the chunk starts (the runtime's
/// <c>BeginGradientChunk</c>) and turned into the worker's weight gradient once when it ends (<c>EndGradientChunk</c>,
/// <c>WinogradWeightGradient.AddFilterGradients</c>): the transform back costs once per chunk, not once per micro-batch.
/// </summary>
internal static class WinogradWeightGradients
{
    /// <summary>The workspace buffer of a layer's sums (and, last, the count of its pending tiles).</summary>
    public static string Sums(LayerSpec l) => "_winogradSums_" + l.Id;

    /// <summary>Values of <see cref="Sums"/>: 36 matrices of filters x channels, then the pending count (the runtime's
    /// <c>WinogradWeightGradient.SumsLength</c>).</summary>
    public static long SumsLength(LayerSpec l) => 36L * l.Input.Channels * ((ConvOp)l.Op).Filters + 1;

    /// <summary>The workspace buffer of a layer's block of transformed tiles waiting to be multiplied into its sums.</summary>
    public static string Pending(LayerSpec l) => "_winogradPending_" + l.Id;

    /// <summary>Values of <see cref="Pending"/>: the runtime's <c>WinogradWeightGradient.PendingLength</c> (36 points of a
    /// block of tiles, as many as keep a block of transformed tiles within 512 KiB, at least 32, times channels + filters,
    /// each of the 72 planes followed by <see cref="WinogradConv.PlanePad"/> values).</summary>
    public static long PendingLength(LayerSpec l) => WinogradConv.BlockLength(l, WinogradConv.BlockTiles(l));

    public static List<LayerSpec> Layers(IEnumerable<LayerSpec> body) => body.Where(l => l.WinogradWeightGradient).ToList();

    /// <summary>The overrides of the runtime's chunk hooks (inside the passes class).</summary>
    public static void EmitHooks(SourceWriter w)
    {
        w.Line("protected override void BeginGradientChunk(Workspace ws) => _network.ClearWinogradSums(ws);");
        w.Line("protected override void EndGradientChunk(Workspace ws) => _network.AddWinogradSums(ws);");
    }

    /// <summary><c>ClearWinogradSums</c> and <c>AddWinogradSums</c> for <paramref name="layers"/>.</summary>
    public static void EmitMethods(SourceWriter w, IReadOnlyList<LayerSpec> layers)
    {
        w.Line("// ---- Winograd's weight gradients: per-point sums over a worker's chunk, transformed back once ----");
        w.Line("/// <summary>At the start of a worker's chunk of a gradient pass: the sums start from zero, with no tiles pending.</summary>");
        w.Open("private void ClearWinogradSums(Workspace ws)");
        foreach (var l in layers) w.Line($"global::System.Array.Clear(ws.{Sums(l)});");
        w.Close();
        w.Line();
        w.Line("/// <summary>At the end of a worker's chunk: each layer's last pending tiles multiplied, its sums turned into its weight gradient (G^T S G), added to the worker's.</summary>");
        w.Open("private void AddWinogradSums(Workspace ws)");
        foreach (var l in layers)
            w.Line($"if (!_frozen[{l.Index}]) {LayerEmitter.Kernels}.WinogradWeightGradient.AddFilterGradients(ws.{Sums(l)}, ws.{Pending(l)}, " +
                   $"new global::System.Span<float>(ws.Gradients, {l.ParameterOffset}, {l.WeightLength}), channels: {l.Input.Channels}, filters: {((ConvOp)l.Op).Filters}); // {l.Name}");
        w.Close();
    }
}
