using System.Globalization;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Inference of a 1x1 convolution that normalises and rectifies its input as it reads it
/// (<see cref="LayerSpec.NormalizedInput"/>: DenseNet's <c>norm1, relu1, conv1</c>): it reads the BatchNorm's input and
/// that BatchNorm's scale and shift (which the BatchNorm's forward pass still computes) and runs
/// <c>NormReluProduct.Forward</c>, with the weights as rows or, when the folded ones are laid out, as panels with the
/// filters in the lanes. A pass that splits one image hands out ranges of output rows, each thread normalising only the
/// positions it multiplies, or on maps of fewer positions ranges of filters (each thread normalising them all). A
/// convolution that averages its input first (DenseNet's transitions) normalises it as the average reads it instead
/// (<c>AveragePool2x2.ForwardNormalized</c>, in <c>ConvLayer</c>'s average-first path).
/// </summary>
internal static class NormReluInference
{
    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    private static string RangeMethod(LayerSpec l) => "NormalizedRange_" + l.Id;

    /// <summary>Whether a split pass hands out ranges of rows (every filter) rather than of filters: maps of at least
    /// <see cref="ImageSplit.FilterLanesRowSplitFromPositions"/> positions.</summary>
    private static bool SplitsRows(LayerSpec l) =>
        l.Output.Height >= 2 && (long)l.Output.Height * l.Output.Width >= ImageSplit.FilterLanesRowSplitFromPositions;

    /// <summary>Filters per block of a range of filters: a panel of the laid-out weights, a range of the product's rows.</summary>
    private const int FilterBlock = 32;

    /// <summary>The BatchNorm's input: what the convolution reads in inference.</summary>
    internal static string NormInput(NetworkSpec network, LayerSpec l) => "ws._act_" + network.Layers[network.Layers[l.NormalizedInput].InputIndex].Id;

    /// <summary>The BatchNorm's scale, which its forward pass computes in inference too.</summary>
    internal static string Scale(NetworkSpec network, LayerSpec l) => "ws._scale_" + network.Layers[l.NormalizedInput].Id;

    /// <summary>The BatchNorm's shift.</summary>
    internal static string Shift(NetworkSpec network, LayerSpec l) => "ws._shift_" + network.Layers[l.NormalizedInput].Id;

    private static string Lanes(LayerSpec l) => l.FilterLanesInference ? FilterLanesConv.Applies(l) : "false";

    private static string Operand(LayerSpec l) => l.FilterLanesInference ? $"lanes ? {FilterLanesConv.Panels(l)} : weight" : "weight";

    /// <summary>The kernel's call for filters and positions given as expressions.</summary>
    private static string Call(LayerSpec l, LayerSpec norm, string weight, string input, string output, string firstFilter, string endFilter,
        string firstPosition, string endPosition, string activation) =>
        $"{LayerEmitter.Kernels}.NormReluProduct.Forward({weight}, lanes, {input}, ws._scale_{norm.Id}, ws._shift_{norm.Id}, bias, {output}, " +
        $"filters: {Op(l).Filters}, k: {l.Input.Channels}, positions: {l.Output.Height * l.Output.Width}, firstFilter: {firstFilter}, endFilter: {endFilter}, " +
        $"firstPosition: {firstPosition}, endPosition: {endPosition}, {activation});";

    /// <summary>After <c>weight</c>, <c>bias</c> and the fused activation are set (<paramref name="activation"/>: the
    /// argument, or empty without one): the inference branch, which returns.</summary>
    public static void EmitForward(SourceWriter w, NetworkSpec network, LayerSpec l, string activation)
    {
        var norm = network.Layers[l.NormalizedInput];
        var relu = network.Layers[norm.FusedRelu];
        int inLen = (int)norm.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        string act = activation.Length > 0 ? "activation" : $"{LayerEmitter.Kernels}.FusedActivation.None";
        w.Open("if (!ws.KeepForBackward)");
        w.Line($"// Inference: {norm.Name}'s scale and shift and {relu.Name} applied to {norm.Name}'s input as it is read, a block of positions at a time " +
               $"(NormReluProduct): neither writes its output; the bits of the three layers.");
        w.Line($"var normInput = new global::System.ReadOnlySpan<float>({NormInput(network, l)});");
        w.Line($"bool lanes = {Lanes(l)};");
        w.Line($"var operand = {Operand(l)};");
        if (ImageSplit.Worth(l))
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line(SplitsRows(l)
                ? $"// Fewer images than threads: each thread normalises and multiplies a range of the {l.Output.Height} rows of positions."
                : $"// Fewer images than threads: each thread computes a range of the filters, from all {positions} positions normalised.");
            w.Line("for (int b = 0; b < batch; b++)");
            w.Line("    " + ImageSplit.Run(RangeMethod(l), $"normInput.Slice(b * {inLen}, {inLen})", $"outp.Slice(b * {outLen}, {outLen})", "operand", "bias", "1",
                SplitsRows(l) ? l.Output.Height : Op(l).Filters, (SplitsRows(l) ? 1 : FilterBlock).ToString(CultureInfo.InvariantCulture)));
            w.Line("return;");
            w.Close();
        }
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line("    " + Call(l, norm, "operand", $"normInput.Slice(b * {inLen}, {inLen})", $"outp.Slice(b * {outLen}, {outLen})",
            "0", Op(l).Filters.ToString(CultureInfo.InvariantCulture), "0", positions.ToString(CultureInfo.InvariantCulture), act));
        w.Line("return;");
        w.Close();
    }

    /// <summary>The range method of a split pass: rows <c>[start, end)</c> of positions, or filters <c>[start, end)</c>.</summary>
    public static void EmitRange(SourceWriter w, NetworkSpec network, LayerSpec l, string activation)
    {
        var norm = network.Layers[l.NormalizedInput];
        int width = l.Output.Width, positions = l.Output.Height * width;
        string filters = Op(l).Filters.ToString(CultureInfo.InvariantCulture);
        w.Line();
        ImageSplit.OpenRange(w, RangeMethod(l), SplitsRows(l)
            ? $"Rows [start, end) of one image's positions, every filter, their columns of {norm.Name}'s input normalised and rectified as they are read."
            : $"Filters [start, end) of one image, from every position of {norm.Name}'s input normalised and rectified as it is read.");
        w.Line($"bool lanes = {Lanes(l)};");
        w.Line(SplitsRows(l)
            ? Call(l, norm, "weight", "inp", "outp", "0", filters, $"start * {width}", $"end * {width}", activation)
            : Call(l, norm, "weight", "inp", "outp", "start", "end", "0", positions.ToString(CultureInfo.InvariantCulture), activation));
        w.Close();
    }
}
