using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace CnnGen.Generator.Emit;

/// <summary>One buffer that several layer outputs take turns in during an evaluation pass.</summary>
/// <param name="Field">The workspace field that holds it.</param>
/// <param name="PerImage">Floats per image: the largest of its outputs.</param>
/// <param name="Outputs">The output fields it stands for, in the order the pass first writes them.</param>
internal sealed record SharedOutput(string Field, long PerImage, IReadOnlyList<string> Outputs);

/// <summary>
/// Which layer outputs an evaluation pass keeps in the same buffer. A forward pass runs the layers in order, and each
/// layer's code touches no output buffer but those its text names (its input, its own output, a shortcut's source, an
/// output a fused kernel writes for a later layer). So an output is live from the first layer whose forward code, or
/// whose call in the chain, names it to the last one that does (the logits to the end of the pass), and two outputs
/// whose spans do not meet can share one buffer. Without this every layer kept its own output: a 224x224 network's
/// pass wrote about 23 MB per image, more than this machine's caches hold, so each layer's stores went out to memory;
/// shared, a few buffers stay in cache from one layer to the next. A training pass keeps every output (the backward
/// pass reads them), so only evaluation passes share.
/// </summary>
internal static class OutputSharing
{
    private static readonly Regex OutputName = new(@"\b_act_[A-Za-z0-9_]+", RegexOptions.CultureInvariant);

    /// <summary>
    /// Assigns the outputs (<paramref name="outputs"/>: field and floats per image, in layer order) to shared buffers.
    /// <paramref name="layerCode"/> is each layer's forward code with its call, in pass order; <paramref name="kept"/> is
    /// the output read after the pass (the logits), or null. An output no code names keeps a buffer to itself.
    /// <paramref name="unwritten"/> names the outputs the usual evaluation pass never writes (a convolution's own output
    /// when its BatchNorm is folded in, that BatchNorm's when the ReLU after it is applied as the folded output is stored):
    /// they are live as their names say, since an unfolded pass writes them, but they do not make a buffer warm.
    /// <paramref name="extends"/> maps an output to one whose buffer it may take over in place (a channel join's output
    /// to its input, whose channels come first): when the pass names that input last where it first names the join, the
    /// join's output takes the input's buffer, grown to its size, and for one image finds its input's channels in place.
    /// </summary>
    /// <remarks>
    /// Among the free buffers large enough, an output the pass writes takes the one it touched last (its lines are the
    /// likeliest still in cache) and an unwritten one the one touched longest ago, so that it keeps no warm buffer from
    /// the outputs after it; the outputs first named by the same layer choose in that order, written ones first. When
    /// no free buffer is large enough, the largest free one grows.
    /// </remarks>
    public static IReadOnlyList<SharedOutput> Plan(IReadOnlyList<(string Field, long PerImage)> outputs, IReadOnlyList<string> layerCode, string? kept,
        IReadOnlyCollection<string>? unwritten = null, IReadOnlyDictionary<string, string>? extends = null)
    {
        var first = new Dictionary<string, int>();
        var last = new Dictionary<string, int>();
        for (int step = 0; step < layerCode.Count; step++)
            foreach (Match m in OutputName.Matches(layerCode[step]))
            {
                if (!first.ContainsKey(m.Value)) first[m.Value] = step;
                last[m.Value] = step;
            }

        var order = outputs
            .Select((o, index) => (o.Field, o.PerImage, index, Written: unwritten is null || !unwritten.Contains(o.Field),
                First: first.TryGetValue(o.Field, out int f) ? f : -1,
                Last: o.Field == kept || !last.TryGetValue(o.Field, out int l) ? int.MaxValue : l))
            .OrderBy(o => o.First).ThenBy(o => o.Written ? 0 : 1).ThenBy(o => o.index)
            .ToList();

        // Per buffer: floats per image, the step after which it is free, the last step at which the pass touches it.
        var slots = new List<(long PerImage, int FreeAfter, int Touched, List<string> Outputs)>();
        var slotOf = new Dictionary<string, int>();
        foreach (var o in order)
        {
            int chosen = -1;
            if (o.First >= 0 && o.Written && extends is not null && extends.TryGetValue(o.Field, out var inner) && slotOf.TryGetValue(inner, out int held)
                && slots[held].FreeAfter == o.First && slots[held].Outputs[slots[held].Outputs.Count - 1] == inner)
            {
                // The output that extends it in place is first named where this one is last: it takes the same buffer.
                chosen = held;
            }
            else if (o.First >= 0)
            {
                var free = Enumerable.Range(0, slots.Count).Where(s => slots[s].FreeAfter < o.First).ToList();
                var fits = free.Where(s => slots[s].PerImage >= o.PerImage).ToList();
                chosen = fits.Count > 0
                    ? (o.Written ? fits.OrderByDescending(s => slots[s].Touched) : fits.OrderBy(s => slots[s].Touched)).ThenBy(s => s).First()
                    : free.Count > 0 ? free.OrderByDescending(s => slots[s].PerImage).ThenBy(s => s).First()
                    : -1;
            }
            // An output no code names is live for the whole pass: it never frees its buffer.
            int freeAfter = o.First < 0 ? int.MaxValue : o.Last;
            int touched = o.Written ? System.Math.Min(o.Last, layerCode.Count) : -1;
            slotOf[o.Field] = chosen < 0 ? slots.Count : chosen;
            if (chosen < 0)
                slots.Add((o.PerImage, freeAfter, touched, new List<string> { o.Field }));
            else
            {
                var s = slots[chosen];
                s.Outputs.Add(o.Field);
                slots[chosen] = (System.Math.Max(s.PerImage, o.PerImage), freeAfter, System.Math.Max(s.Touched, touched), s.Outputs);
            }
        }
        return slots.Select((s, i) => new SharedOutput("_shared" + i, s.PerImage, s.Outputs)).ToList();
    }
}
