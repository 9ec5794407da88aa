using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Add and Concat: the input joined with the outputs of earlier layers, in the order given. A shortcut (ResNet, <c>[Add]</c>)
/// sums tensors of one shape; a channel join (DenseNet, GoogLeNet, <c>[Concat]</c>) puts the input's channels first, then
/// each source's, and needs equal heights and widths.
/// </summary>
/// <remarks>
/// On a graph each path from the input gives its own receptive field, effective stride and padding; a join takes, for
/// each, the largest over its input and its sources (the convention of google-research's <c>receptive_field</c>), so a
/// layer's numbers are those of its widest, coarsest path. On a chain the input's path is always the largest.
/// </remarks>
internal static class Joins
{
    public static LayerSpec? Analyze(LayerDeclaration d, List<string> names, LayerSpec?[] earlier, ShapeAnalysis.State?[] outputs,
        string name, string label, int index, ShapeAnalysis.State s, List<DiagnosticInfo> diagnostics)
    {
        var sources = new List<LayerSpec>();
        foreach (var sourceName in d.Sources)
        {
            int source = names.IndexOf(sourceName);
            if (source < 0 || source >= index)
            {
                string choices = index == 0 ? $"none ({(d.Kind == LayerKind.Add ? "an" : "a")} {d.Kind} cannot be the first layer)" : string.Join(", ", names.Take(index));
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownShortcutSource, d.Location, label, sourceName, choices));
                s.Broken = true;
                return null;
            }
            if (s.Broken) return null;
            var from = earlier[source];
            if (from is null) { s.Broken = true; return null; }
            sources.Add(from);
        }
        if (s.Broken || sources.Count == 0) { s.Broken = true; return null; }

        bool concat = d.Kind == LayerKind.Concat;
        foreach (var from in sources)
        {
            if (concat ? from.Output.Height != s.Shape.Height || from.Output.Width != s.Shape.Width : from.Output != s.Shape)
            {
                diagnostics.Add(DiagnosticInfo.Create(concat ? DiagnosticDescriptors.ConcatSizes : DiagnosticDescriptors.ShortcutShapes,
                    d.Location, label, from.Name, from.Output, s.Layer < 0 ? "network input" : s.Source, s.Shape));
                s.Broken = true;
                return null;
            }
        }
        // Concat: the input's channels, then each source's (DenseNet, inception); Add: the same shape.
        long channels = s.Shape.Channels + (concat ? sources.Sum(f => (long)f.Output.Channels) : 0);
        if (concat) ShapeAnalysis.CheckSize(label, "the output", (decimal)channels * s.Shape.Height * s.Shape.Width, d.Location, diagnostics, s);
        if (s.Broken) return null;
        var output = new Shape((int)channels, s.Shape.Height, s.Shape.Width);

        foreach (var from in sources)
        {
            var path = outputs[from.Index]!;
            s.RfH = System.Math.Max(s.RfH, path.RfH);
            s.RfW = System.Math.Max(s.RfW, path.RfW);
            s.Jump = System.Math.Max(s.Jump, path.Jump);
            s.Padding = System.Math.Max(s.Padding, path.Padding);
            s.Weighted |= path.Weighted;
        }
        var join = new JoinOp(sources.Select(f => f.Index).ToEquatableArray(), sources.Select(f => f.Name).ToEquatableArray());
        var spec = new LayerSpec(index, d.Kind, name, join, s.Layer, s.Shape, output, s.Flat,
            ShapeAnalysis.Clamp(s.RfH), ShapeAnalysis.Clamp(s.RfW), ShapeAnalysis.Clamp(s.Jump), ShapeAnalysis.Clamp(s.Padding), 0, 0, 0);
        s.Shape = output;
        s.Source = "output of " + name;
        return spec;
    }
}
