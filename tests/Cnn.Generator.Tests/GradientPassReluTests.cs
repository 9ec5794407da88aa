using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A BatchNorm or a shortcut's sum followed by a ReLU that alone reads it applies that ReLU as it stores in a gradient
/// pass (<c>FuseGradientPassRelus</c>): its forward method writes the ReLU's output, the ReLU's forward returns at once
/// in that pass, and the ReLU's backward takes its mask from its own output. Other activations, and a BatchNorm whose
/// output something else reads too, keep their passes. The code compiles cleanly either way.
/// </summary>
public class GradientPassReluTests
{
    private const string Applied = "// A gradient pass: relu1 is applied as the values are stored, into its output";

    [Fact]
    public void ABatchNormAppliesTheReluAfterIt()
    {
        string text = CleanNetworkSource("[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Dense(3)]");
        Assert.Contains(Applied, text, StringComparison.Ordinal);
        Assert.Contains("BatchNorm.Apply(x, ws._act_relu1, batch, channels: 4, spatial: 144, ws._scale_bn1, ws._shift_bn1, global::CnnGen.Kernels.FusedActivation.Relu);", text, StringComparison.Ordinal);
        Assert.Contains("if (ws.KeepForBackward && !ws.WritesEveryOutput) return; // in a gradient pass bn1 applied this ReLU as it stored its output", text, StringComparison.Ordinal);
        // Its backward pass is the BatchNorm's too (BatchNormReluBackwardTests).
        Assert.Contains("MaskAndAddGradientSums(dy, new global::System.ReadOnlySpan<float>(ws._act_relu1, 0, batch * 576)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ReluBackward(inp[..n]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ASumAppliesTheReluAfterItInEveryPass()
    {
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] [Dense(3)]");
        Assert.Contains("// A gradient pass: relu2 is applied as the sum is stored, into its output", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward || !ws.WritesEveryOutput) return; // add1 applied this ReLU as it stored its output, in inference and in a gradient pass", text, StringComparison.Ordinal);
        // relu2's backward is the sum's, taking its mask from relu2's output, which the sum wrote.
        Assert.Contains("global::CnnGen.Kernels.Activations.ReluBackward(new global::System.ReadOnlySpan<float>(ws._act_relu2, 0, batch * 128), masked, masked);", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("another activation", "[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [LeakyReLU] [Dense(3)]")]
    [InlineData("ReLU6", "[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU6] [Dense(3)]")]
    [InlineData("a shortcut reads the BatchNorm too", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Add(\"bn1\")] [Dense(3)]")]
    [InlineData("a layer between", "[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [Dropout(0.1f)] [ReLU] [Dense(3)]")]
    public void OtherwiseEachLayerKeepsItsPass(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("// A gradient pass:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("WritesEveryOutput", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MaskAndAddGradientSums", text, StringComparison.Ordinal);
    }
}
