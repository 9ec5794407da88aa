using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A 1x1 convolution whose only reader is a 2x2 stride-2 average pool (DenseNet's transitions) writes the pool's output
/// in inference by averaging its input first and multiplying a quarter of the positions (<c>PoolInputsFirst</c>); the
/// pool's forward then returns at once in inference, and training runs both layers as declared. The function is the
/// same within rounding: inference's outputs agree with those of the layers one after the other (<c>Activations</c>,
/// which runs every layer). Other kernels, windows, a ReLU between or a second reader keep both layers.
/// </summary>
public class AveragePoolFirstTests
{
    private const string Transition = "[Input(16, 8, 6)] [Conv(1, 16)] [Tanh] [Conv(1, 8)] [AvgPool(2)] [Dense(3)]";

    [Fact]
    public void TheConvolutionAveragesItsInputThenMultipliesAQuarterOfThePositions()
    {
        string text = CleanNetworkSource(Transition);
        Assert.Contains("global::CnnGen.Kernels.AveragePool2x2.Forward(inp, averaged, planes: batch * 16, height: 8, width: 6, outHeight: 4, outWidth: 3);", text, StringComparison.Ordinal);
        Assert.Contains("var pooled = new global::System.Span<float>(ws._act_pool1);", text, StringComparison.Ordinal);
        Assert.Contains("pooled.Slice(b * 96, 96), bias, m: 8, n: 12, k: 16);", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward) return; // in inference conv2 wrote this output, averaging its own input first", text, StringComparison.Ordinal);
    }

    [Fact]
    public void InferenceAgreesWithTheLayersOneAfterTheOther()
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace PoolFirst;\n[Input(16, 8, 6)] [Conv(1, 24, Name = \"expand\")] [BatchNorm] [ReLU] " +
                                        "[Conv(1, 8, Name = \"transition\")] [AvgPool(2, Name = \"pool\")] [Dense(3)]\npublic partial class Net { }");
        Assert.Contains("averaging its own input first", run.Sources[0].SourceText.ToString(), StringComparison.Ordinal);
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "PoolFirst.Net"), 3)!;
        var random = new Random(5);
        var input = new float[network.InputLength];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        var logits = new float[network.OutputLength];
        network.Forward(input, logits, 1);
        var everyLayer = network.Activations(input)[^1]; // the logits with every layer run as declared
        float scale = everyLayer.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < logits.Length; i++)
            Assert.True(Math.Abs(logits[i] - everyLayer[i]) <= 1e-5f * scale, $"logit {i}: {logits[i]} against {everyLayer[i]} with every layer run");
    }

    [Theory]
    [InlineData("a 3x3 kernel", "[Input(16, 8, 8)] [Conv(3, 8, Padding = 1)] [AvgPool(2)] [Dense(3)]")]
    [InlineData("a 3x3 window", "[Input(16, 9, 9)] [Conv(1, 8)] [AvgPool(3)] [Dense(3)]")]
    [InlineData("a ReLU between", "[Input(16, 8, 8)] [Conv(1, 8)] [ReLU] [AvgPool(2)] [Dense(3)]")]
    [InlineData("a max pool", "[Input(16, 8, 8)] [Conv(1, 8)] [MaxPool(2)] [Dense(3)]")]
    [InlineData("padding", "[Input(16, 8, 8)] [Conv(1, 8)] [AvgPool(2, Padding = 1)] [Dense(3)]")]
    [InlineData("a BatchNorm folded in", "[Input(16, 8, 8)] [Conv(1, 8)] [BatchNorm] [AvgPool(2)] [Dense(3)]")]
    [InlineData("another reader", "[Input(16, 8, 8)] [Conv(1, 8, Name = \"c\")] [AvgPool(2)] [Conv(2, 8, Stride = 2, From = \"c\")] [Add(\"pool1\")] [Dense(3)]")]
    public void OtherwiseBothLayersRun(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("averaging its own input first", text, StringComparison.Ordinal);
        Assert.DoesNotContain("AveragePool2x2.Forward(inp, averaged", text, StringComparison.Ordinal);
    }
}
