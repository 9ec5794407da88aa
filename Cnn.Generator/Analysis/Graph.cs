using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>The edges of the network graph: which layer each layer reads (<c>From</c>, by default the line above), and the
/// layers whose output nobody reads.</summary>
internal static class Graph
{
    /// <summary>Returned by <see cref="ResolveFrom"/> for a <c>From</c> that names no earlier layer (reported).</summary>
    public const int Unresolved = -2;

    /// <summary>The index of the layer that layer <paramref name="index"/> reads: the layer above it (-1, the network input,
    /// for the first), or the earlier layer its <c>From</c> names; <see cref="Unresolved"/> after reporting CNN0028.</summary>
    public static int ResolveFrom(LayerDeclaration decl, List<string> names, int index, string label, List<DiagnosticInfo> diagnostics)
    {
        if (decl.From is null) return index - 1;
        int from = names.IndexOf(decl.From);
        if (from >= 0 && from < index) return from;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownFrom, decl.Location, label, decl.From, EarlierNames(names, index)));
        return Unresolved;
    }

    /// <summary>The names a layer at <paramref name="index"/> may refer to, for a diagnostic.</summary>
    public static string EarlierNames(List<string> names, int index) =>
        index == 0 ? "none (it is the first layer)" : string.Join(", ", names.Take(index));

    /// <summary>CNN0029 for every layer but the last whose output no layer reads (as its input or as a join's source):
    /// a branch that leads nowhere, computed for nothing.</summary>
    public static void WarnUnread(List<LayerSpec> layers, List<LayerDeclaration> declarations, List<DiagnosticInfo> diagnostics)
    {
        var read = new HashSet<int>();
        foreach (var l in layers)
        {
            read.Add(l.InputIndex);
            if (l.Join is { } join)
                foreach (int source in join.Sources) read.Add(source);
        }
        var last = layers[layers.Count - 1];
        for (int k = 0; k < layers.Count - 1; k++)
            if (!read.Contains(k))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnreadOutput, declarations[k].Location,
                    $"{layers[k].Name} (layer {k + 1})", last.Name));
    }

    /// <summary>The layers the network's output depends on: the last layer and, backwards, every input and join source.
    /// Only they take part in the backward pass.</summary>
    public static HashSet<int> ReachingOutput(IReadOnlyList<LayerSpec> layers, int outputLayer)
    {
        var reach = new HashSet<int>();
        var pending = new Stack<int>();
        pending.Push(outputLayer);
        while (pending.Count > 0)
        {
            int k = pending.Pop();
            if (k < 0 || !reach.Add(k)) continue;
            pending.Push(layers[k].InputIndex);
            if (layers[k].Join is { } join)
                foreach (int source in join.Sources) pending.Push(source);
        }
        return reach;
    }
}
