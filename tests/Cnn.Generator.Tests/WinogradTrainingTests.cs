using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which convolutions training runs through Winograd F(4x4, 3x3): the 3x3 stride-1 layers with padding 1 that inference
/// runs so at one image per call. Their forward pass (under <c>if (ws.KeepForBackward)</c>, from the raw weights transformed
/// by <c>PrepareTrainingWeights</c>) and their input gradient (the full convolution of dy, from the flipped weights
/// transformed there too) and their weight gradient (per-point sums over a worker's chunk, transformed back at its end). The transforms are made again for every pass that keeps
/// its outputs, so changed weights are always seen, also by <c>Activations</c>.
/// </summary>
public class WinogradTrainingTests
{
    // conv1: 8 -> 16 (too few channels for Winograd: direct); conv2: 16 -> 32 at 16x16, padding 1 (Winograd); conv3: 32 ->
    // 32 without padding (Winograd in inference only); conv4: 32 -> 8 (direct).
    private const string Declaration =
        "[Input(8, 16, 16)] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 32)] [ReLU] " +
        "[Conv(3, 8, Padding = 1)] [Dense(3)]";

    private static string Compiled(string declaration) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace WinogradTraining;\n" + declaration + "\npublic partial class Net { }").Sources.Single().SourceText.ToString();

    private static string[] Calls(string code, string kernel) =>
        Regex.Matches(code, Regex.Escape(kernel) + @"\((?<args>[^\n]*)\);\n").Select(m => m.Groups["args"].Value).ToArray();

    [Fact]
    public void OnlyPaddedThreeByThreeLayersThatInferenceRunsAsWinogradTrainThroughIt()
    {
        string code = Compiled(Declaration).ReplaceLineEndings("\n");
        // conv2 and conv3 run Winograd in inference; only conv2 (padding 1) in training too.
        Assert.Equal(3, Calls(code, "Winograd3x3.Forward").Length);
        string forward = Assert.Single(Regex.Matches(code, @"// Training: Winograd F\(4x4, 3x3\)[^\n]*\n\s*(?<call>[^\n]*)\n").Select(m => m.Groups["call"].Value.Trim()));
        Assert.Equal("global::CnnGen.Kernels.Winograd3x3.Forward(inp.Slice(0, batch * 4096), batch, _winogradTraining_conv2, bias, outp.Slice(0, batch * 8192), " +
                     "ws._winogradPadded_conv2, ws._winogradScratch_conv2, channels: 16, height: 16, width: 16, filters: 32, padding: 1, outHeight: 16, outWidth: 16);", forward);
        string gradient = Assert.Single(Calls(code, "WinogradInputGradient.Images"));
        Assert.Equal("dout.Slice(0, batch * 8192), batch, _winogradInputGradient_conv2, dinp.Slice(0, batch * 4096), ws._winogradGradientPadded_conv2, " +
                     "ws._winogradScratch_conv2, channels: 16, height: 16, width: 16, filters: 32, padding: 1, outHeight: 16, outWidth: 16", gradient);
        // conv2's weight gradient too: each call's tiles into the worker's sums, turned into dweight once at the end of its chunk.
        // It reads the channel-last copies the forward pass made of x and the input gradient of dy (when there is one).
        Assert.Equal("inp.Slice(0, batch * 4096), dout.Slice(0, batch * 8192), batch, ws._winogradSums_conv2, ws._winogradPending_conv2, ws._winogradPadded_conv2, " +
                     "ws._winogradGradientTiles_conv2, channels: 16, height: 16, width: 16, filters: 32, padding: 1, outHeight: 16, outWidth: 16, " +
                     "inputLaidOut: true, gradientPadded: dinp.IsEmpty ? default : ws._winogradGradientPadded_conv2",
                     Assert.Single(Calls(code, "WinogradWeightGradient.AddTiles")));
        // So the input gradient runs first.
        string backward = code[code.IndexOf("private void Backward_conv2(", StringComparison.Ordinal)..code.IndexOf("private void Forward_bn1(", StringComparison.Ordinal)];
        Assert.True(backward.IndexOf("WinogradInputGradient.Images(", StringComparison.Ordinal) is var images and > 0
                    && images < backward.IndexOf("WinogradWeightGradient.AddTiles(", StringComparison.Ordinal), backward);
        Assert.Contains("protected override void BeginGradientChunk(Workspace ws) => _network.ClearWinogradSums(ws);", code, StringComparison.Ordinal);
        Assert.Contains("protected override void EndGradientChunk(Workspace ws) => _network.AddWinogradSums(ws);", code, StringComparison.Ordinal);
        Assert.Contains("global::System.Array.Clear(ws._winogradSums_conv2);", code, StringComparison.Ordinal);
        Assert.Contains("if (!_frozen[2]) global::CnnGen.Kernels.WinogradWeightGradient.AddFilterGradients(ws._winogradSums_conv2, ws._winogradPending_conv2, " +
                        "new global::System.Span<float>(ws.Gradients, 1168, 4608), channels: 16, filters: 32); // conv2", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _winogradSums_conv2, 18433L, batch);", code, StringComparison.Ordinal);
        // The pending block: 72 tiles (as many as 36 points of 16 + 32 channels and filters keep within 512 KiB) of 36 points,
        // each point's two planes followed by 16 values: 36 x (72 x 48 + 32).
        Assert.Contains("Grow(ref _winogradPending_conv2, 125568L, batch);", code, StringComparison.Ordinal);
        // The others keep their kernels: conv1 and conv4 direct in training; conv3 (no padding) and conv4 (8 wide input
        // gradient of 32 channels) by im2col's column gradient; conv1's weight gradient from its padded images (16-wide
        // rows), conv3's and conv4's (14 wide) from rebuilt columns.
        // conv1 applies the ReLU after it as it stores in a gradient pass, into the ReLU's output; conv4 writes its own.
        Assert.Equal(1, Calls(code, "DirectConv.Forward").Count(call => call.Contains("outp.Slice(b * ", StringComparison.Ordinal)));
        Assert.Equal(1, Calls(code, "DirectConv.Forward").Count(call => call.Contains("stored.Slice(b * ", StringComparison.Ordinal)
                                                                       && call.EndsWith("relu: !ws.WritesEveryOutput", StringComparison.Ordinal)));
        Assert.Contains("channels: 8, height: 16, width: 16, filters: 16,", Assert.Single(Calls(code, "DirectWeightGradient.Accumulate")), StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(code, @"Im2Col\.Pack\(inp\.Slice\(\(first \+ b\)").Count);
        // Both transforms before each pass that keeps its outputs, for every worker of it; conv2's channel-last padded
        // gradient holds 32 filters per position of an 18 x 18 padded map.
        Assert.Contains("global::CnnGen.Kernels.Winograd3x3.TransformWeights(new global::System.ReadOnlySpan<float>(_parameters, 1168, 4608), _winogradTraining_conv2, " +
                        "filters: 32, channels: 16, f0: 0, f1: 32);", code, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.WinogradInputGradient.TransformWeights(new global::System.ReadOnlySpan<float>(_parameters, 1168, 4608), _flippedWeights_conv2, " +
                        "_winogradInputGradient_conv2, filters: 32, channels: 16);", code, StringComparison.Ordinal);
        Assert.Contains("protected override void PrepareKeptPass(int part, int parts) => _network.PrepareTrainingWeights(part, parts);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _winogradGradientPadded_conv2, 10368L * batch, batch);", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_winogradTraining_conv3", code, StringComparison.Ordinal);
    }

    [Fact]
    public void AFirstLayerComputesNoInputGradientAndTransformsOnlyItsWeights()
    {
        string code = Compiled("[Input(16, 8, 8)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(3)]");
        Assert.Contains("_winogradTraining_conv1", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_winogradInputGradient_conv1", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_flippedWeights_conv1", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_winogradGradientPadded_conv1", code, StringComparison.Ordinal);
        Assert.Single(Calls(code, "WinogradWeightGradient.AddTiles"));
    }

    /// <summary>Without BatchNorm, micro-batches of one image: the weight gradient's sums collect every micro-batch of a
    /// worker's chunk before they are transformed back, so a batch's gradients are the mean of its images' own.</summary>
    [Fact]
    public void ABatchsWeightGradientIsTheMeanOfItsImagesOwnOverMicroBatchesAndWorkers()
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace WinogradTraining;\n[Input(16, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] " +
                                        "[Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(4)] [Dense(3)]\npublic partial class Net { }");
        string code = run.Sources[0].SourceText.ToString();
        Assert.Contains("public const int MicroBatch = 1;", code, StringComparison.Ordinal);
        // conv2 runs Winograd throughout; conv1 (16 -> 16 on a 32-wide map: direct forward) only for its weight gradient.
        Assert.Equal(2, Calls(code, "WinogradWeightGradient.AddTiles").Length);
        Assert.Single(Regex.Matches(code, @"// Training: Winograd F\(4x4, 3x3\)"));
        var type = LoadedNetwork.Load(run, "WinogradTraining.Net");
        const int batch = 4;
        var network = (INetwork)Activator.CreateInstance(type, 1)!;
        var inputs = Inputs(network, batch, 5);
        var labels = new[] { 2, 0, 1, 1 };
        var mean = new double[network.Parameters.Length];
        for (int b = 0; b < batch; b++)
        {
            network.ComputeGradients(inputs.AsSpan(b * network.InputLength, network.InputLength), labels.AsSpan(b, 1), 1);
            for (int i = 0; i < mean.Length; i++) mean[i] += network.Gradients[i] / (double)batch;
        }
        foreach (int threads in new[] { 1, 2, 3 })
        {
            network.Threads = threads;
            network.ComputeGradients(inputs, labels, batch);
            double largest = mean.Max(Math.Abs);
            for (int i = 0; i < mean.Length; i++)
                Assert.True(Math.Abs(network.Gradients[i] - mean[i]) <= 1e-5 * largest,
                    $"{threads} thread(s): gradient {i} is {network.Gradients[i]}, the mean of the images' own {mean[i]}");
        }
    }

    /// <summary>Smooth activations on a 6x5 map (tiles cut by the edges), with BatchNorm in both modes.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFiniteDifferences(bool training)
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace WinogradTraining;\n[Input(2, 6, 5)] [Conv(3, 16, Padding = 1)] [Tanh] " +
                                        "[Conv(3, 16, Padding = 1)] [BatchNorm] [Tanh] [Dense(3)] [Softmax]\npublic partial class Net { }");
        Assert.Single(Calls(run.Sources[0].SourceText.ToString(), "WinogradInputGradient.Images"));
        AssertGradientsMatchFiniteDifferences((INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "WinogradTraining.Net"), 5)!, training);
    }

    /// <summary>16 channels and 16 filters on a 20-wide map: inference and training's forward pass run direct convolution,
    /// only the weight gradient Winograd's (tiles cut by the bottom edge, 3 rows high).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWeightGradientThroughWinogradAloneMatchesFiniteDifferences(bool training)
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace WinogradTraining;\n[Input(16, 3, 20)] [Conv(3, 16, Padding = 1)] [Tanh] " +
                                        "[Conv(3, 16, Padding = 1)] [BatchNorm] [Tanh] [Dense(3)] [Softmax]\npublic partial class Net { }");
        string code = run.Sources[0].SourceText.ToString();
        Assert.Equal(2, Calls(code, "WinogradWeightGradient.AddTiles").Length);
        Assert.DoesNotContain("// Training: Winograd", code, StringComparison.Ordinal);
        AssertGradientsMatchFiniteDifferences((INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, "WinogradTraining.Net"), 6)!, training);
    }

    [Fact]
    public void WeightsChangedBetweenPassesAreTransformedAgain()
    {
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace WinogradTraining;\n" + Declaration + "\npublic partial class Net { }");
        var type = LoadedNetwork.Load(run, "WinogradTraining.Net");
        foreach (int threads in new[] { 1, 2 })
        {
            var network = (INetwork)Activator.CreateInstance(type, 1)!;
            network.Threads = threads;
            const int batch = 4;
            var inputs = Inputs(network, batch, 2);
            var labels = new[] { 0, 2, 1, 2 };
            network.ComputeGradients(inputs, labels, batch);
            // New weights through the parameters (as an optimiser step writes them), then the same call again.
            var random = new Random(3);
            foreach (ref float p in network.Parameters) p = (random.NextSingle() - 0.5f) * 0.2f;
            network.ComputeGradients(inputs, labels, batch);

            var fresh = (INetwork)Activator.CreateInstance(type, 1)!;
            fresh.Threads = threads;
            network.Parameters.CopyTo(fresh.Parameters);
            fresh.ComputeGradients(inputs, labels, batch);
            Assert.Equal(fresh.Gradients.ToArray(), network.Gradients.ToArray());

            // The unfused pass of Activations transforms the weights it runs with too: after another change, its logits
            // are a fresh network's.
            foreach (ref float p in network.Parameters) p = (random.NextSingle() - 0.5f) * 0.2f;
            var image = inputs.AsSpan(0, network.InputLength);
            float[] logits = network.Activations(image)[^1];
            var other = (INetwork)Activator.CreateInstance(type, 1)!;
            network.Parameters.CopyTo(other.Parameters);
            Assert.Equal(other.Activations(image)[^1], logits);
            Assert.Contains(logits, v => v != 0);
        }
    }
}
