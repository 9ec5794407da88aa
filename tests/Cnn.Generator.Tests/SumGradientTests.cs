using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A shortcut's sum passes its output gradient to its main input unchanged, so a main input that only the sum reads
/// takes the sum's output gradient buffer as its own (<c>ShareSumInputGradients</c>): the sum's backward copies nothing
/// and the input keeps no gradient buffer. A sum that applies the ReLU after it as it stores in a gradient pass also does
/// that ReLU's backward, masking its output gradient in place (<c>FuseReluBackwardsIntoWriters</c>). A ReLU whose
/// backward a BatchNorm does in place keeps its own buffer, so the sum's gradient reaches the shortcut unmasked. The code
/// compiles cleanly in every case.
/// </summary>
public class SumGradientTests
{
    [Fact]
    public void TheSumsMainInputTakesItsOutputGradient()
    {
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [BatchNorm] [Add(\"relu1\")] [Dense(3)]");
        Assert.Contains("Backward_bn1(ws, ws._act_conv2, ws._act_bn1, ws._grad_add1, active < 3 ? ws._grad_conv2 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("// dx = dy: bn1's output gradient is this layer's buffer.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_bn1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("dy.CopyTo(dinp)", text, StringComparison.Ordinal);
        // The shortcut's share is read from the sum's buffer after bn1 and conv2 have run backward.
        int shortcut = text.IndexOf("new global::System.ReadOnlySpan<float>(ws._grad_add1, 0, batch * 128), new global::System.Span<float>(ws._grad_relu1, 0, batch * 128)); // + add1's output gradient, down the shortcut", StringComparison.Ordinal);
        Assert.True(shortcut > text.IndexOf("Backward_conv2(ws,", StringComparison.Ordinal), "the shortcut's share is added after the main path's backward");
    }

    [Fact]
    public void ASumAppliesTheRelusBackwardInPlace()
    {
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] [Dense(3)]");
        Assert.Contains("// relu2's backward pass: add1's applied it.", text, StringComparison.Ordinal);
        Assert.Contains("Backward_add1(ws, ws._act_conv2, ws._act_add1, ws._grad_relu2, active < 3 ? ws._grad_relu2 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("var masked = new global::System.Span<float>(ws._grad_relu2, 0, batch * 128);", text, StringComparison.Ordinal);
        Assert.Contains("Backward_conv2(ws, ws._act_relu1, ws._act_conv2, ws._grad_relu2, active < 2 ? ws._grad_relu1 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("// Nothing to do: add1, the sum before this ReLU, applies its mask", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_add1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_conv2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Backward_relu2(ws", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SumsInARowShareOneBuffer()
    {
        // add2's main input is add1, whose main input is conv2: all three gradients are relu2's, masked by add2.
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [Add(\"conv1\")] [ReLU] [Dense(3)]");
        Assert.Contains("Backward_add1(ws, ws._act_conv2, ws._act_add1, ws._grad_relu2, active < 3 ? ws._grad_relu2 : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("// dx = dy: add1's output gradient is this layer's buffer.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_add1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("_grad_add2", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ABlocksSumAddsTheNextShortcutsShareAsItMasks()
    {
        // relu2 (add1's) is read by conv3 and by add2's shortcut: add1 adds add2's output gradient as it masks relu2's.
        string text = CleanNetworkSource("[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] " +
                                         "[Conv(3, 2, Padding = 1)] [Add(\"relu2\")] [ReLU] [Dense(3)]");
        Assert.Contains("// + add2's output gradient, down the shortcut: add1 adds it as it does relu2's backward pass.", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.Activations.ReluBackwardAddingShare(new global::System.ReadOnlySpan<float>(ws._act_relu2, 0, batch * 128), masked, " +
                        "new global::System.ReadOnlySpan<float>(ws._grad_relu3, 0, batch * 128));", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// + add2's output gradient, down the shortcut\n", text.Replace("\r\n", "\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("new global::System.Span<float>(ws._grad_relu2, 0, batch * 128)); // + add2's", text, StringComparison.Ordinal);
        // add2 masks relu3's gradient alone (nothing else reads relu3), and relu1 keeps its separate share from add1.
        Assert.Contains("global::CnnGen.Kernels.Activations.ReluBackward(new global::System.ReadOnlySpan<float>(ws._act_relu3, 0, batch * 128), masked, masked);", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.Span<float>(ws._grad_relu1, 0, batch * 128)); // + add1's output gradient, down the shortcut", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a reader besides the next layer and the shortcut", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] " +
                "[Conv(3, 2, Padding = 1)] [Add(\"relu2\")] [Add(\"relu2\")] [ReLU] [Dense(3)]")]
    [InlineData("a shortcut read by a projection, not a sum", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] " +
                "[Conv(3, 2, Padding = 1)] [Conv(1, 2, From = \"relu2\")] [Add(\"conv3\")] [ReLU] [Dense(3)]")]
    [InlineData("a ReLU whose backward its BatchNorm does", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [ReLU] [Dense(3)]")]
    public void OtherwiseTheShareIsAddedOnItsOwn(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("ReluBackwardAddingShare", text, StringComparison.Ordinal);
        Assert.Contains("output gradient, down the shortcut", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a ReLU whose backward the BatchNorm before it does in place", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Add(\"conv1\")] [Dense(3)]", "relu1")]
    [InlineData("a main input another layer reads too", "[Input(2, 8, 8)] [Conv(3, 2, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [Add(\"conv2\")] [Dense(3)]", "conv2")]
    public void OtherwiseTheInputKeepsItsGradient(string what, string attributes, string input)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.Contains($"public float[] _grad_{input}", text, StringComparison.Ordinal);
        Assert.Contains("dy.CopyTo(dinp); // dx = dy", text, StringComparison.Ordinal);
    }
}
