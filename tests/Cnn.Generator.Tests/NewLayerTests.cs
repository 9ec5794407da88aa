using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// [ReLU6] (MobileNetV2) and [GlobalAvgPool] (AdaptiveAvgPool2d(1), the head of ResNet, GoogLeNet, DenseNet, MobileNetV2):
/// shapes and compile-time facts, forward values, gradients against finite differences (and, for ReLU6, the zero gradient
/// outside (0, 6)), and the global pool refused after a dense layer (CNN0015).
/// </summary>
public class NewLayerTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Layers;\n" + attributes + "\npublic partial class Net { }";

    private const string TypeName = "Layers.Net";

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(AssertCompilesCleanly(Source(attributes)), TypeName), seed)!;

    [Fact]
    public void GlobalAvgPool_AveragesEachChannel_AndSeesTheWholeMap()
    {
        var network = Create("[Input(2, 5, 4)] [Conv(3, 3, Padding = 1, Stride = 1)] [GlobalAvgPool] [Dense(2)]");
        var pool = network.Layers.Single(l => l.Kind == "GlobalAvgPool");
        Assert.Equal(("pool1", 3, 1, 1, 0L, 0L), (pool.Name, pool.OutputChannels, pool.OutputHeight, pool.OutputWidth, pool.Parameters, pool.Macs));
        // conv1: RF 3; the whole 5x4 map after it: 3 + 4 high, 3 + 3 wide.
        Assert.Equal((7, 6, 1, 1), (pool.ReceptiveField, pool.ReceptiveFieldWidth, pool.EffectiveStride, pool.EffectivePadding));
        Assert.Equal(2 * 3 + 2, network.Layers.Single(l => l.Name == "dense1").Parameters);
        var input = Inputs(network, 1, 3);
        var outputs = network.Activations(input);
        for (int c = 0; c < 3; c++)
            Assert.Equal(outputs[0].Skip(c * 20).Take(20).Sum() / 20f, outputs[1][c], 5);
    }

    [Fact]
    public void GlobalAvgPool_AfterADenseLayer_IsCNN0015() =>
        Error("[Input(1, 4, 4)] [Dense(8)] [[|GlobalAvgPool|]]\npublic partial class Net { }", "CNN0015",
            "pool1 (layer 2): a global average pool needs a spatial input, but dense1 already flattened it to 8 values");

    [Fact]
    public void ReLU6_ClampsToZeroAndSix()
    {
        var network = Create("[Input(1, 2, 3)] [ReLU6]");
        Assert.Equal("relu6_1", network.Layers[0].Name);
        var input = new[] { -3f, 0f, 2.5f, 6f, 7.25f, float.NaN };
        var output = new float[6];
        network.Forward(input, output, 1);
        Assert.Equal(new[] { 0f, 0f, 2.5f, 6f, 6f }, output.Take(5));
        Assert.True(float.IsNaN(output[5]));
    }

    [Fact]
    public void ReLU6_PassesTheGradientOnlyBetweenZeroAndSix()
    {
        // dense1's bias gradient is the gradient at relu6's input: zero where dense1's output is below 0 or above 6.
        var network = Create("[Input(1, 1, 3)] [Dense(3)] [ReLU6] [Dense(2)] [Softmax]");
        network.Parameter("dense1.weight").Clear();
        var bias = network.Parameter("dense1.bias");
        bias[0] = -1f; bias[1] = 3f; bias[2] = 8f;
        network.ComputeGradients(new[] { 0.5f, -0.5f, 0.25f }, new[] { 1 }, 1);
        var gradients = network.Gradients.Slice(network.Tensors.Single(t => t.Name == "dense1.bias").Offset, 3).ToArray();
        Assert.Equal(0f, gradients[0]);
        Assert.NotEqual(0f, gradients[1]);
        Assert.Equal(0f, gradients[2]);
        // In the linear part the gradient is the loss's.
        int index = network.Tensors.Single(t => t.Name == "dense1.bias").Offset + 1;
        double central = CentralDifference(network, new[] { 0.5f, -0.5f, 0.25f }, new[] { 1 }, index);
        Assert.True(Math.Abs(central - gradients[1]) <= 1e-2 * Math.Abs(central) + 1e-4, $"analytic {gradients[1]}, central {central}");
    }

    [Fact]
    public void GlobalAvgPool_GradientsMatchFiniteDifferences() =>
        AssertGradientsMatchFiniteDifferences(Create("[Input(2, 5, 5)] [Conv(3, 3, Padding = 1)] [Tanh] [Conv(3, 4, Padding = 1)] [GlobalAvgPool] [Dense(3)] [Softmax]", 4), training: false);

    [Fact]
    public void MobileNetStyleHead_Compiles_AndInferenceEqualsTheUnfusedPass()
    {
        var network = Create("[Input(3, 9, 9)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU6] [Conv(1, 6)] [BatchNorm] [ReLU6] [GlobalAvgPool] [Dense(4)]", 2);
        Perturb(network, 5);
        var inputs = Inputs(network, 3, 2);
        var outputs = new float[3 * 4];
        network.Forward(inputs, outputs, 3);
        for (int b = 0; b < 3; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < 4; k++) Assert.Equal(unfused[^1][k], outputs[b * 4 + k], 4);
        }
    }
}
