using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>Groups = g</c> on Conv (PyTorch's grouped convolution; depthwise when g is the channel count, as in MobileNetV2):
/// CNN0030 when g does not divide both channel counts, the weight's shape and the counts, outputs equal to an ordinary
/// convolution whose weight is zero outside the groups' blocks, and gradients against finite differences.
/// </summary>
public class GroupedConvTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Grouped;\n" + attributes + "\npublic partial class Net { }";

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(AssertCompilesCleanly(Source(attributes)), "Grouped.Net"), seed)!;

    [Theory]
    [InlineData("[[|Conv(3, 4, Groups = 2)|]]", "conv1 (layer 1): 2 groups must divide both the 3 input channels (the network input) and the 4 filters")]
    [InlineData("[ReLU] [[|Conv(3, 5, Groups = 3)|]]", "conv1 (layer 2): 3 groups must divide both the 3 input channels (output of relu1) and the 5 filters")]
    public void CNN0030_GroupsDoNotDivide(string layers, string message) =>
        Error("[Input(3, 8, 8)] " + layers + "\npublic partial class Net { }", "CNN0030", message);

    [Fact]
    public void CNN0007_NoGroups() =>
        Error("[Input(3, 8, 8)] [[|Conv(3, 3, Groups = 0)|]]\npublic partial class Net { }", "CNN0007", "conv1 (layer 1): group count must be positive, but is 0");

    [Fact]
    public void ADepthwiseConvolution_HasOneKernelPerChannel()
    {
        // MobileNetV2's depthwise 3x3 on 32 channels: weight [32, 1, 3, 3], no bias; 288 parameters, 288 x 64 MACs.
        var network = Create("[Input(32, 8, 8)] [Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 16, Bias = false)] [BatchNorm]");
        var weight = network.Tensors.Single(t => t.Name == "conv1.weight");
        Assert.Equal(new[] { 32, 1, 3, 3 }, weight.Shape);
        var conv1 = network.Layers.Single(l => l.Name == "conv1");
        Assert.Equal((288L, 288L * 64), (conv1.Parameters, conv1.Macs));
        Assert.Equal(288 + 64 + 512 + 32, network.ParameterCount);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 0)]
    [InlineData(2, 2)]
    public void EqualsAnOrdinaryConvolutionWithBlockDiagonalWeights(int groups, int padding)
    {
        string Net(int g) => $"[Input(4, 6, 6)] [Conv(3, 8, Stride = 1, Padding = {padding}{(g > 1 ? $", Groups = {g}" : "")})] [Tanh]";
        var grouped = Create(Net(groups), 3);
        var plain = Create(Net(1), 4);
        // The plain weight [8, 4, 3, 3]: filter f sees channel c when both are in the same group, with the grouped weight.
        var gw = grouped.Parameter("conv1.weight").ToArray();
        var pw = plain.Parameter("conv1.weight");
        pw.Clear();
        int perGroup = 4 / groups, filtersPerGroup = 8 / groups;
        for (int f = 0; f < 8; f++)
            for (int c = 0; c < perGroup; c++)
                for (int k = 0; k < 9; k++)
                    pw[(f * 4 + f / filtersPerGroup * perGroup + c) * 9 + k] = gw[(f * perGroup + c) * 9 + k];
        grouped.Parameter("conv1.bias").CopyTo(plain.Parameter("conv1.bias"));
        var inputs = Inputs(grouped, 3, 5);
        var a = new float[3 * grouped.OutputLength];
        var b = new float[3 * plain.OutputLength];
        grouped.Forward(inputs, a, 3);
        plain.Forward(inputs, b, 3);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool training) =>
        AssertGradientsMatchFiniteDifferences(Create(
            "[Input(4, 5, 5)] [Conv(3, 4, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [Tanh] [Conv(3, 6, Stride = 2, Padding = 1, Groups = 2)] [Tanh] [Conv(1, 4, Groups = 2)] [Dense(3)] [Softmax]", 2), training);

    [Fact]
    public void FoldedInferenceEqualsTheUnfusedPass()
    {
        var network = Create("[Input(4, 6, 6)] [Conv(3, 8, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 4)] [GlobalAvgPool] [Dense(3)]", 6);
        Perturb(network, 1);
        var inputs = Inputs(network, 2, 2);
        var outputs = new float[2 * 3];
        network.Forward(inputs, outputs, 2);
        for (int b = 0; b < 2; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < 3; k++) Assert.Equal(unfused[^1][k], outputs[b * 3 + k], 4);
        }
    }
}
