using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Convolutions computed as a matrix product (im2col for strides, wide rows and odd kernels; the input itself for 1x1)
/// add their bias and apply a following ReLU or ReLU6 as the product is stored, in inference, into the activation's
/// output (with a BatchNorm in between, when it is folded in). The activation layer is then skipped. The result is the
/// bits of the separate passes: without BatchNorm, <c>Forward</c> equals the unfused <c>Activations</c> path exactly,
/// and every thread count and image split gives the same bits.
/// </summary>
public class ProductFusionTests
{
    // conv1: 3x3 stride 2 (im2col) + ReLU; conv2: 1x1 (the input is the matrix) + ReLU6; conv3: 3x3 on rows 39 wide (im2col), no activation.
    private const string Plain = "using CnnGen;\nnamespace Fuse;\n" +
        "[Input(8, 31, 81)] [Conv(3, 32, Stride = 2, Padding = 1)] [ReLU] [Conv(1, 64)] [ReLU6] [Conv(3, 8)] [Dense(5)]\n" +
        "public partial class Net { }";

    // The same with a BatchNorm between each convolution and its activation (folded in evaluation).
    private const string WithBatchNorm = "using CnnGen;\nnamespace Fuse;\n" +
        "[Input(8, 31, 81)] [Conv(3, 32, Stride = 2, Padding = 1)] [BatchNorm] [ReLU6] [Conv(1, 64)] [BatchNorm] [ReLU] [Conv(3, 8)] [Dense(5)]\n" +
        "public partial class Net { }";

    private static readonly Lazy<GeneratorRun> PlainRun = new(() => AssertCompilesCleanly(Plain));
    private static readonly Lazy<GeneratorRun> BatchNormRun = new(() => AssertCompilesCleanly(WithBatchNorm));

    private static INetwork Create(GeneratorRun run) => (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "Fuse.Net"), 3)!;

    [Fact]
    public void ProductsApplyTheActivationThatFollowsThem_InInferenceOnly()
    {
        string code = PlainRun.Value.Sources.Single().SourceText.ToString();
        Assert.Contains("// In inference, relu1 is applied as the product is stored, into its output.", code, StringComparison.Ordinal);
        Assert.Contains("// In inference, relu6_1 is applied as the product is stored, into its output.", code, StringComparison.Ordinal);
        Assert.Contains("var activation = !ws.KeepForBackward ? global::CnnGen.Kernels.FusedActivation.Relu6 : global::CnnGen.Kernels.FusedActivation.None;", code, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward) return; // in inference conv1 applied this ReLU as it stored its output", code, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward) return; // in inference conv2 applied this ReLU as it stored its output", code, StringComparison.Ordinal);
        Assert.DoesNotContain("Elementwise.AddBias", code, StringComparison.Ordinal);

        string folded = BatchNormRun.Value.Sources.Single().SourceText.ToString();
        Assert.Contains("// With bn1 folded in, relu6_1 is applied as the product is stored, into its output.", folded, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_relu6_1(ws, ws._act_bn1, ws._act_relu6_1, batch);", folded, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_relu1(ws, ws._act_bn2, ws._act_relu1, batch);", folded, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [ReLU6] [Dense(3)]")]                 // direct kernel: ReLU only
    [InlineData("[Input(4, 12, 12)] [Conv(3, 4, Padding = 1, Groups = 2)] [ReLU] [Dense(3)]")]      // grouped, not depthwise
    [InlineData("[Input(1, 6, 40)] [Conv(3, 2)] [LeakyReLU] [Dense(3)]")]                          // only ReLU and ReLU6
    [InlineData("[Input(1, 6, 40)] [Conv(3, 2)] [BatchNorm] [Dropout(0.5f)] [ReLU] [Dense(3)]")]     // not right after
    public void OtherActivationsAndConvolutionsAreNotFused(string attributes)
    {
        string code = AssertCompilesCleanly($"using CnnGen;\nnamespace Fuse;\n{attributes}\npublic partial class Net {{ }}").Sources.Single().SourceText.ToString();
        Assert.DoesNotContain("is applied as the product is stored", code, StringComparison.Ordinal);
        Assert.DoesNotContain("applied this ReLU as it stored its output", code, StringComparison.Ordinal);
        Assert.DoesNotContain("fused (written to its output)", code, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", code, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutBatchNorm_ForwardGivesTheBitsOfTheUnfusedLayers_OnAnyThreadsAndSplit()
    {
        var network = Create(PlainRun.Value);
        Perturb(network, seed: 5);
        foreach (ref float w in network.Parameter("conv2.weight")) w *= 8f; // so that relu6_1 saturates
        const int batch = 3;
        var inputs = Inputs(network, batch, seed: 8);
        var one = Forward(network, inputs, batch, threads: 1, split: false);
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            Assert.Contains(unfused[1], v => v == 0f);  // relu1 clips
            Assert.Contains(unfused[3], v => v == 6f);  // relu6_1 saturates
            Assert.Equal(unfused[^1], one.AsSpan(b * network.OutputLength, network.OutputLength).ToArray());
        }
        Assert.Equal(one, Forward(network, inputs, batch, threads: 2, split: false));
        Assert.Equal(Forward(network, inputs, 1, threads: 1, split: false), Forward(network, inputs, 1, threads: 2, split: true));
        Assert.Equal(Forward(network, inputs, 1, threads: 1, split: false), Forward(network, inputs, 1, threads: 3, split: true));
    }

    [Fact]
    public void WithBatchNorm_FoldedAndFusedAgreesWithUnfused_AndTrainingModeIsUnchanged()
    {
        var network = Create(BatchNormRun.Value);
        Perturb(network, seed: 6);
        const int batch = 2;
        var inputs = Inputs(network, batch, seed: 9);
        var fused = Forward(network, inputs, batch, threads: 1, split: false);
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength))[^1];
            double scale = unfused.Max(v => Math.Abs(v));
            Assert.True(scale > 0.01, "the outputs are not a fair test");
            for (int i = 0; i < unfused.Length; i++)
                Assert.True(Math.Abs(fused[b * network.OutputLength + i] - unfused[i]) <= 1e-5 * scale, $"image {b}, output {i}: fused {fused[b * network.OutputLength + i]}, unfused {unfused[i]}");
        }
        Assert.Equal(Forward(network, inputs, 1, threads: 1, split: false), Forward(network, inputs, 1, threads: 2, split: true));

        // FoldBatchNorm off: nothing folded, so nothing fused either, and the activation layers run.
        network.GetType().GetProperty("FoldBatchNorm")!.SetValue(network, false);
        var unfoldedForward = Forward(network, inputs, 1, threads: 1, split: false);
        Assert.Equal(network.Activations(inputs.AsSpan(0, network.InputLength))[^1], unfoldedForward);
    }

    private static float[] Forward(INetwork network, float[] inputs, int batch, int threads, bool split)
    {
        network.Threads = threads;
        network.SplitImages = split;
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs.AsSpan(0, batch * network.InputLength), outputs, batch);
        return outputs;
    }
}
