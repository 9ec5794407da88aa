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
}
