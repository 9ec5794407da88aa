using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Inference of a depthwise convolution (Groups = channels = filters) runs the direct kernel, <c>DepthwiseConv</c>;
/// other grouped or dilated convolutions, and training, keep im2col. The direct kernel's outputs are bit for bit those
/// of an ordinary convolution whose weight is zero off the diagonal (its multiply-add chain adds exact zeros).
/// </summary>
public class DepthwiseInferenceTests
{
    private const string Marker = "// Inference: direct depthwise convolution";

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Depthwise;\n" + attributes + "\npublic partial class Net { }");

    private static INetwork Create(string attributes, int seed) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Compile(attributes), "Depthwise.Net"), seed)!;

    [Theory]
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Padding = 1, Groups = 6)]", true)]
    [InlineData("[Input(6, 9, 9)] [Conv(5, 6, Stride = 2, Padding = 2, Groups = 6, Bias = false)] [BatchNorm] [ReLU6]", true)]
    [InlineData("[Input(6, 9, 9)] [Conv(3, 12, Padding = 1, Groups = 6)]", false)] // two filters per channel
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Padding = 1, Groups = 3)]", false)]
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Padding = 2, Groups = 6, Dilation = 2)]", false)]
    public void OnlyDepthwiseConvolutionsWithoutDilationUseTheDirectKernel(string layers, bool direct)
    {
        string text = Compile(layers + " [Dense(3)]").Sources[0].SourceText.ToString();
        Assert.Equal(direct, text.Contains(Marker, StringComparison.Ordinal));
        Assert.Equal(direct, text.Contains("DepthwiseConv.Forward(", StringComparison.Ordinal) || text.Contains("Depthwise3x3.Forward(", StringComparison.Ordinal)
                             || text.Contains("Depthwise3x3Stride2.Forward(", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Padding = 1, Groups = 6)]", "Depthwise3x3", 1)]
    [InlineData("[Input(6, 7, 7)] [Conv(3, 6, Padding = 1, Groups = 6, Bias = false)] [BatchNorm] [ReLU6]", "Depthwise3x3", 1)]
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Stride = 2, Padding = 1, Groups = 6)]", "Depthwise3x3Stride2", 2)]
    [InlineData("[Input(6, 11, 13)] [Conv(3, 6, Stride = 2, Padding = 1, Groups = 6, Bias = false)] [BatchNorm] [ReLU6]", "Depthwise3x3Stride2", 2)]
    [InlineData("[Input(6, 10, 10)] [Conv(3, 6, Stride = 3, Padding = 1, Groups = 6)]", null, 3)]  // stride 3
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Stride = 2, Groups = 6)]", null, 2)]               // stride 2, no padding
    [InlineData("[Input(6, 9, 9)] [Conv(3, 6, Groups = 6)]", null, 1)]                           // no padding
    [InlineData("[Input(6, 9, 9)] [Conv(5, 6, Padding = 2, Groups = 6)]", null, 1)]              // 5x5
    [InlineData("[Input(6, 9, 9)] [Conv(5, 6, Stride = 2, Padding = 1, Groups = 6)]", null, 2)]  // 5x5, stride 2
    public void Only3x3Padding1OfStride1Or2ReadsTheInputInPlaceWithoutAPlane(string layers, string? kernel, int stride)
    {
        string text = Compile(layers + " [Dense(3)]").Sources[0].SourceText.ToString();
        bool inPlace = kernel is not null;
        Assert.Equal(kernel == "Depthwise3x3", text.Contains("Depthwise3x3.Forward(", StringComparison.Ordinal));
        Assert.Equal(kernel == "Depthwise3x3Stride2", text.Contains("Depthwise3x3Stride2.Forward(", StringComparison.Ordinal));
        Assert.Equal(inPlace, text.Contains($"// 3x3, stride {stride}, padding 1: the kernel that reads the input in place", StringComparison.Ordinal));
        Assert.Equal(!inPlace, text.Contains("DepthwiseConv.Forward(", StringComparison.Ordinal));
        // The padded plane is scratch only the general kernel uses.
        Assert.Equal(!inPlace, text.Contains("_dwpad_", StringComparison.Ordinal));
    }

    [Fact]
    public void AFollowingReluOrRelu6IsFusedIntoTheStore()
    {
        string text = Compile("[Input(6, 9, 9)] [Conv(3, 6, Padding = 1, Groups = 6)] [ReLU6] [Conv(3, 6, Padding = 1, Groups = 6, Bias = false)] [BatchNorm] [ReLU] [Dense(3)]")
            .Sources[0].SourceText.ToString();
        Assert.Contains(Marker + ", one filter per channel, with relu6_1 fused (written to its output)", text, StringComparison.Ordinal);
        Assert.Contains("activation: global::CnnGen.Kernels.FusedActivation.Relu6);", text, StringComparison.Ordinal);
        Assert.Contains(Marker + ", one filter per channel, with relu1 fused when the BatchNorm is folded in (written to its output)", text, StringComparison.Ordinal);
        Assert.Contains("activation: ws.Folded ? global::CnnGen.Kernels.FusedActivation.Relu : global::CnnGen.Kernels.FusedActivation.None);", text, StringComparison.Ordinal);
    }

    [Fact]
    public void FoldedAndFusedInferenceEqualsTheUnfusedPass()
    {
        // MobileNetV2's pattern: depthwise, BatchNorm (folded), ReLU6 (fused), with inputs large enough to reach 6.
        var network = Create("[Input(4, 9, 9)] [Conv(3, 4, Stride = 2, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [ReLU6]", 6);
        Perturb(network, 1);
        var inputs = Inputs(network, 2, 2);
        for (int i = 0; i < inputs.Length; i++) inputs[i] *= 8f;
        var outputs = new float[2 * network.OutputLength];
        network.Forward(inputs, outputs, 2);
        Assert.Contains(0f, outputs);
        Assert.Contains(6f, outputs);
        for (int b = 0; b < 2; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength))[^1];
            for (int k = 0; k < network.OutputLength; k++) Assert.Equal(unfused[k], outputs[b * network.OutputLength + k], 4);
        }
    }

    [Theory]
    [InlineData(3, 1, 1, 9, 13, "")]
    [InlineData(3, 1, 1, 7, 7, " [ReLU6]")]
    [InlineData(3, 1, 1, 6, 37, " [ReLU]")]
    [InlineData(3, 2, 1, 13, 11, "")]
    [InlineData(3, 2, 1, 15, 41, " [ReLU6]")]
    [InlineData(3, 2, 1, 7, 35, " [ReLU]")]
    [InlineData(3, 2, 1, 1, 1, "")]
    [InlineData(5, 2, 2, 17, 41, " [ReLU6]")]
    [InlineData(3, 1, 0, 7, 35, " [ReLU6]")]
    [InlineData(5, 1, 2, 6, 5, " [ReLU]")]
    [InlineData(3, 2, 0, 9, 11, " [ReLU]")]
    public void GivesTheBitsOfAnOrdinaryConvolutionWithDiagonalWeights(int kernel, int stride, int padding, int height, int width, string activation)
    {
        const int channels = 5, batch = 3;
        string Net(bool grouped) =>
            $"[Input({channels}, {height}, {width})] [Conv({kernel}, {channels}, Stride = {stride}, Padding = {padding}{(grouped ? $", Groups = {channels}" : "")})]{activation}";
        var depthwise = Create(Net(true), 3);
        var plain = Create(Net(false), 4);
        Perturb(depthwise, 2);
        int kk = kernel * kernel;
        var dw = depthwise.Parameter("conv1.weight");
        var pw = plain.Parameter("conv1.weight");
        pw.Clear();
        for (int f = 0; f < channels; f++)
            dw.Slice(f * kk, kk).CopyTo(pw.Slice((f * channels + f) * kk, kk));
        depthwise.Parameter("conv1.bias").CopyTo(plain.Parameter("conv1.bias"));

        var inputs = Inputs(depthwise, batch, 5);
        var direct = new float[batch * depthwise.OutputLength];
        var reference = new float[batch * plain.OutputLength];
        depthwise.Forward(inputs, direct, batch);
        plain.Forward(inputs, reference, batch);
        for (int i = 0; i < direct.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(reference[i]) == BitConverter.SingleToInt32Bits(direct[i]),
                $"output {i}: depthwise {direct[i]:R}, ordinary convolution {reference[i]:R}");
    }
}
