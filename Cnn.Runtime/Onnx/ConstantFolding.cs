namespace CnnGen.Onnx;

/// <summary>
/// Computes, at import, the nodes whose inputs are all constants: the shape plumbing PyTorch's exporter writes in
/// front of a Reshape (<c>Shape</c>, <c>Gather</c>, <c>Unsqueeze</c>, <c>Squeeze</c>, <c>Concat</c>, <c>Cast</c>),
/// <c>Constant</c> and <c>Identity</c>. The batch size is unknown here: it is the value <see cref="Batch"/>.
/// </summary>
internal static class ConstantFolding
{
    /// <summary>Stands for the (dynamic) batch size in folded shapes.</summary>
    public const long Batch = long.MinValue;

    public static bool CanFold(string opType) => opType is "Constant" or "Identity" or "Gather" or "Unsqueeze" or "Squeeze" or "Concat" or "Cast";

    /// <summary>The node's single output, computed from <paramref name="inputs"/> (null for an absent optional input).</summary>
    public static OnnxTensor Fold(OnnxNode node, IReadOnlyList<OnnxTensor?> inputs, long opset)
    {
        string output = node.Outputs.Count > 0 ? node.Outputs[0] : "";
        OnnxTensor Input(int i) => i < inputs.Count && inputs[i] is { } t ? t : throw Refuse(node, $"needs input {i}");
        switch (node.OpType)
        {
            case "Constant":
                return ConstantValue(node) with { Name = output };
            case "Identity":
                return Input(0) with { Name = output };
            case "Cast":
            {
                var x = Input(0);
                long to = node.Attributes.GetValueOrDefault("to")?.Int ?? 0;
                if (to == OnnxTensor.Int64Type) return new OnnxTensor(output, OnnxTensor.Int64Type, x.Dims, null, Longs(node, x));
                if (to == OnnxTensor.FloatType) return new OnnxTensor(output, OnnxTensor.FloatType, x.Dims, Floats(node, x), null);
                throw Refuse(node, $"casts to ONNX type {to}; import folds casts to float32 and int64 only");
            }
            case "Gather":
            {
                var data = Longs(node, Input(0));
                var indices = Longs(node, Input(1));
                long axis = node.Attributes.GetValueOrDefault("axis")?.Int ?? 0;
                if (Input(0).Dims.Count != 1 || axis != 0) throw Refuse(node, "gathers from something other than a 1-D shape");
                var picked = indices.Select(i => i < 0 ? i + data.Length : i).ToArray();
                if (picked.Any(i => i < 0 || i >= data.Length)) throw Refuse(node, $"gathers index {string.Join(", ", indices)} of {data.Length} values");
                return new OnnxTensor(output, OnnxTensor.Int64Type, Input(1).Dims, null, picked.Select(i => data[i]).ToArray());
            }
            case "Unsqueeze":
            {
                var x = Input(0);
                long[] axes = opset >= 13 ? Longs(node, Input(1)) : node.Attributes.GetValueOrDefault("axes")?.Ints?.ToArray() ?? [];
                var dims = x.Dims.ToList();
                int rank = dims.Count + axes.Length;
                foreach (long a in axes.Select(a => a < 0 ? a + rank : a).Order())
                {
                    if (a < 0 || a > dims.Count) throw Refuse(node, $"unsqueezes axis {a} of a rank-{x.Dims.Count} value");
                    dims.Insert((int)a, 1);
                }
                return x with { Name = output, Dims = dims };
            }
            case "Squeeze":
            {
                var x = Input(0);
                return x with { Name = output, Dims = x.Dims.Where(d => d != 1).ToList() };
            }
            case "Concat":
            {
                var parts = inputs.Select((t, i) => Input(i)).ToList();
                if (parts.Any(p => p.Dims.Count != 1 || p.Int64s is null)) throw Refuse(node, "joins constants that are not 1-D int64 shapes");
                var values = parts.SelectMany(p => p.Int64s!).ToArray();
                return new OnnxTensor(output, OnnxTensor.Int64Type, [values.Length], null, values);
            }
            default:
                throw Refuse(node, "is not an op import can compute ahead of time");
        }
    }

    /// <summary>The shape of a data value as <c>Shape</c> gives it: the batch, then the rest.</summary>
    public static OnnxTensor Shape(string name, IReadOnlyList<long> dimsAfterBatch) =>
        new(name, OnnxTensor.Int64Type, [dimsAfterBatch.Count + 1], null, [Batch, .. dimsAfterBatch]);

    private static OnnxTensor ConstantValue(OnnxNode node)
    {
        var a = node.Attributes;
        if (a.GetValueOrDefault("value")?.Tensor is { } t) return t;
        if (a.GetValueOrDefault("value_float")?.Float is float f) return new OnnxTensor("", OnnxTensor.FloatType, [], [f], null);
        if (a.GetValueOrDefault("value_floats")?.Floats is { } fs) return new OnnxTensor("", OnnxTensor.FloatType, [fs.Count], fs.ToArray(), null);
        if (a.GetValueOrDefault("value_int")?.Int is long i) return new OnnxTensor("", OnnxTensor.Int64Type, [], null, [i]);
        if (a.GetValueOrDefault("value_ints")?.Ints is { } ints) return new OnnxTensor("", OnnxTensor.Int64Type, [ints.Count], null, ints.ToArray());
        throw Refuse(node, "holds no float32 or int64 value");
    }

    public static long[] Longs(OnnxNode node, OnnxTensor t) =>
        t.Int64s ?? t.Floats?.Select(f => (long)f).ToArray() ?? throw Refuse(node, $"reads {Describe(t)}, which import cannot use");

    public static float[] Floats(OnnxNode node, OnnxTensor t) =>
        t.Floats ?? t.Int64s?.Select(v => (float)v).ToArray() ?? throw Refuse(node, $"reads {Describe(t)}, which import cannot use");

    private static string Describe(OnnxTensor t) => $"'{t.Name}' of ONNX element type {t.DataType}";

    private static OnnxImportException Refuse(OnnxNode node, string problem) => new($"{node.Label}: {problem}");
}
