using System.Globalization;

namespace CnnGen.OrtLayers;

/// <summary>
/// Matches CnnGen's layers to ONNX Runtime's nodes by order: the k-th convolution or dense layer of CnnGen is the
/// k-th <c>Conv</c>/<c>FusedConv</c>/<c>Gemm</c> node of ONNX Runtime (its fusions keep one such node per convolution:
/// the activation, and in its NCHWc form the residual add, ride in it). Every other layer or node (CnnGen's separate
/// adds, pooling; ONNX Runtime's layout reorders, adds, pooling) is counted with the convolution before it. Where ONNX
/// Runtime runs branches in another order than the declaration (GoogLeNet's inception blocks: the pooling branch first),
/// its rows are put in CnnGen's order by name when every convolution finds its node: the node's module path
/// (<c>/inception3a/branch2/branch2.1/Relu</c> is <c>inception3a.branch2.1</c>) is the layer's name or a prefix of it.
/// A BatchNormalization that no convolution takes in runs in ONNX Runtime as a depthwise <c>Conv</c> node named after it
/// (DenseNet's <c>norm1</c> before each dense layer): not an anchor, so it is counted with the row before, where CnnGen
/// applies it as the next 1x1 convolution reads its input (<c>NormReluProduct</c>).
/// </summary>
internal static class LayerTable
{
    private static readonly HashSet<string> OrtAnchors = ["Conv", "FusedConv", "Gemm", "FusedGemm", "MatMul"];

    public static void Print(List<(string Name, string Kind, string Shape, double Microseconds)> layers, List<OrtNode> nodes)
    {
        var ours = Group(layers, l => l.Kind is "Conv" or "Dense");
        var theirs = InOurOrder(ours, Group(nodes, IsAnchor));
        if (ours.Count != theirs.Count)
            Console.WriteLine($"  warning: {ours.Count} CnnGen convolutions and dense layers, {theirs.Count} ONNX Runtime ones: rows past the first difference do not match");
        Console.WriteLine($"  {"#",3} {"CnnGen layer",-24} {"output",-11} {"CnnGen",9} {"ORT",9} {"ratio",6}  ORT nodes (op, output)");
        double ourTotal = 0, theirTotal = 0;
        for (int k = 0; k < Math.Max(ours.Count, theirs.Count); k++)
        {
            var our = k < ours.Count ? ours[k] : [];
            var their = k < theirs.Count ? theirs[k] : [];
            double us = our.Sum(l => l.Microseconds), them = their.Sum(n => Program.Median(n.Microseconds));
            ourTotal += us;
            theirTotal += them;
            string name = our.Count > 0 ? our[0].Name + (our.Count > 1 ? $" +{our.Count - 1}" : "") : "-";
            string shape = our.Count > 0 ? our[0].Shape : "";
            string ortOps = string.Join(", ", their.Select(n => $"{n.Op} {n.Shape}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {k,3} {name,-24} {shape,-11} {us,9:F1} {them,9:F1} {Ratio(them, us),6}  {ortOps}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"sum of medians",-40} {ourTotal,9:F1} {theirTotal,9:F1} {Ratio(theirTotal, ourTotal),6}   (ratio: ORT time / CnnGen time, >1: CnnGen faster)"));
    }

    /// <summary>A node that starts a row: a convolution or product, but not a BatchNormalization run as a convolution.</summary>
    private static bool IsAnchor(OrtNode n) => OrtAnchors.Contains(n.Op) && !n.Name.Contains("/BatchNormalization_", StringComparison.Ordinal);

    private static string Ratio(double theirs, double ours) =>
        ours > 0 ? string.Create(CultureInfo.InvariantCulture, $"{theirs / ours:F2}") : "-";

    /// <summary>ONNX Runtime's rows reordered so that row k is the node whose module path matches CnnGen's k-th layer
    /// (the longest such path), or unchanged when some layer matches no node or two layers the same one.</summary>
    private static List<List<OrtNode>> InOurOrder(List<List<(string Name, string Kind, string Shape, double Microseconds)>> ours, List<List<OrtNode>> theirs)
    {
        if (ours.Count != theirs.Count) return theirs;
        var paths = theirs.Select(g => ModulePath(g.First(IsAnchor).Name)).ToList();
        var order = new List<List<OrtNode>>();
        var used = new HashSet<int>();
        foreach (var our in ours)
        {
            string name = our[0].Name;
            int best = -1;
            for (int j = 0; j < paths.Count; j++)
                if ((name == paths[j] || name.StartsWith(paths[j] + ".", StringComparison.Ordinal)) && (best < 0 || paths[j].Length > paths[best].Length))
                    best = j;
            if (best < 0 || !used.Add(best)) return theirs;
            order.Add(theirs[best]);
        }
        return order;
    }

    /// <summary><c>/inception3a/branch2/branch2.1/Relu_output_0_nchwc</c> -> <c>inception3a.branch2.1</c>: the segments
    /// before the last, each one that extends the one before (<c>branch2.1</c> after <c>branch2</c>) replacing it.</summary>
    private static string ModulePath(string node)
    {
        var segments = node.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var path = new List<string>();
        foreach (string segment in segments.Take(segments.Length - 1))
        {
            if (path.Count > 0 && segment.StartsWith(path[^1] + ".", StringComparison.Ordinal)) path[^1] = segment;
            else path.Add(segment);
        }
        return string.Join(".", path);
    }

    /// <summary>Splits <paramref name="items"/> into runs that each start at an anchor; items before the first anchor
    /// join the first run.</summary>
    private static List<List<T>> Group<T>(IEnumerable<T> items, Func<T, bool> isAnchor)
    {
        var groups = new List<List<T>>();
        var pending = new List<T>();
        foreach (var item in items)
        {
            if (isAnchor(item))
            {
                groups.Add([.. pending, item]);
                pending.Clear();
            }
            else if (groups.Count > 0) groups[^1].Add(item);
            else pending.Add(item);
        }
        return groups;
    }
}
