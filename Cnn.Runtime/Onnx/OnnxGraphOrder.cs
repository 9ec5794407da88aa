namespace CnnGen.Onnx;

/// <summary>
/// The nodes that compute the graph's output, in a topological order (the file's own order wherever it allows): every
/// value is checked to be defined once, by an initializer, the graph input or one node, before it is read; a cycle is
/// an error naming a node on it. Nodes the output does not depend on are left out.
/// </summary>
internal static class OnnxGraphOrder
{
    public static List<OnnxNode> Sort(OnnxModel model, string input, string output)
    {
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        var defined = new HashSet<string>(StringComparer.Ordinal) { input };
        foreach (var t in model.Initializers)
            if (t.Name.Length != 0 && !defined.Add(t.Name))
                throw new OnnxImportException($"not a valid ONNX file: value '{t.Name}' is defined twice (initializer)");
        foreach (var node in model.Nodes)
            foreach (var o in node.Outputs)
            {
                if (o.Length == 0) continue;
                if (!defined.Add(o))
                    throw new OnnxImportException($"not a valid ONNX file: {node.Label} defines '{o}', which is already defined");
                producer[o] = node;
            }
        foreach (var node in model.Nodes)
            foreach (var i in node.Inputs)
                if (i.Length != 0 && !defined.Contains(i))
                    throw new OnnxImportException($"not a valid ONNX file: {node.Label} reads '{i}', which no initializer, graph input or node defines");
        if (!defined.Contains(output))
            throw new OnnxImportException($"not a valid ONNX file: the graph output '{output}' is defined by nothing");

        // The nodes the output depends on.
        var needed = new HashSet<int>();
        var pending = new Stack<string>();
        pending.Push(output);
        while (pending.Count > 0)
        {
            if (!producer.TryGetValue(pending.Pop(), out var node) || !needed.Add(node.Index)) continue;
            foreach (var i in node.Inputs)
                if (i.Length != 0) pending.Push(i);
        }

        // Kahn's algorithm, the lowest file position first among the nodes that are ready.
        var waiting = new Dictionary<int, int>();
        var readers = new Dictionary<int, List<int>>();
        foreach (int n in needed)
        {
            var node = model.Nodes[n];
            var from = node.Inputs.Where(i => i.Length != 0 && producer.ContainsKey(i)).Select(i => producer[i].Index).Distinct().ToList();
            waiting[n] = from.Count;
            foreach (int p in from) (readers.TryGetValue(p, out var list) ? list : readers[p] = []).Add(n);
        }
        var ready = new SortedSet<int>(needed.Where(n => waiting[n] == 0));
        var order = new List<OnnxNode>(needed.Count);
        while (ready.Count > 0)
        {
            int n = ready.Min;
            ready.Remove(n);
            order.Add(model.Nodes[n]);
            if (!readers.TryGetValue(n, out var next)) continue;
            foreach (int r in next)
                if (--waiting[r] == 0) ready.Add(r);
        }
        if (order.Count != needed.Count)
        {
            var stuck = model.Nodes[needed.Where(n => waiting[n] > 0).Min()];
            throw new OnnxImportException($"the graph has a cycle: {stuck.Label} depends on its own output");
        }
        return order;
    }
}
