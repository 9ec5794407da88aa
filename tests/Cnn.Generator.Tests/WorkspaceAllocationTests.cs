using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Outputs that an evaluation-mode pass never writes or reads are allocated only for training or an unfolded pass: a
/// convolution's own output when its BatchNorm is folded in, the folded BatchNorm's output when the convolution also
/// applies the ReLU after it, and a fused 1x1 expansion's ReLU output while the depthwise convolution computes it band
/// by band. Outputs some pass does use (a BatchNorm read by a shortcut, a ReLU a convolution writes) stay allocated.
/// </summary>
public class WorkspaceAllocationTests
{
    private const string Expansion = "[Input(16, 105, 105)] [Conv(1, 16)] [Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] " +
                                     "[Conv(3, 96, Stride = 2, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 8)] [Dense(5)]";
    private const string Folds = "[Input(3, 12, 12)] [Conv(3, 8, Padding = 1, Bias = false)] [BatchNorm] [ReLU] " +
                                 "[Conv(3, 8, Padding = 1, Bias = false)] [BatchNorm(Name = \"shortcutEnd\")] [Add(\"relu1\")] [ReLU] [Dense(4)]";

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Alloc;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(string attributes) => Compile(attributes).Sources.Single().SourceText.ToString();

    [Fact]
    public void FoldedOutputsAreGrownOnlyForTrainingOrAnUnfoldedPass()
    {
        string code = Code(Folds);
        Assert.Contains("if (training || !Folded) Grow(ref _act_conv1, 1152L * batch, batch); // unused by a folded evaluation pass", code, StringComparison.Ordinal);
        Assert.Contains("if (training || !Folded) Grow(ref _act_bn1, 1152L * batch, batch); // unused by a folded evaluation pass", code, StringComparison.Ordinal);
        Assert.Contains("if (training || !Folded) Grow(ref _act_conv2, 1152L * batch, batch);", code, StringComparison.Ordinal);
        // Written by the convolutions (a fused ReLU; a folded BatchNorm's output the shortcut's sum reads): always grown.
        Assert.Contains("            Grow(ref _act_relu1, 1152L * batch, batch);", code, StringComparison.Ordinal);
        Assert.Contains("            Grow(ref _act_shortcutEnd, 1152L * batch, batch);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void AFusedExpansionsReluOutputIsGrownOnlyWhenAPassCanWriteIt()
    {
        string code = Code(Expansion);
        Assert.Contains("if (training || !Folded || SplitParts > 1) Grow(ref _act_relu6_1, 1058400L * batch, batch); // unused by a folded evaluation pass that keeps the image whole", code, StringComparison.Ordinal);
        Assert.Contains("if (training || !Folded) Grow(ref _act_conv2, 1058400L * batch, batch);", code, StringComparison.Ordinal);
        Assert.Contains("if (training || !Folded) Grow(ref _act_bn1, 1058400L * batch, batch);", code, StringComparison.Ordinal);
        // The depthwise convolution's ReLU6 is its output: grown.
        Assert.Contains("            Grow(ref _act_relu6_2, 269664L * batch, batch);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEvaluationPassLeavesThemUnallocatedAndGivesTheUnfoldedResult()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Compile(Expansion), "Alloc.Net"), 3)!;
        Perturb(network, 1);
        var input = Inputs(network, 1, 2);
        var output = new float[network.OutputLength];
        network.Forward(input, output, 1);
        var ws = Workspace(network);
        foreach (string unused in new[] { "_act_conv2", "_act_bn1", "_act_relu6_1" })
            Assert.True(Buffer(ws, unused).Length == 0, $"{unused} was allocated by an evaluation pass");
        Assert.NotEmpty(Buffer(ws, "_act_relu6_2"));
        // The unfolded pass (every layer writing its own output) allocates them and gives the same logits.
        var unfolded = network.Activations(input)[^1];
        for (int k = 0; k < output.Length; k++) Assert.Equal(unfolded[k], output[k], 4);
        Assert.NotEmpty(Buffer(Workspace(network), "_act_relu6_1"));
    }

    private static object Workspace(INetwork network)
    {
        object passes = network.GetType().GetProperty("GeneratedPasses", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!;
        return passes.GetType().GetMethod("Workspace")!.Invoke(passes, [0])!;
    }

    private static float[] Buffer(object workspace, string field) =>
        (float[])workspace.GetType().GetField(field, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(workspace)!;
}
