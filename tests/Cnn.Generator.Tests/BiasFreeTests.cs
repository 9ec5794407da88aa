using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>Bias = false</c> on Conv and Dense (torchvision's convolutions before a BatchNorm have none): the bias tensor is
/// absent from Tensors and the parameter count, nothing is learned for it, folding a BatchNorm still gives the convolution
/// a bias, and the gradients are the loss's.
/// </summary>
public class BiasFreeTests
{
    private static GeneratorRun Run(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace NoBias;\n" + attributes + "\npublic partial class Net { }");

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Run(attributes), "NoBias.Net"), seed)!;

    private const string ConvNormRelu = "[Input(2, 6, 6)] [Conv(3, 4, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [Dense(3, Bias = false)]";

    [Fact]
    public void TheBiasTensorIsAbsent_AndNotCounted()
    {
        var network = Create(ConvNormRelu);
        var names = network.Tensors.Select(t => t.Name).ToList();
        Assert.Equal(new[] { "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias", "dense1.weight" }, names);
        // 4 x 2 x 9 + 8 + 4 x 4 x 9 + 8 + 3 x 144.
        Assert.Equal(72 + 8 + 144 + 8 + 432, network.ParameterCount);
        Assert.Equal(72L, network.Layers.Single(l => l.Name == "conv1").Parameters);
        Assert.Equal(432L, network.Layers.Single(l => l.Name == "dense1").Parameters);
        // The tensors tile the parameter buffer.
        Assert.Equal(network.ParameterCount, network.Tensors.Sum(t => t.Length));
        Assert.Throws<ArgumentException>(() => network.Parameter("conv1.bias").Length);
    }

    [Fact]
    public void ATorchvisionBasicBlock_CountsAsTorchvision()
    {
        // torchvision resnet18's layer1.0 on 64 channels: two 3x3 convolutions without bias, each with a BatchNorm:
        // 2 x (64 x 64 x 9 + 2 x 64) = 73,984 parameters.
        var network = Create("""
            [Input(64, 8, 8)]
            [Conv(3, 64, Padding = 1, Bias = false, Name = "layer1.0.conv1")] [BatchNorm(Name = "layer1.0.bn1")] [ReLU(Name = "layer1.0.relu")]
            [Conv(3, 64, Padding = 1, Bias = false, Name = "layer1.0.conv2")] [BatchNorm(Name = "layer1.0.bn2")]
            """);
        Assert.Equal(73984, network.ParameterCount);
    }

    [Fact]
    public void TheFingerprintTellsABiasFreeLayerApart()
    {
        static string Fingerprint(GeneratorRun run) => LoadedNetwork.Constant<string>(LoadedNetwork.Load(run, "NoBias.Net"), "ArchitectureFingerprint");
        Assert.NotEqual(Fingerprint(Run("[Input(1, 4, 4)] [Conv(3, 2)] [Dense(3)]")), Fingerprint(Run("[Input(1, 4, 4)] [Conv(3, 2, Bias = false)] [Dense(3)]")));
    }

    [Fact]
    public void FoldedInferenceEqualsTheUnfusedPass()
    {
        var network = Create(ConvNormRelu, 3);
        Perturb(network, 7);
        var inputs = Inputs(network, 3, 2);
        var outputs = new float[3 * 3];
        network.Forward(inputs, outputs, 3);
        for (int b = 0; b < 3; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < 3; k++)
                Assert.True(Math.Abs(unfused[^1][k] - outputs[b * 3 + k]) <= 1e-5f * (1 + Math.Abs(unfused[^1][k])), $"image {b}, output {k}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool training) =>
        AssertGradientsMatchFiniteDifferences(Create("[Input(2, 5, 5)] [Conv(3, 3, Padding = 1, Bias = false)] [BatchNorm] [Tanh] [Conv(1, 3, Bias = false)] [Tanh] [Dense(4, Bias = false)] [Tanh] [Dense(3)] [Softmax]", 5), training);
}
