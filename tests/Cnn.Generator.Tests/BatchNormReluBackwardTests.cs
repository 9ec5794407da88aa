using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A BatchNorm that applies the ReLU after it as it stores in a gradient pass also does that ReLU's backward
/// (<c>FuseBatchNormReluBackwards</c>): it masks the ReLU's output gradient in place, a channel's row at a time, as it
/// takes its gradient sums (<c>MaskAndAddGradientSums</c>); RunBackward does not call the ReLU's backward, and the
/// BatchNorm keeps no output gradient of its own. A max pool after the ReLU does the ReLU's backward instead, and a
/// BatchNorm that applies no ReLU keeps its passes. The code compiles cleanly in every case.
/// </summary>
public class BatchNormReluBackwardTests
{
    [Fact]
    public void TheBatchNormMasksTheRelusOutputGradientInPlace()
    {
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [Dense(3)]");
        Assert.Contains("// relu1's backward pass: bn1's applied it.", text, StringComparison.Ordinal);
        Assert.Contains("Backward_bn1(ws, ws._act_conv1, ws._act_bn1, ws._grad_relu1, active < 1 ? ws._grad_conv1 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("var dy = new global::System.Span<float>(ws._grad_relu1, 0, batch * 256);", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.BatchNorm.MaskAndAddGradientSums(dy, new global::System.ReadOnlySpan<float>(ws._act_relu1, 0, batch * 256), x, ws._mean_bn1, batch, channels: 4, spatial: 64, dsums);", text, StringComparison.Ordinal);
        Assert.Contains("// Nothing to do: bn1, the BatchNorm before this ReLU, applies its mask", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_bn1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Backward_relu1(ws", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AReluReadByTwoLayersHasItsBackwardDoneByTheBatchNorm()
    {
        // relu1 feeds a convolution and a shortcut's sum: its output gradient is their two shares, added before bn1's backward.
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [Dense(3)]");
        Assert.Contains("MaskAndAddGradientSums(dy, new global::System.ReadOnlySpan<float>(ws._act_relu1,", text, StringComparison.Ordinal);
        Assert.Contains("// relu1's backward pass: bn1's applied it.", text, StringComparison.Ordinal);
        int shares = text.IndexOf("ws._grad_relu1", text.IndexOf("private void RunBackward", StringComparison.Ordinal), StringComparison.Ordinal);
        int backward = text.IndexOf("Backward_bn1(ws,", StringComparison.Ordinal);
        Assert.True(shares >= 0 && shares < backward, "relu1's shares are added before bn1's backward reads them");
    }

    [Fact]
    public void AMaxPoolAfterTheReluDoesItsBackwardInstead()
    {
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [Dense(3)]");
        Assert.Contains("MaxPoolReluBackward(", text, StringComparison.Ordinal);
        Assert.Contains("// relu1's backward pass: pool1's applied it.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MaskAndAddGradientSums", text, StringComparison.Ordinal);
        Assert.Contains("Backward_bn1(ws, ws._act_conv1, ws._act_bn1, ws._grad_bn1,", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("LeakyReLU", "[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [LeakyReLU] [Dense(3)]")]
    [InlineData("no activation", "[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [Conv(3, 4, Padding = 1)] [Dense(3)]")]
    [InlineData("a shortcut reads the BatchNorm too", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Add(\"bn1\")] [Dense(3)]")]
    public void OtherwiseTheBatchNormKeepsItsOutputGradient(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("MaskAndAddGradientSums", text, StringComparison.Ordinal);
        Assert.Contains("public float[] _grad_bn1", text, StringComparison.Ordinal);
    }
}
