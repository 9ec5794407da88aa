using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>Name</c> as a PyTorch module path (<c>layer1.0.conv1</c>): the tensors are named as torchvision's state_dict names
/// them, the name works wherever a layer is named (From, Add, Concat, Freeze), and the generated members, which cannot hold
/// dots, take '_' instead. Names that only differ there are refused (CNN0017, in LayerDiagnosticTests).
/// </summary>
public class DottedNameTests
{
    private const string Block = """
        using CnnGen;
        namespace Dotted;
        [Input(2, 6, 6)]
        [Conv(3, 4, Padding = 1, Name = "conv1")] [BatchNorm(Name = "bn1")] [ReLU(Name = "relu")]
        [Conv(3, 4, Padding = 1, Name = "layer1.0.conv1")] [BatchNorm(Name = "layer1.0.bn1")] [ReLU]
        [Conv(3, 4, Padding = 1, Name = "layer1.0.conv2")] [BatchNorm(Name = "layer1.0.bn2")]
        [Add("relu")] [ReLU] [GlobalAvgPool] [Dense(3, Name = "fc")]
        public partial class Net { }
        """;

    private static INetwork Create(int seed) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(AssertCompilesCleanly(Block), "Dotted.Net"), seed)!;

    [Fact]
    public void TensorsCarryTheModulePath()
    {
        var network = Create(1);
        var names = network.Tensors.Select(t => t.Name).ToList();
        Assert.Contains("layer1.0.conv1.weight", names);
        Assert.Contains("layer1.0.conv2.bias", names);
        Assert.Contains("layer1.0.bn1.weight", names);
        Assert.Contains("layer1.0.bn2.running_var", network.StateTensors.Select(t => t.Name));
        Assert.Contains("layer1.0.bn2.num_batches_tracked", network.StateTensors.Select(t => t.Name));
        Assert.Equal(4 * 4 * 9, network.Parameter("layer1.0.conv2.weight").Length);
        Assert.Equal(new[] { "conv1", "bn1", "relu", "layer1.0.conv1", "layer1.0.bn1", "relu2", "layer1.0.conv2", "layer1.0.bn2", "add1", "relu3", "pool1", "fc" },
            network.Layers.Select(l => l.Name));
    }

    [Fact]
    public void FreezeTakesTheModulePath()
    {
        var network = Create(2);
        network.Freeze("layer1.0.conv2");
        Assert.True(network.IsFrozen("layer1.0.conv2"));
        Assert.False(network.IsFrozen("layer1.0.conv1"));
        var inputs = Inputs(network, 2, 1);
        network.ComputeGradients(inputs, new[] { 0, 2 }, 2);
        var frozen = network.Tensors.Single(t => t.Name == "layer1.0.conv2.weight");
        Assert.All(network.Gradients.Slice(frozen.Offset, frozen.Length).ToArray(), g => Assert.Equal(0f, g));
        var trained = network.Tensors.Single(t => t.Name == "layer1.0.conv1.weight");
        Assert.Contains(network.Gradients.Slice(trained.Offset, trained.Length).ToArray(), g => g != 0f);
    }

    [Fact]
    public void FromAndJoinsTakeTheModulePath_AndInferenceEqualsTheUnfusedPass()
    {
        var run = AssertCompilesCleanly(Block.Replace("[Add(\"relu\")]", "[Conv(1, 4, From = \"relu\", Name = \"layer1.0.downsample.0\")] [Add(\"layer1.0.bn2\")]"));
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "Dotted.Net"), 3)!;
        Assert.Contains("layer1.0.downsample.0.weight", network.Tensors.Select(t => t.Name));
        Assert.Equal("layer1.0.bn2", network.Layers.Single(l => l.Kind == "Add").Source);
        Perturb(network, 4);
        var inputs = Inputs(network, 2, 5);
        var outputs = new float[2 * 3];
        network.Forward(inputs, outputs, 2);
        for (int b = 0; b < 2; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < 3; k++) Assert.Equal(unfused[^1][k], outputs[b * 3 + k], 4);
        }
    }
}
