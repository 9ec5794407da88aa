using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The backward pass through the graph. Layers run backward in reverse order, from the logits; a layer whose output
/// feeds several layers gets the sum of their gradients. Of the layers that read it as their input, the first (its
/// primary reader, run backward last) writes its output gradient in place; any other reader writes its input gradient
/// aside, and each join (Add, Concat) that names it leaves its share in the join's own output gradient. Once the primary
/// has run, those shares are added in (or, without a primary reader, the first is copied and the rest added): every
/// reader has run by then, and nothing later in the pass changes what they left. A residual block's output ReLU whose
/// sum does its backward gets its one shortcut share from that sum, added as it masks
/// (<see cref="LayerSpec.ReluBackwardAddsShareOf"/>).
/// </summary>
internal sealed class GradientFlow
{
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
    private const string Add = "global::System.Numerics.Tensors.TensorPrimitives.Add";

    private readonly NetworkSpec _spec;
    private readonly List<LayerSpec> _body;
    private readonly int _firstTrainable;
    private readonly HashSet<int> _live;
    private readonly Dictionary<int, int> _primary = new();
    private readonly Dictionary<int, List<Share>> _shares = new();

    /// <summary>A share of a layer's output gradient besides its primary reader's: a reader's input gradient written aside
    /// (<c>Join</c> null), or a join's output gradient at <c>Offset</c> values into each image (the source's place in it).</summary>
    private sealed record Share(LayerSpec Reader, LayerSpec? Join, long Offset);

    public GradientFlow(NetworkSpec spec, List<LayerSpec> body, int firstTrainable)
    {
        _spec = spec;
        _body = body;
        _firstTrainable = firstTrainable;
        _live = Graph.ReachingOutput(spec.Layers, spec.OutputLayer);
        foreach (var reader in body.Where(l => _live.Contains(l.Index)))
        {
            if (reader.InputIndex >= 0 && !_primary.ContainsKey(reader.InputIndex)) _primary[reader.InputIndex] = reader.Index;
        }
        // Shares in the order the readers stand: the readers besides the primary, then the joins' sources in order.
        foreach (var reader in body.Where(l => _live.Contains(l.Index)))
        {
            if (reader.InputIndex >= 0 && _primary[reader.InputIndex] != reader.Index) SharesOf(reader.InputIndex).Add(new Share(reader, null, 0));
            if (reader.Join is not { } join) continue;
            long offset = reader.Input.Length;
            for (int k = 0; k < join.Sources.Count; k++)
            {
                int source = join.Sources[k];
                SharesOf(source).Add(new Share(reader, reader, reader.Kind == LayerKind.Concat ? offset : 0));
                offset += spec.Layers[source].Output.Length;
            }
        }
    }

    private List<Share> SharesOf(int layer) => _shares.TryGetValue(layer, out var list) ? list : _shares[layer] = new List<Share>();

    /// <summary>Layers the logits depend on, from the first with parameters: only they run backward.</summary>
    public bool RunsBackward(int i) => _firstTrainable >= 0 && i >= _firstTrainable && _live.Contains(i);

    /// <summary>Whether a layer's backward pass computes its input gradient: its input is a layer that has one.</summary>
    public bool NeedsInputGradient(LayerSpec l) => _firstTrainable >= 0 && l.InputIndex >= _firstTrainable;

    /// <summary>A layer whose output gradient is kept in a buffer of its own: not a ReLU's whose backward pass the max pool
    /// after it applies (that pool writes the ReLU's input gradient), nor one that <see cref="Grad(NetworkSpec, int)"/>
    /// finds in another layer's buffer (the logits', a sum's, a ReLU's masked in place).</summary>
    public bool HasGradientBuffer(int i)
    {
        var l = _spec.Layers[i];
        bool appliedByPool = l.BackwardAppliedBy >= 0 && _spec.Layers[l.BackwardAppliedBy].Kind == LayerKind.MaxPool;
        return RunsBackward(i) && !appliedByPool && Grad(i) == Own(l);
    }

    /// <summary>A reader of a layer besides its primary one writes its input gradient into its own buffer.</summary>
    public bool WritesAside(LayerSpec l) =>
        NeedsInputGradient(l) && _live.Contains(l.Index) && _primary.TryGetValue(l.InputIndex, out int primary) && primary != l.Index;

    public static string Aside(LayerSpec l) => "_dinp_" + l.Id;

    /// <summary>The gradient of a layer's output; the output layer's is the gradient of the logits.</summary>
    public string Grad(int i) => Grad(_spec, i);

    /// <summary>The workspace field of layer <paramref name="i"/>'s output gradient in <paramref name="spec"/>: a sum's main
    /// input that only the sum reads has the sum's (<see cref="LayerSpec.GradientBufferOf"/>), and a BatchNorm or sum that
    /// does the backward pass of the ReLU after it has that ReLU's, masked in place (<see cref="LayerSpec.ReluBackwardBeforeOwn"/>).</summary>
    public static string Grad(NetworkSpec spec, int i)
    {
        // Each step moves to a later layer, so this ends.
        while (true)
        {
            if (i == spec.OutputLayer) return "_dlogits";
            var l = spec.Layers[i];
            if (l.GradientBufferOf > i) i = l.GradientBufferOf;
            else if (l.ReluBackwardBeforeOwn > i) i = l.ReluBackwardBeforeOwn;
            else return Own(l);
        }
    }

    /// <summary>The workspace field a layer's own output gradient would have.</summary>
    private static string Own(LayerSpec l) => "_grad_" + l.Id;

    public void EmitBackward(SourceWriter w)
    {
        w.Open($"private void RunBackward(Workspace ws, {ReadOnlySpan} inputs, int batch)");
        if (_firstTrainable < 0) w.Line("_ = ws; _ = inputs; _ = batch; // nothing trainable");
        else w.Line("int active = FirstActiveLayer(); // layers before it need no gradient at all");
        for (int i = _body.Count - 1; _firstTrainable >= 0 && i >= _firstTrainable; i--)
        {
            if (!RunsBackward(i)) continue;
            var l = _body[i];
            // A max pool that applies the ReLU before it writes that ReLU's input gradient, and the ReLU does not run.
            var gradientOf = l.ReluMaskedInBackward >= 0 ? _spec.Layers[l.ReluMaskedInBackward] : l;
            string dinp = "default";
            if (NeedsInputGradient(gradientOf))
                dinp = $"active < {gradientOf.InputIndex + 1} ? ws.{(WritesAside(gradientOf) ? Aside(gradientOf) : Grad(gradientOf.InputIndex))} : default";
            w.Line($"if (active > {l.Index}) return;");
            if (l.BackwardAppliedBy >= 0)
                w.Line($"// {l.Name}'s backward pass: {_spec.Layers[l.BackwardAppliedBy].Name}'s applied it.");
            else
            {
                // A BatchNorm or sum that applies the ReLU after it reads that ReLU's output gradient, masking it in place.
                w.Line($"{LayerEmitter.BackwardName(l)}(ws, {PassEmitter.Input(_spec, l)}, ws.{PassEmitter.Act(l)}, ws.{Grad(i)}, {dinp}, batch);");
            }
            // Every layer whose last reader this was now has all its shares: add them to its output gradient.
            foreach (var pair in _shares.Where(p => p.Key >= _firstTrainable && LastReader(p.Key) == i).OrderByDescending(p => p.Key))
                EmitShares(w, _spec.Layers[pair.Key], pair.Value);
        }
        w.Close();
    }

    /// <summary>The reader of <paramref name="layer"/> with the lowest index: the last to run backward.</summary>
    private int LastReader(int layer)
    {
        int last = _primary.TryGetValue(layer, out int primary) ? primary : int.MaxValue;
        foreach (var share in _shares[layer]) last = System.Math.Min(last, share.Reader.Index);
        return last;
    }

    private void EmitShares(SourceWriter w, LayerSpec source, List<Share> shares)
    {
        long length = source.Output.Length;
        string target = Grad(source.Index);
        bool copyFirst = !_primary.ContainsKey(source.Index);
        foreach (var share in shares)
        {
            if (share.Join is null)
            {
                EmitWhole(w, source, target, Aside(share.Reader), copyFirst, $"{(copyFirst ? "=" : "+")} {share.Reader.Name}'s input gradient");
            }
            else if (share.Join.Kind == LayerKind.Add && AddedAsMasked(source, share.Join) is { } masker)
            {
                w.Line($"// + {share.Join.Name}'s output gradient, down the shortcut: {masker.Name} adds it as it does {source.Name}'s backward pass.");
            }
            else if (share.Join.Kind == LayerKind.Add)
            {
                EmitWhole(w, source, target, Grad(share.Join.Index), copyFirst, $"{(copyFirst ? "=" : "+")} {share.Join.Name}'s output gradient, down the shortcut");
            }
            else
            {
                long joined = share.Join.Output.Length;
                string what = share.Offset + length == joined ? $"last {source.Output.Channels} channels" : $"channels from channel {share.Offset / (source.Output.Height * (long)source.Output.Width)} on";
                w.Line($"if (active < {source.Index + 1}) // {(copyFirst ? "=" : "+")} the gradient of {share.Join.Name}'s {what}, down the dense connection");
                w.Line("    for (int b = 0; b < batch; b++)");
                string from = $"new {ReadOnlySpan}(ws.{Grad(share.Join.Index)}, b * {joined} + {share.Offset}, {length})";
                string to = $"new {Span}(ws.{target}, b * {length}, {length})";
                w.Line(copyFirst ? $"        {from}.CopyTo({to});"
                                 : $"        {Add}(new {ReadOnlySpan}(ws.{target}, b * {length}, {length}), {from}, {to});");
            }
            copyFirst = false;
        }
    }

    /// <summary>The sum that adds <paramref name="join"/>'s output gradient to <paramref name="source"/>'s (a ReLU's) as it
    /// masks it (<see cref="LayerSpec.ReluBackwardAddsShareOf"/>), or null.</summary>
    private LayerSpec? AddedAsMasked(LayerSpec source, LayerSpec join) =>
        source.BackwardAppliedBy >= 0 && _spec.Layers[source.BackwardAppliedBy] is { Kind: LayerKind.Add } sum && sum.ReluBackwardAddsShareOf == join.Index ? sum : null;

    private static void EmitWhole(SourceWriter w, LayerSpec source, string target, string from, bool copy, string comment)
    {
        long length = source.Output.Length;
        string guard = $"if (active < {source.Index + 1}) ";
        if (copy)
            w.Line($"{guard}new {ReadOnlySpan}(ws.{from}, 0, batch * {length}).CopyTo(new {Span}(ws.{target}, 0, batch * {length})); // {comment}");
        else
            w.Line($"{guard}{Add}(new {ReadOnlySpan}(ws.{target}, 0, batch * {length}), " +
                   $"new {ReadOnlySpan}(ws.{from}, 0, batch * {length}), new {Span}(ws.{target}, 0, batch * {length})); // {comment}");
    }
}
