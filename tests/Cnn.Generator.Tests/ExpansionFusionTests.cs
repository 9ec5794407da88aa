using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// An inverted residual block's 1x1 expansion (BatchNorm folded, ReLU or ReLU6 fused) whose expanded tensor is larger
/// than the caches hold is computed by the depthwise convolution after it, a block of channels at a time
/// (<c>ExpandDepthwise</c>), in evaluation when one image is not split over threads; the expansion's method then does
/// nothing. Smaller expansions, other layer orders and other convolutions are left as they were. The fused pass gives the
/// bits of the unfused one (the split pass runs the two layers one after the other) on any thread count.
/// </summary>
public class ExpansionFusionTests
{
    // 16 -> 192 channels at 41x41: 322,752 expanded values per image, over the 262,144 that fuse; blocks of 96 channels.
    private const string Block = "[Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 192, Stride = 2, Padding = 1, Groups = 192, Bias = false)] [BatchNorm] [ReLU6]";
    private const string Fused = "[Input(16, 41, 41)] [Conv(1, 16)] " + Block + " [Conv(1, 8)] [Dense(5)]";

    private static readonly Lazy<GeneratorRun> FusedRun = new(() => Compile(Fused));

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Expand;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(GeneratorRun run) => run.Sources.Single().SourceText.ToString();

    [Fact]
    public void ALargeExpansionBeforeADepthwiseConvolutionIsComputedByIt()
    {
        string code = Code(FusedRun.Value);
        Assert.Contains("if (ws.Folded && ws.SplitParts <= 1) return; // conv3 computes this expansion, a block of channels at a time, as it needs it", code, StringComparison.Ordinal);
        Assert.Contains("// conv2 (with bn1 folded in and relu6_1 applied as it stores) computed here from its input, 96 of its 192 channels at a time (630 KiB)", code, StringComparison.Ordinal);
        Assert.Contains("ExpandDepthwise.Forward(new global::System.ReadOnlySpan<float>(ws._act_conv1, b * 26896, 26896), expandWeight, expandBias, " +
                        "global::CnnGen.Kernels.FusedActivation.Relu6, weight, bias, global::CnnGen.Kernels.FusedActivation.Relu6, target.Slice(b * 84672, 84672)", code, StringComparison.Ordinal);
        Assert.Contains("inChannels: 16, channels: 192, height: 41, width: 41, kernel: 3, stride: 2, padding: 1, outHeight: 21, outWidth: 21, blockChannels: 96);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _expand_conv3, 161376L, batch);", code, StringComparison.Ordinal); // one block of one image, whatever the batch
    }

    [Theory]
    [InlineData("[Input(16, 20, 20)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 192, Padding = 1, Groups = 192)] [Dense(5)]")] // 76,800 values: in cache
    [InlineData("[Input(16, 40, 40)] [Conv(1, 16)] [Conv(1, 192)] [ReLU6] [Conv(3, 192, Padding = 1, Groups = 192)] [Dense(5)]")]               // no BatchNorm to fold
    [InlineData("[Input(16, 40, 40)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Dropout(0.2f)] [Conv(3, 192, Padding = 1, Groups = 192)] [Dense(5)]")] // not right after
    [InlineData("[Input(16, 40, 40)] [Conv(1, 16)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 8, Padding = 1)] [Dense(5)]")]      // not depthwise
    [InlineData("[Input(16, 40, 40)] [Conv(1, 16)] [Conv(3, 192, Padding = 1, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 192, Padding = 1, Groups = 192)] [Dense(5)]")] // not 1x1
    [InlineData("[Input(16, 40, 40)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6] [Conv(3, 192, Padding = 1, Groups = 192)] [Dense(5)]")]   // reads the network's input
    public void OtherLayersAreNotFused(string attributes)
    {
        string code = Code(Compile(attributes));
        Assert.DoesNotContain("ExpandDepthwise", code, StringComparison.Ordinal);
        Assert.DoesNotContain("computes this expansion", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_expand_", code, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFusedPassGivesTheBitsOfTheTwoLayers_OnAnyThreads_AndAgreesWithTheUnfoldedPass()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(FusedRun.Value, "Expand.Net"), 3)!;
        Perturb(network, seed: 4);
        foreach (ref float w in network.Parameter("conv2.weight")) w *= 6f; // so that relu6_1 saturates
        const int batch = 3;
        var inputs = Inputs(network, batch, seed: 7);
        var one = Forward(network, inputs, batch, threads: 1, split: false);
        // Splitting one image over threads runs the expansion and the depthwise convolution as separate layers.
        for (int b = 0; b < batch; b++)
        {
            var image = inputs.AsSpan(b * network.InputLength, network.InputLength).ToArray();
            var separate = Forward(network, image, 1, threads: 2, split: true);
            Assert.Equal(separate, one.AsSpan(b * network.OutputLength, network.OutputLength).ToArray());
        }
        Assert.Equal(one, Forward(network, inputs, batch, threads: 2, split: false));

        // Against the unfolded, unfused layers (Activations), within float rounding of the fold.
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            var expanded = unfused[Index(network, "relu6_1")];
            Assert.Contains(6f, expanded);
            Assert.Contains(0f, expanded);
            var logits = unfused[^1];
            double scale = logits.Max(v => Math.Abs(v));
            Assert.True(scale > 0.01, "the outputs are not a fair test");
            for (int i = 0; i < logits.Length; i++)
                Assert.True(Math.Abs(one[b * network.OutputLength + i] - logits[i]) <= 1e-5 * scale,
                    $"image {b}, output {i}: fused {one[b * network.OutputLength + i]}, unfused {logits[i]}");
        }
    }

    private static int Index(INetwork network, string layer) => network.Layers.ToList().FindIndex(l => l.Name == layer);

    private static float[] Forward(INetwork network, float[] inputs, int batch, int threads, bool split)
    {
        network.Threads = threads;
        network.SplitImages = split;
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs, outputs, batch);
        return outputs;
    }
}
