using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>Dilation = d</c> on Conv (PyTorch's dilation): a k x k kernel whose taps are d pixels apart spans d*(k-1)+1
/// pixels. CNN0007 for d below 1 and CNN0010 for a span larger than the padded input, on the attribute; output sizes,
/// receptive fields and LayerInfo; outputs equal to an ordinary convolution with the zero-stuffed kernel; gradients
/// against finite differences (plain and grouped).
/// </summary>
public class DilationTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Dilated;\n" + attributes + "\npublic partial class Net { }";

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(AssertCompilesCleanly(Source(attributes)), "Dilated.Net"), seed)!;

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void CNN0007_DilationBelowOne(int dilation) =>
        Error($"[Input(3, 8, 8)] [[|Conv(3, 3, Dilation = {dilation})|]]\npublic partial class Net {{ }}", "CNN0007",
            $"conv1 (layer 1): dilation must be positive, but is {dilation}");

    [Fact]
    public void CNN0010_DilatedKernelLargerThanItsInput() =>
        Error("[Input(1, 8, 8)] [Conv(1, 2)] [[|Conv(3, 2, Padding = 0, Dilation = 4)|]]\npublic partial class Net { }", "CNN0010",
            "conv2 (layer 2): 3x3 kernel with dilation 4 (spanning 9x9) does not fit its 8x8 input (output of conv1)");

    [Fact]
    public void PaddedInputThatHoldsTheSpan_Compiles()
    {
        // Span 9 fits 8 + 2*1 = 10 (2x2 out), and 2 + 2*4 = 10 (2x2 out); padding 4 reaches the 3x3 kernel but not
        // the 9-pixel span, so no CNN0012 either.
        var network = Create("[Input(1, 8, 8)] [Conv(3, 2, Padding = 1, Dilation = 4)] [Conv(3, 2, Padding = 4, Dilation = 4)]");
        Assert.Equal((2, 2), (network.Layers[0].OutputHeight, network.Layers[0].OutputWidth));
        Assert.Equal((2, 2), (network.Layers[1].OutputHeight, network.Layers[1].OutputWidth));
    }

    [Fact]
    public void OutputSizeReceptiveFieldAndLayerInfo()
    {
        // 17x17: conv1 span 5 -> 13x13, RF 5; conv2 span 7, stride 2, padding 3 -> (13 + 6 - 7) / 2 + 1 = 7, RF 5 + 6 = 11,
        // effective stride 2, padding 3; conv3 3x3 -> 5x5, RF 11 + 2*2 = 15.
        var network = Create("[Input(1, 17, 17)] [Conv(3, 2, Dilation = 2)] [Conv(3, 4, Stride = 2, Padding = 3, Dilation = 3)] [Conv(3, 2)]");
        var layers = network.Layers;
        Assert.Equal((13, 5, 2), (layers[0].OutputHeight, layers[0].ReceptiveField, layers[0].Dilation));
        Assert.Equal((7, 11, 2, 3, 3), (layers[1].OutputHeight, layers[1].ReceptiveField, layers[1].EffectiveStride, layers[1].EffectivePadding, layers[1].Dilation));
        Assert.Equal((5, 15, 1), (layers[2].OutputHeight, layers[2].ReceptiveField, layers[2].Dilation));
        // Dilation adds no weights: [4, 2, 3, 3].
        Assert.Equal(new[] { 4, 2, 3, 3 }, network.Tensors.Single(t => t.Name == "conv2.weight").Shape);
    }

    [Theory]
    [InlineData(2, 1, 2, 1)]
    [InlineData(3, 2, 3, 1)]
    [InlineData(2, 1, 0, 2)]
    public void EqualsAnOrdinaryConvolutionWithTheZeroStuffedKernel(int dilation, int stride, int padding, int groups)
    {
        int span = dilation * 2 + 1;
        var dilated = Create($"[Input(4, 11, 11)] [Conv(3, 4, Stride = {stride}, Padding = {padding}, Groups = {groups}, Dilation = {dilation})] [Tanh]", 3);
        var plain = Create($"[Input(4, 11, 11)] [Conv({span}, 4, Stride = {stride}, Padding = {padding}, Groups = {groups})] [Tanh]", 4);
        var dw = dilated.Parameter("conv1.weight").ToArray();
        var pw = plain.Parameter("conv1.weight");
        pw.Clear();
        int kernels = dw.Length / 9;
        for (int f = 0; f < kernels; f++)
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    pw[(f * span + ky * dilation) * span + kx * dilation] = dw[(f * 3 + ky) * 3 + kx];
        dilated.Parameter("conv1.bias").CopyTo(plain.Parameter("conv1.bias"));
        var inputs = Inputs(dilated, 3, 5);
        var a = new float[3 * dilated.OutputLength];
        var b = new float[3 * plain.OutputLength];
        Assert.Equal(a.Length, b.Length);
        dilated.Forward(inputs, a, 3);
        plain.Forward(inputs, b, 3);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool training) =>
        AssertGradientsMatchFiniteDifferences(Create(
            "[Input(2, 9, 9)] [Conv(3, 4, Padding = 2, Dilation = 2, Bias = false)] [BatchNorm] [Tanh] " +
            "[Conv(3, 4, Stride = 2, Padding = 1, Groups = 2, Dilation = 3)] [Tanh] [Conv(2, 3, Dilation = 2)] [Dense(3)] [Softmax]", 2), training);
}
