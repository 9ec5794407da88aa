using System.Text.Json;

namespace CnnGen.OrtLayers;

/// <summary>One node of ONNX Runtime's optimised graph as its profiler saw it: the node's name, its operator (after
/// fusion: <c>FusedConv</c> is a convolution with its activation, an NCHWc <c>Conv</c> may also add a residual), the
/// shape of its first output, and its kernel time in every run, in order.</summary>
internal sealed record OrtNode(string Name, string Op, string Shape, List<double> Microseconds);

/// <summary>
/// Reads the JSON trace that <c>SessionOptions.EnableProfiling</c> makes ONNX Runtime write: a list of events, of which
/// those of category <c>Node</c> named <c>&lt;node&gt;_kernel_time</c> time one node's kernel in one run (wall time,
/// microseconds). Returns the nodes in the order they first ran.
/// </summary>
internal static class OrtTrace
{
    public static List<OrtNode> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var nodes = new List<OrtNode>();
        var byName = new Dictionary<string, OrtNode>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var category) || category.GetString() != "Node") continue;
            string name = e.GetProperty("name").GetString()!;
            if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
            name = name[..^"_kernel_time".Length];
            if (!byName.TryGetValue(name, out var node))
            {
                var args = e.GetProperty("args");
                string op = args.TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
                node = new OrtNode(name, op, OutputShape(args), []);
                byName[name] = node;
                nodes.Add(node);
            }
            node.Microseconds.Add(e.GetProperty("dur").GetDouble());
        }
        return nodes;
    }

    /// <summary>The first output's shape without the batch, e.g. <c>32x112x112</c>; NCHWc blocks are not undone.</summary>
    private static string OutputShape(JsonElement args)
    {
        if (!args.TryGetProperty("output_type_shape", out var outputs) || outputs.GetArrayLength() == 0) return "";
        foreach (var typed in outputs[0].EnumerateObject())
            return string.Join("x", typed.Value.EnumerateArray().Skip(1).Select(d => d.GetInt64()));
        return "";
    }
}
