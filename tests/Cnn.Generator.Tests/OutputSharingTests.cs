using CnnGen.Generator.Emit;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <see cref="OutputSharing.Plan"/>: an output is live from the first to the last layer whose code names it, and outputs
/// whose spans do not meet share a buffer sized for the largest of them.
/// </summary>
public class OutputSharingTests
{
    private static IReadOnlyList<SharedOutput> Plan(string? kept, params (string Field, long PerImage, string Code)[] layers) =>
        OutputSharing.Plan(layers.Select(l => (l.Field, l.PerImage)).ToList(), layers.Select(l => l.Code).ToList(), kept);

    private static IReadOnlyList<SharedOutput> PlanFolded(string? kept, string[] unwritten, params (string Field, long PerImage, string Code)[] layers) =>
        OutputSharing.Plan(layers.Select(l => (l.Field, l.PerImage)).ToList(), layers.Select(l => l.Code).ToList(), kept, unwritten);

    private static string SlotOf(IReadOnlyList<SharedOutput> plan, string output) => plan.Single(s => s.Outputs.Contains(output)).Field;

    [Fact]
    public void AChainAlternatesBetweenTwoBuffers()
    {
        var plan = Plan("_act_d",
            ("_act_a", 100, "F_a(ws, inputs, ws._act_a, batch);"),
            ("_act_b", 50, "F_b(ws, ws._act_a, ws._act_b, batch);"),
            ("_act_c", 80, "F_c(ws, ws._act_b, ws._act_c, batch);"),
            ("_act_d", 10, "F_d(ws, ws._act_c, ws._act_d, batch);"));
        Assert.Equal(2, plan.Count);
        Assert.Equal(new[] { "_act_a", "_act_c" }, plan[0].Outputs);
        Assert.Equal(new[] { "_act_b", "_act_d" }, plan[1].Outputs);
        Assert.Equal(100, plan[0].PerImage);
        Assert.Equal(50, plan[1].PerImage);
    }

    [Fact]
    public void AShortcutsSourceKeepsItsBufferUntilTheSumReadsIt()
    {
        var plan = Plan("_act_add",
            ("_act_a", 64, "F_a(ws, inputs, ws._act_a, batch);"),
            ("_act_b", 64, "F_b(ws, ws._act_a, ws._act_b, batch);"),
            ("_act_c", 64, "F_c(ws, ws._act_b, ws._act_c, batch);"),
            ("_act_add", 64, "F_add(ws, ws._act_c, ws._act_add, batch); var shortcut = ws._act_a;"));
        Assert.Equal(new[] { "_act_a" }, plan.Single(s => s.Outputs.Contains("_act_a")).Outputs);
        Assert.Equal(3, plan.Count);
        Assert.Equal(SlotOf(plan, "_act_b"), SlotOf(plan, "_act_add"));
    }

    [Fact]
    public void NamesThatStartAlikeAreDifferentOutputs()
    {
        // _act_conv1 is last named by the second layer; _act_conv10 (named by the third and fourth) must not extend it.
        var plan = Plan(null,
            ("_act_conv1", 8, "F(ws, inputs, ws._act_conv1, batch);"),
            ("_act_conv2", 8, "F(ws, ws._act_conv1, ws._act_conv2, batch);"),
            ("_act_conv10", 8, "F(ws, ws._act_conv2, ws._act_conv10, batch);"),
            ("_act_conv11", 8, "F(ws, ws._act_conv10, ws._act_conv11, batch);"));
        Assert.Equal(SlotOf(plan, "_act_conv1"), SlotOf(plan, "_act_conv10"));
        Assert.Equal(SlotOf(plan, "_act_conv2"), SlotOf(plan, "_act_conv11"));
    }

    [Fact]
    public void TheKeptOutputAndAnOutputNoCodeNamesGetBuffersOfTheirOwn()
    {
        var plan = Plan("_act_b",
            ("_act_a", 4, "F(ws, inputs, ws._act_a, batch);"),
            ("_act_b", 4, "F(ws, ws._act_a, ws._act_b, batch);"),
            ("_act_unnamed", 4, "F(ws, ws._act_b, ws._act_c, batch);"),
            ("_act_c", 4, "F(ws, ws._act_c, ws._act_d, batch);"),
            ("_act_d", 4, "F(ws, ws._act_d, ws._act_e, batch);"));
        Assert.Equal(new[] { "_act_b" }, plan.Single(s => s.Outputs.Contains("_act_b")).Outputs);
        Assert.Equal(new[] { "_act_unnamed" }, plan.Single(s => s.Outputs.Contains("_act_unnamed")).Outputs);
        // _act_a is free after the second layer: _act_c (first named by the third) takes its buffer.
        Assert.Equal(SlotOf(plan, "_act_a"), SlotOf(plan, "_act_c"));
    }

    [Fact]
    public void ABufferGrowsToTheLargestOutputItHolds()
    {
        var plan = Plan("_act_c",
            ("_act_a", 10, "F(ws, inputs, ws._act_a, batch);"),
            ("_act_b", 20, "F(ws, ws._act_a, ws._act_b, batch);"),
            ("_act_c", 300, "F(ws, ws._act_b, ws._act_c, batch);"));
        Assert.Equal(SlotOf(plan, "_act_a"), SlotOf(plan, "_act_c"));
        Assert.Equal(300, plan.Single(s => s.Outputs.Contains("_act_c")).PerImage);
        Assert.Equal(20, plan.Single(s => s.Outputs.Contains("_act_b")).PerImage);
    }

    /// <summary>Three convolutions with a BatchNorm folded into each, laid out as the generator writes them: a
    /// convolution's code names the outputs it writes when folded, and the chain calls of the BatchNorm and ReLU name
    /// theirs. The first two apply the ReLU after their BatchNorm as they store; the third (a projection) has none. The
    /// folded pass writes only the ReLUs' outputs and the third BatchNorm's.</summary>
    private static (string, long, string)[] FoldedChain() => new (string, long, string)[]
    {
        ("_act_c1", 100, "F_c1(ws, inputs, ws._act_c1, batch); outp = ws._act_bn1; outp = ws._act_relu1;"),
        ("_act_bn1", 100, "if (!ws.Folded) F_bn1(ws, ws._act_c1, ws._act_bn1, batch);"),
        ("_act_relu1", 100, "if (!ws.Folded) F_relu1(ws, ws._act_bn1, ws._act_relu1, batch);"),
        ("_act_c2", 100, "F_c2(ws, ws._act_relu1, ws._act_c2, batch); outp = ws._act_bn2; outp = ws._act_relu2;"),
        ("_act_bn2", 100, "if (!ws.Folded) F_bn2(ws, ws._act_c2, ws._act_bn2, batch);"),
        ("_act_relu2", 100, "if (!ws.Folded) F_relu2(ws, ws._act_bn2, ws._act_relu2, batch);"),
        ("_act_c3", 50, "F_c3(ws, ws._act_relu2, ws._act_c3, batch); outp = ws._act_bn3;"),
        ("_act_bn3", 50, "if (!ws.Folded) F_bn3(ws, ws._act_c3, ws._act_bn3, batch);"),
        ("_act_fc", 10, "F_fc(ws, ws._act_bn3, ws._act_fc, batch);"),
    };

    private static readonly string[] Unwritten = { "_act_c1", "_act_bn1", "_act_c2", "_act_bn2", "_act_c3" };

    [Fact]
    public void WrittenOutputsTakeTheBufferThePassTouchedLast()
    {
        var plan = PlanFolded("_act_fc", Unwritten, FoldedChain());
        // The written outputs alternate between two buffers: the third convolution stores into the buffer the first
        // one wrote, not into one that only unwritten outputs held (whose lines the pass has not touched).
        Assert.NotEqual(SlotOf(plan, "_act_relu1"), SlotOf(plan, "_act_relu2"));
        Assert.Equal(SlotOf(plan, "_act_relu1"), SlotOf(plan, "_act_bn3"));
        // Without knowing what is written, the unwritten outputs named first take the warm buffers.
        var blind = Plan("_act_fc", FoldedChain());
        Assert.Equal(SlotOf(blind, "_act_c2"), SlotOf(blind, "_act_bn3"));
        Assert.NotEqual(SlotOf(blind, "_act_relu1"), SlotOf(blind, "_act_bn3"));
    }

    [Fact]
    public void UnwrittenOutputsStillNeverShareABufferWhileLive()
    {
        var layers = FoldedChain();
        var plan = PlanFolded("_act_fc", Unwritten, layers);
        // An unfolded pass writes every output: two outputs named by overlapping spans of layers keep separate buffers.
        var span = layers.Select(l => l.Item1).ToDictionary(f => f, f =>
        {
            var steps = Enumerable.Range(0, layers.Length).Where(i => System.Text.RegularExpressions.Regex.IsMatch(layers[i].Item3, $@"\b{f}\b")).ToList();
            return (First: steps.Min(), Last: f == "_act_fc" ? int.MaxValue : steps.Max());
        });
        foreach (var slot in plan)
            foreach (var a in slot.Outputs)
                foreach (var b in slot.Outputs.Where(b => string.CompareOrdinal(a, b) < 0))
                    Assert.True(span[a].Last < span[b].First || span[b].Last < span[a].First, $"{a} and {b} share {slot.Field} while both are live");
        Assert.Equal(4, plan.Count);
    }
}
