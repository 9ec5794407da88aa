using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference products with the filters in the vector lanes for the convolutions the analysis picked
/// (<see cref="LayerSpec.FilterLanesInference"/>): the network's laid-out weights, their preparation and the calls that
/// replace the packed product of one image's columns (whole, or a range of filters in a split pass). The weights are laid
/// out from the folded ones before a forward pass (<c>PrepareFilterLanes</c>, from <c>BeforeForward</c>, after BatchNorms are
/// folded), and only when folding changed a bit of them (<c>BatchNorm.Refold</c> reports it); a pass that runs without the
/// fold, or before the layout was made, takes the packed product, which gives the same bits.
/// </summary>
internal static class FilterLanesConv
{
    private const string Kernel = LayerEmitter.Kernels + ".FilterLanes";

    private const string DirectKernel = LayerEmitter.Kernels + ".DirectFilterLanes";

    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    /// <summary>The network's field holding a layer's laid-out weights (<see cref="LaysOut"/>).</summary>
    public static string Panels(LayerSpec l) => "_filterLanes_" + l.Id;

    /// <summary>The field that is true while a layer's laid-out weights are those of its current fold:
    /// <c>FoldBatchNorms</c> clears it when the fold changes.</summary>
    public static string FromCurrentFold(LayerSpec l) => "_filterLanesFromFold_" + l.Id;

    private static string PadMethod(LayerSpec l) => "FilterLanesPad_" + l.Id;

    private static string RangeMethod(LayerSpec l) => (ImageSplit.FilterLanesSplitsRows(l) ? "FilterLanesRows_" : "FilterLanesFilters_") + l.Id;

    private static int Depth(LayerSpec l) => l.Input.Channels * Op(l).Kernel * Op(l).Kernel;

    private static int Positions(LayerSpec l) => l.Output.Height * l.Output.Width;

    public static bool Any(IEnumerable<LayerSpec> layers) => layers.Any(LaysOut);

    /// <summary>Whether a layer's folded weights are laid out in panels: a filter-lane product of the whole image's columns
    /// or of blocks of output rows.</summary>
    public static bool LaysOut(LayerSpec l) => l.FilterLanesInference || l.Im2ColBlockLanes;

    /// <summary>The condition under which a pass of this layer takes the filter-lane product.</summary>
    public static string Applies(LayerSpec l) => $"!ws.KeepForBackward && ws.Folded && {FromCurrentFold(l)}";

    /// <summary>Inside the per-image loop of the im2col path (<c>x</c>, <c>y</c>, <c>col</c> declared): lays out the columns
    /// (<paramref name="pack"/>; none for a 1x1 convolution, whose input is its columns) and runs the product of all
    /// filters, then continues with the next image.</summary>
    public static void EmitImage(SourceWriter w, LayerSpec l, string? pack, string activation)
    {
        var c = Op(l);
        w.Open($"if ({Applies(l)})");
        if (l.FilterLanesFromInput)
        {
            w.Line($"// Inference: the product with the filters in the vector lanes, from the folded weights laid out by PrepareFilterLanes " +
                   $"([{c.Filters / FilterLanesChoice.PanelFilters}][{Depth(l)}][{FilterLanesChoice.PanelFilters}]), its taps read straight from the input" +
                   (c.Padding > 0 ? $" padded by {c.Padding} into the column buffer" : "") + ": no columns; the bits of the product below.");
            if (c.Padding > 0) w.Line($"{DirectKernel}.Pad(x, col, {InputShape(l)}, padding: {c.Padding}, firstChannel: 0, endChannel: {l.Input.Channels});");
            w.Line($"{DirectKernel}.Forward({Panels(l)}, {(c.Padding > 0 ? "col" : "x")}, bias, y, {DirectShape(l)}, firstFilter: 0, endFilter: {c.Filters}, " +
                   $"{(activation.Length > 0 ? "activation" : $"{LayerEmitter.Kernels}.FusedActivation.None")});");
            w.Line("continue;");
            w.Close();
            return;
        }
        w.Line($"// Inference: the product with the filters in the vector lanes, from the folded weights laid out by PrepareFilterLanes " +
               $"([{c.Filters / FilterLanesChoice.PanelFilters}][{Depth(l)}][{FilterLanesChoice.PanelFilters}]): {Positions(l)} positions, none padded; the bits of the product below.");
        if (pack is not null) w.Line(pack);
        w.Line($"{Kernel}.Forward({Panels(l)}, {(pack is null ? "x" : "col")}, bias, y, filters: {c.Filters}, k: {Depth(l)}, positions: {Positions(l)}, firstFilter: 0, endFilter: {c.Filters}, " +
               $"{(activation.Length > 0 ? "activation" : $"{LayerEmitter.Kernels}.FusedActivation.None")});");
        w.Line("continue;");
        w.Close();
    }

    private static string InputShape(LayerSpec l) => $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}";

    private static string DirectShape(LayerSpec l)
    {
        var c = Op(l);
        return $"{InputShape(l)}, filters: {c.Filters}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}";
    }

    /// <summary>Inside a split pass's loop over images (<c>x</c> declared), for a layer that reads its input directly
    /// (<see cref="LayerSpec.FilterLanesFromInput"/>): <c>if (filter lanes apply) { pad by
    /// ranges of channels; the product by ranges of panels }</c>; the caller writes the <c>else</c>.</summary>
    public static void EmitSplitFromInput(SourceWriter w, LayerSpec l, string output)
    {
        var c = Op(l);
        w.Open($"if ({Applies(l)}) // each range: its panels of {FilterLanesChoice.PanelFilters} filters with the filters in the vector lanes, read straight from the input");
        string input = "x";
        if (c.Padding > 0)
        {
            w.Line($"var padded = new global::System.Span<float>(ws._col_{l.Id}, 0, {FilterLanesChoice.PaddedLength(l)});");
            w.Line(ImageSplit.Run(PadMethod(l), "x", "padded", "default", "default", "1", l.Input.Channels, "1"));
            input = "padded";
        }
        w.Line(ImageSplit.Run(RangeMethod(l), input, output, "weight", "bias", "1", c.Filters,
            FilterLanesChoice.PanelFilters.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        w.Close();
    }

    /// <summary>The range method a split pass runs instead of the packed product's when the filter-lane product applies.</summary>
    public static string SplitMethod(LayerSpec l) => RangeMethod(l);

    /// <summary>Filters [start, end) (whole panels of 32: the split's block) of one image's columns, or output rows
    /// [start, end), every filter, for a 1x1 layer split by rows (<see cref="ImageSplit.FilterLanesSplitsRows"/>).</summary>
    public static void EmitRangeMethod(SourceWriter w, LayerSpec l, string activation)
    {
        var c = Op(l);
        w.Line();
        if (ImageSplit.FilterLanesSplitsRows(l))
        {
            ImageSplit.OpenRange(w, RangeMethod(l), "Output rows [start, end) of one image, every filter, with the filters in the vector lanes: the laid-out weights times those rows' columns, plus the biases.");
            w.Line($"{Kernel}.ForwardPositions({Panels(l)}, inp, bias, outp, filters: {c.Filters}, k: {Depth(l)}, positions: {Positions(l)}, " +
                   $"firstPosition: start * {l.Output.Width}, endPosition: end * {l.Output.Width}, {activation});");
            w.Close();
            return;
        }
        if (l.FilterLanesFromInput)
        {
            if (c.Padding > 0)
            {
                ImageSplit.OpenRange(w, PadMethod(l), $"Input channels [start, end) of one image padded by {c.Padding}, for the filter-lane product that reads them directly.");
                w.Line($"{DirectKernel}.Pad(inp, outp, {InputShape(l)}, padding: {c.Padding}, firstChannel: start, endChannel: end);");
                w.Close();
                w.Line();
            }
            ImageSplit.OpenRange(w, RangeMethod(l), $"Filters [start, end) of one image with the filters in the vector lanes: their panels of the laid-out weights times the taps read straight from the " +
                (c.Padding > 0 ? "padded input" : "input") + ", plus their biases.");
            w.Line($"{DirectKernel}.Forward({Panels(l)}, inp, bias, outp, {DirectShape(l)}, firstFilter: start, endFilter: end, {activation});");
            w.Close();
            return;
        }
        ImageSplit.OpenRange(w, RangeMethod(l), $"Filters [start, end) of one image with the filters in the vector lanes: their panels of the laid-out weights times the columns, plus their biases.");
        w.Line($"{Kernel}.Forward({Panels(l)}, inp, bias, outp, filters: {c.Filters}, k: {Depth(l)}, positions: {Positions(l)}, firstFilter: start, endFilter: end, {activation});");
        w.Close();
    }

    /// <summary>The laid-out weights, their flags and <c>PrepareFilterLanes</c>.</summary>
    public static void EmitPreparation(SourceWriter w, IEnumerable<LayerSpec> body)
    {
        var layers = body.Where(LaysOut).ToList();
        w.Line("// ---- Filter lanes: the folded weights of the convolutions whose inference product has the filters in the vector lanes ----");
        foreach (var l in layers)
            w.Line($"private float[] {Panels(l)} = global::System.Array.Empty<float>(); private bool {FromCurrentFold(l)};");
        w.Line();
        w.Line("/// <summary>Before an inference pass with BatchNorms folded: each filter-lane layer's folded weights laid out in panels of");
        w.Line($"/// {FilterLanesChoice.PanelFilters} filters, made again only when FoldBatchNorms found a changed bit in the fold.</summary>");
        w.Open("private void PrepareFilterLanes()");
        w.Line("if (Training || !FoldBatchNorm) return;");
        foreach (var l in layers)
        {
            w.Open($"if (!{FromCurrentFold(l)}) // {l.Name}");
            w.Line($"if ({Panels(l)}.Length == 0) {Panels(l)} = new float[{l.WeightLength}];");
            w.Line($"{Kernel}.Layout({LayerEmitter.FoldedWeight(l)}, {Panels(l)}, filters: {Op(l).Filters}, k: {Depth(l)});");
            w.Line($"{FromCurrentFold(l)} = true;");
            w.Close();
        }
        w.Close();
    }
}
