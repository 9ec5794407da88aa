using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A stem (a stride-2 convolution of few channels that runs the direct stride-2 kernel, BatchNorm folded, ReLU or ReLU6
/// fused) computes the 3x3 depthwise convolution after it (its BatchNorm folded, its ReLU6 fused) and the plain 1x1
/// projection after that (BatchNorm folded) a band of rows at a time (<c>StemDepthwise</c>), in evaluation and where the
/// machine runs the kernel; those layers' methods then do nothing. Other layer orders and shapes are left as they were.
/// The fused pass gives the bits of the layers one after the other on any thread count, split or not.
/// </summary>
public class StemFusionTests
{
    // MobileNetV2's stem and features.1 on a 199x199 image (the stride-2 kernel's columns over 1 MiB): 3 -> 32 channels at 100x100, 32 -> 16.
    private const string Stem = "[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] ";
    private const string Depthwise = "[Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] ";
    private const string Fused = Stem + Depthwise + "[Conv(1, 16, Bias = false)] [BatchNorm] [Conv(1, 8)] [Dense(5)]";

    private static readonly Lazy<GeneratorRun> FusedRun = new(() => Compile(Fused));

    private static GeneratorRun Compile(string attributes) =>
        GeneratedCode.AssertCompilesCleanly("using CnnGen;\nnamespace Stem;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(GeneratorRun run) => run.Sources.Single().SourceText.ToString();

    [Fact]
    public void AStemComputesTheDepthwiseConvolutionAndTheProjectionAfterIt()
    {
        string code = Code(FusedRun.Value);
        const string check = "if (ws.Folded && global::CnnGen.Kernels.StemDepthwise.ChannelLast(32, 3, 1))";
        // The stem's fused branch, then the depthwise layer's and the projection's methods return at once.
        Assert.Contains(check + "\n", code, StringComparison.Ordinal);
        Assert.Equal(2, code.Split(check + " return; // conv1 computes this layer too, a band of rows at a time, from the rows before it in cache").Length - 1);
        Assert.Contains("// conv2 (with bn2 folded in and relu6_2 applied as it stores) computed here too, 16 of its output rows at a time: the 18 rows of this " +
                        "layer's output (with relu6_1 applied) that a band reads go straight into channel-last rows in cache (225 KiB), computed once, and never to " +
                        "memory; then conv3 (with bn3 folded in) on each band's outputs, which are not stored either; the same bits as the three layers one after the other.",
                        code, StringComparison.Ordinal);
        Assert.Contains("var projectionOutput = new global::System.Span<float>(ws._act_bn3);", code, StringComparison.Ordinal);
        const string shape = "inChannels: 3, inHeight: 199, inWidth: 199, stemKernel: 3, stemStride: 2, stemPadding: 1, channels: 32, height: 100, width: 100, " +
                             "stride: 1, padding: 1, outHeight: 100, outWidth: 100, projectChannels: 16, bandRows: 16";
        Assert.Contains("StemDepthwise.ForwardProjected(inp.Slice(b * 118803, 118803), weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, depthwiseWeight, " +
                        "depthwiseBias, global::CnnGen.Kernels.FusedActivation.Relu6, projectionWeight, projectionBias, global::CnnGen.Kernels.FusedActivation.None, " +
                        "projectionOutput.Slice(b * 160000, 160000), " + shape + ");", code, StringComparison.Ordinal);
        // Split over threads: ranges of the 100 output rows.
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardStemRows_conv1 ??= ForwardStemRows_conv1, ws, inp, projectionOutput, weight, bias, batch, units: 100, block: 1);",
            code, StringComparison.Ordinal);
        Assert.Contains("StemDepthwise.ForwardRowsProjected(inp.Slice(b * 118803, 118803), weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, " +
                        "depthwiseWeight, depthwiseBias, global::CnnGen.Kernels.FusedActivation.Relu6, projectionWeight, projectionBias, " +
                        "global::CnnGen.Kernels.FusedActivation.None, outp.Slice(b * 160000, 160000), " + shape + ", firstRow: start, endRow: end);", code, StringComparison.Ordinal);
        // Elsewhere the layers run as before: the stem's own stride-2 kernel follows the fused branch.
        Assert.True(code.IndexOf(check + "\n", StringComparison.Ordinal) < code.IndexOf("StrideTwoConv.Forward(x, weight, bias, y, col", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutAPlainProjectionAfterItTheStemComputesTheDepthwiseConvolutionAlone()
    {
        string code = Code(Compile(Stem + Depthwise + "[Conv(1, 16)] [ReLU] [Dense(5)]")); // no BatchNorm to fold after the 1x1
        Assert.Contains("var depthwiseOutput = new global::System.Span<float>(ws._act_relu6_2);", code, StringComparison.Ordinal);
        Assert.Contains("StemDepthwise.Forward(inp.Slice(b * 118803, 118803), weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, depthwiseWeight, " +
                        "depthwiseBias, global::CnnGen.Kernels.FusedActivation.Relu6, depthwiseOutput.Slice(b * 320000, 320000), inChannels: 3", code, StringComparison.Ordinal);
        Assert.Single(code.Split("computes this layer too").Skip(1));
        Assert.DoesNotContain("ForwardProjected", code, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Conv(1, 16, Bias = false)] [BatchNorm] [ReLU] [Dense(5)]")]           // an activation after the projection
    [InlineData("[Conv(1, 32, Bias = false)] [BatchNorm] [Add(\"relu6_2\")] [Dense(5)]")] // its output is a shortcut's
    [InlineData("[Conv(3, 16, Padding = 1, Bias = false)] [BatchNorm] [Dense(5)]")]      // not 1x1
    public void OtherLayersAfterTheDepthwiseConvolutionAreNotProjected(string after)
    {
        string code = Code(Compile(Stem + Depthwise + after));
        Assert.Contains("StemDepthwise.Forward(", code, StringComparison.Ordinal);
        Assert.DoesNotContain("Projected", code, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(3, 199, 199)] [Conv(3, 24, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 24, Padding = 1, Groups = 24, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // 24 channels
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(5, 32, Padding = 2, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // 5x5
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 32, Padding = 1, Groups = 32)] [ReLU6] [Dense(5)]")] // no BatchNorm after the depthwise one
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1)] [ReLU6] [Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // no BatchNorm after the stem
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Dropout(0.2f)] [Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // not right after
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 32, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // not depthwise
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Dense(5)]")] // a stride-1 stem
    [InlineData("[Input(3, 199, 199)] [Conv(3, 32, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 32, Padding = 1, Groups = 32, Bias = false)] [BatchNorm] [ReLU6] [Concat(\"relu6_1\")] [Dense(5)]")] // the stem's output read again
    public void OtherLayersAreNotFused(string attributes)
    {
        string code = Code(Compile(attributes));
        Assert.DoesNotContain("StemDepthwise", code, StringComparison.Ordinal);
        Assert.DoesNotContain("computes this layer too", code, StringComparison.Ordinal);
    }

    /// <summary>The folded pass gives the same bits on 1, 2 and 3 threads, split or not (3 threads: ranges of the 100 rows
    /// that start inside a band), and agrees with the unfolded, unfused layers (<c>Activations</c>) within float rounding of
    /// the folds, with relu6_1 saturating at both ends.</summary>
    [Fact]
    public void TheFusedPassGivesTheBitsOfTheLayers_OnAnyThreads_AndAgreesWithTheUnfoldedPass()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(FusedRun.Value, "Stem.Net"), 3)!;
        Perturb(network, 6);
        foreach (ref float w in network.Parameter("conv1.weight")) w *= 6f; // so that relu6_1 saturates
        FusedPasses.AssertGivesTheBitsOnAnyThreads(network, Inputs(network, 3, 9), 3, saturated: "relu6_1");
    }
}
