using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// An inverted residual block's 1x1 expansion (BatchNorm folded, ReLU or ReLU6 fused) whose expanded tensor is larger
/// than the caches hold is computed by the depthwise convolution after it, a band of output rows at a time
/// (<c>ExpandDepthwise</c>), in evaluation; a pass that splits one image over threads gives each thread a range of the
/// output rows to expand and convolve. The expansion's method then does nothing. Smaller expansions, other layer orders
/// and other convolutions are left as they were. The fused pass gives the bits of the two layers on any thread count,
/// split or not.
/// </summary>
public class ExpansionFusionTests
{
    // 16 -> 96 channels at 105x105: 1,058,400 expanded values per image, over the 1,048,576 that fuse; bands of 8 output
    // rows (the 17 input rows they read, 171,360 expanded values, within the 196,608 of a band).
    private const string Block = "[Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 96, Stride = 2, Padding = 1, Groups = 96, Bias = false)] [BatchNorm] [ReLU6]";
    private const string Fused = "[Input(16, 105, 105)] [Conv(1, 16)] " + Block + " [Conv(1, 8)] [Dense(5)]";

    private static readonly Lazy<GeneratorRun> FusedRun = new(() => Compile(Fused));

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Expand;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(GeneratorRun run) => run.Sources.Single().SourceText.ToString();

    [Fact]
    public void ALargeExpansionBeforeADepthwiseConvolutionIsComputedByIt()
    {
        string code = Code(FusedRun.Value);
        Assert.Contains("if (ws.Folded) return; // conv3 computes this expansion, a band of rows at a time, as it needs it", code, StringComparison.Ordinal);
        Assert.Contains("// conv2 (with bn1 folded in and relu6_1 applied as it stores) computed here from its input, for 8 output rows at a time (the 17 input rows they read, 669 KiB expanded)", code, StringComparison.Ordinal);
        Assert.Contains("ExpandDepthwise.Forward(new global::System.ReadOnlySpan<float>(ws._act_conv1, b * 176400, 176400), expandWeight, expandBias, " +
                        "global::CnnGen.Kernels.FusedActivation.Relu6, weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, target.Slice(b * 269664, 269664), ws._expand_conv3", code, StringComparison.Ordinal);
        Assert.Contains("inChannels: 16, channels: 96, height: 105, width: 105, kernel: 3, stride: 2, padding: 1, outHeight: 53, outWidth: 53, bandRows: 8);", code, StringComparison.Ordinal);
        // One band of one image, whatever the batch: 17 rows of the 16 input and 96 expanded channels, and the depthwise
        // kernel's plane of 17 rows in 2 phases of 65 values (four 16-value chunks of output and the kernel's overlap).
        Assert.Contains("Grow(ref _expand_conv3, 202130L, batch);", code, StringComparison.Ordinal);
        // Split over threads: ranges of the 53 output rows, each thread's bands in its own scratch.
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardExpandedRows_conv3 ??= ForwardExpandedRows_conv3, ws, inp, target, weight, bias, batch, units: 53, block: 1);", code, StringComparison.Ordinal);
        Assert.Contains("ExpandDepthwise.ForwardRows(new global::System.ReadOnlySpan<float>(ws._act_conv1, b * 176400, 176400), expandWeight, expandBias, " +
                        "global::CnnGen.Kernels.FusedActivation.Relu6, weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, outp.Slice(b * 269664, 269664), " +
                        "inChannels: 16, channels: 96, height: 105, width: 105, kernel: 3, stride: 2, padding: 1, outHeight: 53, outWidth: 53, bandRows: 8, firstRow: start, endRow: end);", code, StringComparison.Ordinal);
        // The split comes before the whole image's loop, inside the fused branch.
        int fused = code.IndexOf("computed here from its input", StringComparison.Ordinal), split = code.IndexOf("ForwardExpandedRows_conv3 ??=", StringComparison.Ordinal),
            whole = code.IndexOf("ExpandDepthwise.Forward(", StringComparison.Ordinal);
        Assert.True(fused >= 0 && fused < split && split < whole, $"fused branch at {fused}, split at {split}, whole image at {whole}");
    }

    [Theory]
    [InlineData("[Input(16, 27, 27)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 192, Stride = 2, Padding = 1, Groups = 192)] [Dense(5)]")] // 139,968 values, 27 wide
    [InlineData("[Input(16, 41, 41)] [Conv(1, 16)] [Conv(1, 100, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 100, Stride = 2, Padding = 1, Groups = 100)] [Dense(5)]")] // 100 channels
    [InlineData("[Input(16, 41, 41)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(5, 192, Padding = 2, Groups = 192)] [Dense(5)]")] // 5x5
    [InlineData("[Input(16, 105, 105)] [Conv(1, 16)] [Conv(1, 96)] [ReLU6] [Conv(3, 96, Padding = 1, Groups = 96)] [Dense(5)]")]               // no BatchNorm to fold
    [InlineData("[Input(16, 105, 105)] [Conv(1, 16)] [Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] [Dropout(0.2f)] [Conv(3, 96, Padding = 1, Groups = 96)] [Dense(5)]")] // not right after
    [InlineData("[Input(16, 105, 105)] [Conv(1, 16)] [Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 8, Padding = 1)] [Dense(5)]")]      // not depthwise
    [InlineData("[Input(16, 105, 105)] [Conv(1, 16)] [Conv(3, 96, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 96, Padding = 1, Groups = 96)] [Dense(5)]")] // not 1x1
    [InlineData("[Input(16, 105, 105)] [Conv(1, 96, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 96, Padding = 1, Groups = 96)] [Dense(5)]")]   // reads the network's input
    public void OtherLayersAreNotFused(string attributes)
    {
        string code = Code(Compile(attributes));
        Assert.DoesNotContain("ExpandDepthwise", code, StringComparison.Ordinal);
        Assert.DoesNotContain("computes this expansion", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_expand_", code, StringComparison.Ordinal);
    }

    // 16 -> 192 channels at 41x41 (322,752 expanded values): fused only where the machine expands channel-last.
    private const string ChannelLastOnly = "[Input(16, 41, 41)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] " +
                                           "[Conv(3, 192, Stride = 2, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(1, 8)] [Dense(5)]";

    [Fact]
    public void ASmallerExpansionIsComputedByTheDepthwiseConvolutionOnlyWhereTheMachineExpandsChannelLast()
    {
        string code = Code(Compile(ChannelLastOnly));
        Assert.Contains("if (ws.Folded && global::CnnGen.Kernels.ExpandDepthwise.ChannelLast(192, 3, 2)) return; // conv3 computes this expansion", code, StringComparison.Ordinal);
        // The same check opens the depthwise layer's fused branch: twice in all.
        Assert.Equal(2, code.Split("ws.Folded && global::CnnGen.Kernels.ExpandDepthwise.ChannelLast(192, 3, 2)").Length - 1);
        // No scratch of its own: the channel-last path keeps a thread's.
        Assert.Contains("target.Slice(b * 84672, 84672), default, inChannels: 16, channels: 192, height: 41, width: 41, kernel: 3, stride: 2, padding: 1, " +
                        "outHeight: 21, outWidth: 21, bandRows: ", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_expand_", code, StringComparison.Ordinal);
        // Elsewhere the two layers run as before: the expansion's own product follows its check.
        Assert.Contains("m: 192, n: 1681, k: 16", code, StringComparison.Ordinal);
    }

    [Fact]
    public void ASmallerFusedBlockGivesTheBitsOfTheTwoLayers_OnAnyThreads_AndAgreesWithTheUnfoldedPass() =>
        AssertFusedPass(Compile(ChannelLastOnly), batch: 2, perturbSeed: 5, inputSeed: 8);

    // Splitting one image over threads: each thread expands and convolves its own rows (3 threads: six ranges of 8 or 9
    // of the 53 rows, bands that do not start where the whole image's do).
    [Fact]
    public void TheFusedPassGivesTheBitsOfTheTwoLayers_OnAnyThreads_AndAgreesWithTheUnfoldedPass() =>
        AssertFusedPass(FusedRun.Value, batch: 3, perturbSeed: 4, inputSeed: 7);

    /// <summary>The folded pass gives the same bits on 1, 2 and 3 threads, split or not, and agrees with the unfolded,
    /// unfused layers (<c>Activations</c>) within float rounding of the fold, with relu6_1 saturating at both ends.</summary>
    private static void AssertFusedPass(GeneratorRun run, int batch, int perturbSeed, int inputSeed)
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "Expand.Net"), 3)!;
        Perturb(network, perturbSeed);
        foreach (ref float w in network.Parameter("conv2.weight")) w *= 6f; // so that relu6_1 saturates
        FusedPasses.AssertGivesTheBitsOnAnyThreads(network, Inputs(network, batch, inputSeed), batch, saturated: "relu6_1");
    }
}
