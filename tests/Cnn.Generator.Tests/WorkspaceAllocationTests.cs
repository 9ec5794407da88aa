using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// An evaluation pass keeps layer outputs whose spans in the pass do not meet in shared buffers (so a 224x224 network's
/// data stays in cache); a training pass and <c>Activations</c> give every layer its own buffer again, and switching
/// between them changes no result.
/// </summary>
public class WorkspaceAllocationTests
{
    private const string Expansion = "[Input(16, 105, 105)] [Conv(1, 16)] [Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] " +
                                     "[Conv(3, 96, Stride = 2, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 8)] [Dense(5)]";
    private const string Folds = "[Input(3, 12, 12)] [Conv(3, 8, Padding = 1, Bias = false)] [BatchNorm] [ReLU] " +
                                 "[Conv(3, 8, Padding = 1, Bias = false)] [BatchNorm(Name = \"shortcutEnd\")] [Add(\"relu1\")] [ReLU] [Dense(4)]";
    private static readonly string[] FoldsOutputs = { "_act_conv1", "_act_bn1", "_act_relu1", "_act_conv2", "_act_shortcutEnd", "_act_add1", "_act_relu2", "_act_dense1" };

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Alloc;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(string attributes) => Compile(attributes).Sources.Single().SourceText.ToString();

    [Fact]
    public void AnEvaluationPassGrowsTheSharedBuffersAndATrainingPassEachLayersOwn()
    {
        string code = Code(Folds);
        // The shortcut's source (relu1) is read by the sum four layers on: no output in between shares its buffer. The
        // dense layer's output, written after the sum, takes it (the buffer the pass touched last); conv1, bn1, conv2 and
        // add1, which the folded pass never writes, hold the others until their outputs are free.
        Assert.Contains("private float[] _shared0 = global::System.Array.Empty<float>(); // _act_relu1, _act_dense1", code, StringComparison.Ordinal);
        Assert.Contains("private float[] _shared2 = global::System.Array.Empty<float>(); // _act_bn1, _act_conv2, _act_relu2", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _shared2, 1152L * batch, batch);", code, StringComparison.Ordinal);
        Assert.Contains("_act_conv2 = _shared2;", code, StringComparison.Ordinal);
        Assert.Contains("                Grow(ref _act_conv2, 1152L * batch, batch);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputsShareInEvaluationAndAreTheirOwnInTrainingWithTheSameResults()
    {
        var type = LoadedNetwork.Load(Compile(Folds), "Alloc.Net");
        var network = (INetwork)Activator.CreateInstance(type, 3)!;
        Perturb(network, 1);
        var input = Inputs(network, 2, 2);
        var labels = new[] { 1, 3 };
        var output = new float[2 * network.OutputLength];
        network.Forward(input, output, 2);
        var ws = Workspace(network);
        Assert.Equal(4, FoldsOutputs.Select(f => Buffer(ws, f)).Distinct().Count());
        Assert.Same(Buffer(ws, "_act_conv1"), Buffer(ws, "_act_shortcutEnd"));
        Assert.NotSame(Buffer(ws, "_act_relu1"), Buffer(ws, "_act_conv2"));

        // Every layer's own output (each in its own buffer), and the same logits as the shared pass.
        var unshared = network.Activations(input.AsSpan(0, network.InputLength));
        Assert.Equal(FoldsOutputs.Length, FoldsOutputs.Select(f => Buffer(ws, f)).Distinct().Count());
        for (int k = 0; k < network.OutputLength; k++) Assert.Equal(unshared[^1][k], output[k], 4);

        // A training pass after the evaluation pass gives the gradients of a network that never ran one.
        float loss = network.ComputeGradients(input, labels, 2);
        float[] gradients = network.Gradients.ToArray();
        var fresh = (INetwork)Activator.CreateInstance(type, 3)!;
        Perturb(fresh, 1);
        Assert.Equal(fresh.ComputeGradients(input, labels, 2), loss);
        Assert.Equal(fresh.Gradients.ToArray(), gradients);
        Assert.Contains(gradients, g => g != 0f);

        // Evaluation again: the shared buffers come back and give the first pass's logits bit for bit.
        var again = new float[output.Length];
        network.Forward(input, again, 2);
        Assert.Equal(output, again);
        Assert.Same(Buffer(ws, "_act_conv1"), Buffer(ws, "_act_shortcutEnd"));
    }

    [Fact]
    public void AFusedExpansionsNetworkGivesTheUnsharedLogits()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Compile(Expansion), "Alloc.Net"), 3)!;
        Perturb(network, 1);
        var input = Inputs(network, 1, 2);
        var output = new float[network.OutputLength];
        network.Forward(input, output, 1);
        var ws = Workspace(network);
        Assert.True(new[] { "_act_conv1", "_act_conv2", "_act_bn1", "_act_relu6_1", "_act_conv3", "_act_relu6_2" }.Select(f => Buffer(ws, f)).Distinct().Count() < 6);
        var unfolded = network.Activations(input)[^1];
        for (int k = 0; k < output.Length; k++) Assert.Equal(unfolded[k], output[k], 4);
        Assert.Contains(output, v => v != output[0]);
    }

    private static object Workspace(INetwork network)
    {
        object passes = network.GetType().GetProperty("GeneratedPasses", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!;
        return passes.GetType().GetMethod("Workspace")!.Invoke(passes, [0])!;
    }

    private static float[] Buffer(object workspace, string field) =>
        (float[])workspace.GetType().GetField(field, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(workspace)!;
}
