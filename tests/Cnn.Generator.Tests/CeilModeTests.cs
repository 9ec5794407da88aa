using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>CeilMode = true</c> on MaxPool and AvgPool (PyTorch's ceil_mode, GoogLeNet's pools): output sizes rounded up with
/// PyTorch's rule that the last window starts inside the input or its left padding; the last windows are clipped, an
/// average divides by the window clipped to the padded input; no CNN0011 for the rows the rounding covers; gradients.
/// </summary>
public class CeilModeTests
{
    private static GeneratorRun Run(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Ceil;\n" + attributes + "\npublic partial class Net { }");

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Run(attributes), "Ceil.Net"), seed)!;

    [Theory]
    // GoogLeNet's maxpool1: 3x3 stride 2 on 112 gives 56 (55 without ceil mode, and CNN0011).
    [InlineData(112, 3, 2, 0, 56)]
    // 2x2 stride 2 padding 1 on 5: ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 >= 5 + 1: 3.
    [InlineData(5, 2, 2, 1, 3)]
    [InlineData(7, 3, 2, 1, 4)]
    [InlineData(6, 2, 2, 0, 3)]
    [InlineData(3, 2, 2, 0, 2)]
    public void OutputSizesFollowPyTorch(int size, int window, int stride, int padding, int expected)
    {
        foreach (var kind in new[] { "MaxPool", "AvgPool" })
        {
            var layers = LoadedNetwork.Layers(Run($"[Input(1, {size}, {size})] [{kind}({window}, Stride = {stride}, Padding = {padding}, CeilMode = true)]"), "Ceil.Net");
            Assert.Equal((expected, expected), (layers[0].OutputHeight, layers[0].OutputWidth));
        }
    }

    [Fact]
    public void TheLastWindowsAreClipped_AndAnAverageDividesByWhatTheyCover()
    {
        var input = Enumerable.Range(1, 9).Select(v => (float)v).ToArray(); // 3x3: 1 2 3 / 4 5 6 / 7 8 9
        var max = Create("[Input(1, 3, 3)] [MaxPool(2, CeilMode = true)]");
        var output = new float[4];
        max.Forward(input, output, 1);
        Assert.Equal(new[] { 5f, 6f, 8f, 9f }, output);
        var average = Create("[Input(1, 3, 3)] [AvgPool(2, CeilMode = true)]");
        average.Forward(input, output, 1);
        Assert.Equal(new[] { 3f, 4.5f, 7.5f, 9f }, output);
        // With padding the padded zeros count (count_include_pad), but not the part of a window past the padded input:
        // 2x2 stride 2 padding 1 on 3x3 gives 2x2 windows [-1, 1) and [1, 3), each covering 4 padded positions.
        var padded = Create("[Input(1, 3, 3)] [AvgPool(2, Padding = 1, CeilMode = true)]");
        padded.Forward(input, output, 1);
        Assert.Equal(new[] { 1f / 4, (2f + 3f) / 4, (4f + 7f) / 4, (5f + 6f + 8f + 9f) / 4 }, output);
    }

    [Theory]
    [InlineData("[Input(1, 7, 7)] [Conv(3, 2, Padding = 1)] [Tanh] [AvgPool(3, Stride = 2, CeilMode = true)] [Conv(1, 2)] [Tanh] [AvgPool(2, Padding = 1, CeilMode = true)] [Dense(3)] [Softmax]")]
    [InlineData("[Input(1, 7, 7)] [Conv(3, 2, Padding = 1)] [Tanh] [MaxPool(2, CeilMode = true)] [Dense(3)] [Softmax]")]
    public void GradientsMatchFiniteDifferences(string attributes) =>
        AssertGradientsMatchFiniteDifferences(Create(attributes, 3), training: false);
}
