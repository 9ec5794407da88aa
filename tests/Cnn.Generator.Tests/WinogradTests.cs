using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Inference runs the 3x3 convolutions the analysis picks as Winograd F(4x4, 3x3): here conv2 (32 -> 32 at 8x8, with a
/// folded BatchNorm and a fused ReLU) and conv3 (32 -> 40 at 6x6, no padding); conv1 (8 channels) stays direct. Outputs
/// agree with the unfused im2col path within rounding, do not depend on how the batch is split, and follow every change
/// of the weights, the BatchNorm statistics and the folding switch.
/// </summary>
public class WinogradTests
{
    private const string Source = "using CnnGen;\nnamespace Wino;\n" +
        "[Input(8, 8, 8)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 40)] [Dense(5)]\n" +
        "public partial class Net { }";

    /// <summary>Largest |Forward - unfused path| / largest |unfused| allowed (Winograd's own error is near 1e-6 of the scale).</summary>
    private const double Tolerance = 1e-5;

    private static readonly Lazy<GeneratorRun> Run = new(() => AssertCompilesCleanly(Source));

    internal static INetwork Create() => (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Run.Value, "Wino.Net"), 1)!;

    [Fact]
    public void PicksWinogradForTheWideEnoughLayersOnly()
    {
        string code = Run.Value.Sources.Single().SourceText.ToString();
        Assert.Equal(3, Count(code, "Winograd3x3.Forward(")); // conv2 and conv3, and conv2 in training (padding 1)
        Assert.Equal(1, Count(code, "DirectConv.Forward("));
        // conv2's fold is transformed when the fold reports a change, with no copy of it kept; conv3 (no BatchNorm) keeps one.
        Assert.Contains("Winograd3x3.TransformWeights(new global::System.ReadOnlySpan<float>(_folded", code);
        Assert.Contains(") _winogradFromFold_conv2 = false; // ", code);
        Assert.DoesNotContain("_winogradFromFold_conv3", code);
        Assert.Equal(2, Count(code, "Winograd3x3.PrepareWeights(")); // conv3, and conv2 without the fold
        Assert.Contains("// conv3", code);
        Assert.DoesNotContain("_winogradWeight_conv1", code);
    }

    /// <summary>The measured shapes of <c>WinogradChoice</c>: the CIFAR VGG's and ResNet's, ResNet-18's, DenseNet-121's and GoogLeNet's at 224, and kinds Winograd does not compute.</summary>
    [Theory]
    [InlineData(32, 32, 32, 3, 1, 1, 1, true)]
    [InlineData(16, 16, 32, 3, 1, 1, 1, false)]   // 16 on a 32-wide map: direct
    [InlineData(16, 32, 16, 3, 1, 1, 1, true)]    // 16 on a 16-wide map: Winograd
    [InlineData(8, 32, 16, 3, 1, 1, 1, false)]
    [InlineData(32, 64, 16, 3, 1, 1, 1, true)]
    [InlineData(64, 64, 16, 3, 1, 1, 1, true)]
    [InlineData(32, 32, 56, 3, 1, 1, 1, true)]    // wider than 32 (no direct kernel): Winograd from 16
    [InlineData(128, 32, 56, 3, 1, 1, 1, true)]   // DenseNet-121's first block
    [InlineData(16, 16, 56, 3, 1, 1, 1, true)]
    [InlineData(8, 16, 56, 3, 1, 1, 1, false)]
    [InlineData(16, 32, 28, 3, 1, 1, 1, true)]    // GoogLeNet's inception3a: 16 against 32
    [InlineData(32, 64, 8, 3, 1, 1, 1, true)]
    [InlineData(64, 64, 8, 3, 1, 1, 1, true)]
    [InlineData(128, 128, 8, 3, 1, 1, 1, true)]
    [InlineData(64, 64, 56, 3, 1, 1, 1, true)]
    [InlineData(128, 128, 28, 3, 1, 1, 1, true)]
    [InlineData(256, 256, 14, 3, 1, 1, 1, true)]
    [InlineData(512, 512, 7, 3, 1, 1, 1, true)]
    [InlineData(3, 64, 8, 3, 1, 1, 1, false)]     // first layer: 3 channels
    [InlineData(128, 128, 8, 5, 1, 1, 1, false)]  // 5x5
    [InlineData(128, 128, 8, 3, 2, 1, 1, false)]  // stride 2
    [InlineData(128, 128, 8, 3, 1, 2, 1, false)]  // dilated
    [InlineData(128, 128, 8, 3, 1, 1, 2, false)]  // grouped
    public void ChoosesWinogradWhereItMeasuredFaster(int channels, int filters, int size, int kernel, int stride, int dilation, int groups, bool expected)
    {
        var conv = new CnnGen.Generator.Model.ConvOp(kernel, filters, stride, 1, Groups: groups, Dilation: dilation);
        var output = new CnnGen.Generator.Model.Shape(filters, size, size);
        Assert.Equal(expected, CnnGen.Generator.Analysis.WinogradChoice.Picks(conv, new CnnGen.Generator.Model.Shape(channels, size, size), output));
    }

    [Fact]
    public void ForwardAgreesWithTheUnfusedPathInEveryMode()
    {
        var network = Create();
        Perturb(network, 3);
        var inputs = Inputs(network, 3, 4);
        foreach (bool fold in new[] { true, false })
        {
            SetFold(network, fold);
            AssertAgreesWithUnfused(network, inputs);
        }
    }

    [Fact]
    public void OutputsDoNotDependOnHowTheBatchIsSplit()
    {
        var network = Create();
        Perturb(network, 5);
        const int batch = 5;
        var inputs = Inputs(network, batch, 6);
        var together = Forward(network, inputs, batch);
        int outputs = network.OutputLength, inputLength = network.InputLength;
        for (int b = 0; b < batch; b++)
        {
            var alone = Forward(network, inputs.AsSpan(b * inputLength, inputLength).ToArray(), 1);
            Assert.Equal(together.AsSpan(b * outputs, outputs).ToArray(), alone);
        }
        network.Threads = 2;
        Assert.Equal(together, Forward(network, inputs, batch));
    }

    [Fact]
    public void ChangedWeightsStatisticsAndFoldingAreAlwaysUsed()
    {
        var network = Create();
        Perturb(network, 7);
        var inputs = Inputs(network, 2, 8);
        var before = Forward(network, inputs, 2);

        // A write to Parameters (as a user, an optimiser or a checkpoint load makes) in each Winograd layer.
        var conv2 = network.Parameter("conv2.weight");
        float kept = conv2[17], kept3 = network.Parameter("conv3.weight")[3];
        conv2[17] += 0.5f;
        network.Parameter("conv3.weight")[3] -= 0.5f;
        var changed = AssertAgreesWithUnfused(network, inputs);
        Assert.NotEqual(before, changed);

        // The BatchNorm folded into conv2: new running statistics change the folded weights.
        var state = network.State;
        var variance = network.StateTensors.Single(t => t.Name.EndsWith(".running_var", StringComparison.Ordinal));
        state[variance.Offset] *= 4f;
        var rescaled = AssertAgreesWithUnfused(network, inputs);
        Assert.NotEqual(changed, rescaled);
        state[variance.Offset] /= 4f;

        // The same bits as before once every value is back.
        conv2[17] = kept;
        network.Parameter("conv3.weight")[3] = kept3;
        Assert.Equal(before, Forward(network, inputs, 2));

        // Training-mode Forward (BatchNorm on the batch's statistics, nothing folded; it updates the running statistics,
        // which are put back), then evaluation again.
        var statistics = network.State.ToArray();
        network.Training = true;
        var training = Forward(network, inputs, 2);
        Assert.NotEqual(before, training);
        network.Training = false;
        statistics.CopyTo(network.State);
        Assert.Equal(before, Forward(network, inputs, 2));
    }

    /// <summary>A layer whose transformed weights are large (256 -> 512 on a 4x4 map: 18 MiB) runs Winograd only from 8
    /// images per call (8 tiles); fewer run im2col + GEMM with the ReLU applied as it stores, the bits of the unfused
    /// layers, on one thread or split over two.</summary>
    [Fact]
    public void LargeWeightsOnFewTiles_RunTheProductBelowEightImages()
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace Wino;\n[Input(256, 4, 4)] [Conv(3, 512, Padding = 1)] [ReLU] [Dense(5)]\npublic partial class Big { }");
        string code = run.Sources.Single().SourceText.ToString();
        Assert.Contains("if (!ws.KeepForBackward && batch >= 8)", code, StringComparison.Ordinal);
        Assert.Contains("Gemm.MultiplyBiasActivation(weight, col, y, bias, m: 512, n: 16, k: 2304, activation);", code, StringComparison.Ordinal);
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "Wino.Big"), 2)!;
        Perturb(network, seed: 4);
        var inputs = Inputs(network, 8, seed: 12);
        var one = Forward(network, inputs.AsSpan(0, network.InputLength).ToArray(), 1);
        Assert.Equal(network.Activations(inputs.AsSpan(0, network.InputLength))[^1], one);
        network.Threads = 2;
        network.SplitImages = true;
        Assert.Equal(one, Forward(network, inputs.AsSpan(0, network.InputLength).ToArray(), 1));
        network.Threads = 1;
        // Eight images: Winograd, within rounding of the unfused layers.
        AssertAgreesWithUnfused(network, inputs);
    }

    private static float[] AssertAgreesWithUnfused(INetwork network, float[] inputs)
    {
        int batch = inputs.Length / network.InputLength, outputs = network.OutputLength;
        var actual = Forward(network, inputs, batch);
        for (int b = 0; b < batch; b++)
        {
            var expected = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength))[^1];
            double scale = expected.Max(v => Math.Abs(v)), worst = 0;
            for (int i = 0; i < outputs; i++) worst = Math.Max(worst, Math.Abs(actual[b * outputs + i] - expected[i]));
            Assert.True(scale > 0.01, "the outputs are not a fair test");
            Assert.True(worst <= Tolerance * scale, $"image {b}: largest difference {worst / scale:E2} of the scale {scale:G4}");
        }
        return actual;
    }

    private static float[] Forward(INetwork network, float[] inputs, int batch)
    {
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs, outputs, batch);
        return outputs;
    }

    private static void SetFold(INetwork network, bool fold) => network.GetType().GetProperty("FoldBatchNorm")!.SetValue(network, fold);

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
