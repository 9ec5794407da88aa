using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Two training fusions around a ReLU. A convolution on the direct or Winograd training kernel applies the ReLU that alone
/// reads it as it stores in a gradient pass (<c>FuseTrainingConvolutionRelus</c>), as a BatchNorm or a sum does; other
/// convolutions (im2col's) keep the ReLU's pass. A max pool that alone reads a ReLU, which alone reads the layer before,
/// does the ReLU's backward pass as it routes the gradient (<c>FusePoolReluBackwards</c>): RunBackward does not call the
/// ReLU's, and keeps no output gradient for it.
/// </summary>
public class TrainingReluFusionTests
{
    [Fact]
    public void DirectAndWinogradConvolutionsApplyTheirRelusInAGradientPass()
    {
        string text = CleanNetworkSource("[Input(3, 16, 16)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [Dense(4)]");
        Assert.Contains("var stored = ws.WritesEveryOutput ? outp : new global::System.Span<float>(ws._act_relu1);", text, StringComparison.Ordinal);
        Assert.Contains("var stored = ws.WritesEveryOutput ? outp : new global::System.Span<float>(ws._act_relu2);", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Winograd3x3.Forward(inp.Slice(0, batch * 4096), batch, _winogradTraining_conv2, bias, stored.Slice(0, batch * 8192),", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward || !ws.WritesEveryOutput) return; // conv2 applied this ReLU as it stored its output, in inference and in a gradient pass", text, StringComparison.Ordinal);
        Assert.Contains("ReluBackward(outp[..n], dout[..n], dinp[..n]);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ReluBackward(inp[..n]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIm2ColConvolutionKeepsItsRelusPass()
    {
        // Stride 2: neither the direct nor the Winograd training kernel.
        string text = CleanNetworkSource("[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1)] [ReLU] [Dense(4)]");
        Assert.DoesNotContain("var stored", text, StringComparison.Ordinal);
        Assert.Contains("ReluBackward(inp[..n], dout[..n], dinp[..n]);", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AMaxPoolDoesTheBackwardOfTheReluBeforeIt()
    {
        string text = CleanNetworkSource("[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1)] [ReLU] [MaxPool(2)] [Dense(4)]");
        Assert.Contains("Backward_pool1(ws, ws._act_relu1, ws._act_pool1, ws._grad_pool1, active < 1 ? ws._grad_conv1 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("// relu1's backward pass: pool1's applied it.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Backward_relu1(ws,", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_relu1", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPoolReluBackward(dout, ws._argmax_pool1, outp, dinp, planes: batch * 8, planeIn: 64, planeOut: 16);", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("an average pool", "[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1)] [ReLU] [AvgPool(2)] [Dense(4)]")]
    [InlineData("another activation", "[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1)] [LeakyReLU] [MaxPool(2)] [Dense(4)]")]
    [InlineData("another layer reads the ReLU", "[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1)] [ReLU(Name = \"r\")] [MaxPool(2)] [Conv(2, 8, Stride = 2, From = \"r\")] [Add(\"pool1\")] [Dense(4)]")]
    [InlineData("another layer reads the convolution", "[Input(3, 16, 16)] [Conv(4, 8, Stride = 2, Padding = 1, Name = \"c\")] [ReLU] [MaxPool(2)] [Conv(2, 8, Stride = 2, From = \"c\")] [Add(\"pool1\")] [Dense(4)]")]
    public void OtherwiseThePoolRoutesAndTheReluMasks(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("MaxPoolReluBackward", text, StringComparison.Ordinal);
        Assert.DoesNotContain("backward pass: pool1's applied it", text, StringComparison.Ordinal);
    }
}
