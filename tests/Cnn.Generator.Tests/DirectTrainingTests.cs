using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which convolutions training's forward pass runs with the direct kernel instead of im2col + GEMM (the same bits):
/// stride 1, groups 1, output rows 16 to 32 wide, under <c>if (ws.KeepForBackward)</c>, writing the convolution's own
/// output (no activation is fused there); their backward pass rebuilds the weight gradient's columns. And which compute
/// their input gradient with the direct kernel: inputs 16 to 32 wide.
/// </summary>
public class DirectTrainingTests
{
    private const string TrainingComment = "// Training: direct convolution, the same bits as im2col + GEMM below; the backward pass rebuilds the columns it needs.";

    private static string Compiled(string declaration) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace DirectTraining;\n" + declaration + "\npublic partial class Net { }").Sources.Single().SourceText.ToString();

    /// <summary>The bodies of the training blocks, one per convolution that has one.</summary>
    private static string[] TrainingCalls(string code) =>
        Regex.Matches(code, Regex.Escape(TrainingComment) + @"(?:\s*// A gradient pass applies [^\n]*\n\s*var stored = [^\n]*\n)?\s*for \(int b = 0; b < batch; b\+\+\)\s*(?<call>[^\n]*)\n")
            .Select(m => m.Groups["call"].Value.Trim()).ToArray();

    [Fact]
    public void SmallResNetsConvolutionsOn28WideMapsRunDirectWhileTrainingAndThoseOn14WideOnesDoNot()
    {
        string code = Generated(Networks.SmallResNet);
        string[] calls = TrainingCalls(code);
        Assert.Equal(3, calls.Length);
        Assert.Equal("global::CnnGen.Kernels.DirectConv.Forward(inp.Slice(b * 784, 784), weight, bias, outp.Slice(b * 12544, 12544), ws._pad_conv1, " +
                     "channels: 1, height: 28, width: 28, filters: 16, kernel: 3, padding: 1, outHeight: 28, outWidth: 28);", calls[0]);
        Assert.StartsWith("global::CnnGen.Kernels.DirectConv.Forward(inp.Slice(b * 12544, 12544), weight, bias, outp.Slice(b * 12544, 12544), ws._pad_conv2,", calls[1]);
        Assert.StartsWith("global::CnnGen.Kernels.DirectConv.Forward(inp.Slice(b * 12544, 12544), weight, bias, outp.Slice(b * 12544, 12544), ws._pad_conv3,", calls[2]);
        Assert.Equal(3, Regex.Matches(code, @"if \(ws\.KeepForBackward\)\s*\{\s*" + Regex.Escape(TrainingComment)).Count);
    }

    [Fact]
    public void WithoutBatchNormADirectLayerKeepsNoColumnsAndAnEightWideOneKeepsThem()
    {
        // conv1 (32 wide) runs direct and computes its weight gradient from its padded images, 9 at a time (the images its
        // 27 x 1,024 columns were rebuilt for); conv2 (8 wide) keeps its 144 x 64 per image.
        string code = Compiled("[Input(3, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [MaxPool(4)] [Conv(3, 8, Padding = 1)] [ReLU] [Dense(4)]");
        string call = Assert.Single(TrainingCalls(code));
        // The ReLU after it is applied as the values are stored in a gradient pass, into the ReLU's output.
        Assert.Contains("weight, bias, stored.Slice(b * 16384, 16384), ws._pad_conv1,", call, StringComparison.Ordinal);
        Assert.Contains("channels: 3, height: 32, width: 32, filters: 16, kernel: 3, padding: 1, outHeight: 32, outWidth: 32, relu: !ws.WritesEveryOutput);", call, StringComparison.Ordinal);
        Assert.Contains("var stored = ws.WritesEveryOutput ? outp : new global::System.Span<float>(ws._act_relu1);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _col_conv1, 27648L, batch);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _col_conv2, training ? 9216L * batch : 9216L, batch);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _backwardPaddedImages, 31212L, batch);", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_backwardColumns", code, StringComparison.Ordinal);
        Assert.Contains("for (int first = 0; first < batch; first += 9)", code, StringComparison.Ordinal);
        // LeNet-5: conv1 (28 wide) runs direct; conv2 (10 wide) keeps its columns.
        Assert.Single(TrainingCalls(Generated(Networks.LeNet5)));
    }

    [Fact]
    public void OnlyStrideOneGroupsOneConvolutionsWithRows16To32WideRunDirectWhileTraining()
    {
        // 32 wide: direct; stride 2 (to 16): not; 16 wide: direct; 1x1 unpadded: not; 8 wide: not; 40 wide: not.
        string code = Compiled(
            "[Input(3, 32, 32)] [Conv(3, 8, Padding = 1)] [BatchNorm] [ReLU] [Conv(4, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] " +
            "[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(1, 16)] [BatchNorm] [ReLU] [MaxPool(2)] [Conv(3, 16, Padding = 1)] [BatchNorm] [Dense(4)]");
        string[] calls = TrainingCalls(code);
        Assert.Equal(2, calls.Length);
        Assert.Contains("channels: 3, height: 32, width: 32, filters: 8, kernel: 3, padding: 1, outHeight: 32, outWidth: 32);", calls[0], StringComparison.Ordinal);
        Assert.Contains("channels: 8, height: 16, width: 16, filters: 16, kernel: 3, padding: 1, outHeight: 16, outWidth: 16);", calls[1], StringComparison.Ordinal);
        Assert.Empty(TrainingCalls(Compiled("[Input(3, 40, 40)] [Conv(3, 8, Padding = 1)] [BatchNorm] [ReLU] [Dense(4)]")));
    }

    private const string InputGradientComment = "// dinp = seed 001's full convolution of dy with the kernel rotated 180 degrees (channels and filters swapped), by the direct kernel over dy padded by ";

    private static string[] InputGradientCalls(string code) =>
        Regex.Matches(code, @"DirectConvInputGradient\.Image\((?<args>[^\n]*)\);\n").Select(m => m.Groups["args"].Value).ToArray();

    [Fact]
    public void TheInputGradientOfConvolutionsOn16To32WideInputsIsTheDirectFullConvolutionInEveryNetwork()
    {
        // With BatchNorm: SmallResNet's conv2 and conv3 (28 wide) have an input gradient; conv1 none; conv4-6 (14 wide, at
        // least 16 channels) run Winograd (WinogradTrainingTests).
        string code = Generated(Networks.SmallResNet);
        string[] calls = InputGradientCalls(code);
        Assert.Equal(2, calls.Length);
        Assert.Equal("dout.Slice(b * 12544, 12544), _flippedWeights_conv2, dinp.Slice(b * 12544, 12544), ws._backwardPaddedGradient, channels: 16, height: 28, width: 28, " +
                     "filters: 16, kernel: 3, padding: 1, outHeight: 28, outWidth: 28", calls[0]);
        // The weights are flipped once per gradient call, before the workers' chunks, not in each backward pass.
        Assert.Contains("global::CnnGen.Kernels.DirectConvInputGradient.FlipWeights(new global::System.ReadOnlySpan<float>(_parameters, 192, 2304), _flippedWeights_conv2, filters: 16, channels: 16, kernel: 3);", code, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(code, @"DirectConvInputGradient\.FlipWeights\(").Count);
        Assert.Contains("protected override void PrepareKeptPass(int part, int parts) => _network.PrepareTrainingWeights(part, parts);", code, StringComparison.Ordinal);
        Assert.Contains(InputGradientComment + "1", code, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Matches(code, @"WinogradInputGradient\.Images\(").Count);

        // Without BatchNorm too; a 5x5 kernel without padding pads dy by 4; stride 2, 1x1 and 8-wide inputs keep col2im.
        string plain = Compiled(
            "[Input(3, 32, 32)] [Conv(3, 8, Padding = 1)] [ReLU] [Conv(5, 8)] [ReLU] [Conv(4, 8, Stride = 2, Padding = 1)] [ReLU] [Conv(1, 8)] [ReLU] " +
            "[MaxPool(2)] [Conv(3, 8, Padding = 1)] [Dense(4)]");
        string[] plainCalls = InputGradientCalls(plain);
        Assert.Single(plainCalls);
        Assert.Equal("dout.Slice(b * 6272, 6272), _flippedWeights_conv2, dinp.Slice(b * 8192, 8192), ws._backwardPaddedGradient, channels: 8, height: 32, width: 32, " +
                     "filters: 8, kernel: 5, padding: 0, outHeight: 28, outWidth: 28", plainCalls[0]);
        Assert.Contains(InputGradientComment + "4", plain, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _backwardPaddedGradient, 10368L, batch);", plain, StringComparison.Ordinal);
    }

    private static string[] WeightGradientCalls(string code) =>
        Regex.Matches(code, @"DirectWeightGradient\.Accumulate\((?<args>[^\n]*)\);\n").Select(m => m.Groups["args"].Value).ToArray();

    [Fact]
    public void TheWeightGradientOfConvolutionsWith16Or32WideRowsComesFromThePaddedImages()
    {
        // 32 wide: direct; stride 2 (to 16): columns; 16 wide: direct; 1x1 unpadded: its input is the matrix; 20 wide (direct
        // forward): columns; 10 wide: columns.
        string code = Compiled(
            "[Input(3, 32, 32)] [Conv(3, 8, Padding = 1)] [BatchNorm] [ReLU] [Conv(4, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] " +
            "[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(1, 16)] [BatchNorm] [ReLU] [Conv(5, 8, Padding = 4)] [ReLU] [MaxPool(2)] " +
            "[Conv(3, 16, Padding = 1)] [BatchNorm] [Dense(4)]");
        string[] calls = WeightGradientCalls(code);
        Assert.Equal(2, calls.Length);
        Assert.Equal("inp.Slice(first * 3072, count * 3072), dout.Slice(first * 8192, count * 8192), new global::System.Span<float>(ws.Gradients, 0, 216), " +
                     "ws._backwardPaddedImages, count: count, channels: 3, height: 32, width: 32, filters: 8, kernel: 3, padding: 1, outHeight: 32, outWidth: 32", calls[0]);
        Assert.Contains("channels: 8, height: 16, width: 16, filters: 16, kernel: 3, padding: 1, outHeight: 16, outWidth: 16", calls[1], StringComparison.Ordinal);
        // In the groups of images the columns were rebuilt in (27 x 1,024 columns: 9 images; 72 x 256: 14), so the same bits.
        Assert.Contains("for (int first = 0; first < batch; first += 9)\n", code.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("for (int first = 0; first < batch; first += 14)\n", code.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        // The padded images sized for the larger group (9 x 3 x 34 x 34 against 14 x 8 x 18 x 18); the columns for the
        // layers that still rebuild them (the stride-2 one, the 20-wide 5x5 one, the 10-wide one).
        Assert.Contains("Grow(ref _backwardPaddedImages, 36288L, batch);", code, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Matches(code, @"Im2Col\.Pack\(inp\.Slice\(\(first \+ b\)").Count);

        // A network whose every convolution takes the direct path keeps no rebuilt columns at all; without padding the
        // images are read in place.
        string direct = Compiled("[Input(2, 18, 18)] [Conv(3, 4)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm] [Dense(3)]");
        string[] directCalls = WeightGradientCalls(direct);
        Assert.Equal(2, directCalls.Length);
        Assert.Contains("), default, count: count, channels: 2, height: 18, width: 18, filters: 4, kernel: 3, padding: 0, outHeight: 16, outWidth: 16", directCalls[0], StringComparison.Ordinal);
        Assert.DoesNotContain("_backwardColumns", direct, StringComparison.Ordinal);
        Assert.DoesNotContain("Im2Col.Pack(inp.Slice((first + b)", direct, StringComparison.Ordinal);

        // 28-wide maps (SmallResNet, LeNet-5) keep the columns.
        Assert.Empty(WeightGradientCalls(Generated(Networks.SmallResNet)));
        Assert.Empty(WeightGradientCalls(Generated(Networks.LeNet5)));
    }

    [Fact]
    public void WeightsChangedBetweenGradientCallsAreFlippedAgain()
    {
        // conv2 (16 wide) computes its input gradient from the flipped weights made before each call, on 1 and 2 threads.
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace DirectTraining;\n[Input(2, 16, 16)] [Conv(3, 4, Padding = 1)] [Tanh] " +
                                        "[Conv(3, 5, Padding = 1)] [Tanh] [Dense(3)] [Softmax]\npublic partial class Net { }");
        Assert.Single(InputGradientCalls(run.Sources[0].SourceText.ToString()));
        var type = LoadedNetwork.Load(run, "DirectTraining.Net");
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
            foreach (ref float p in network.Parameters) p = random.NextSingle() - 0.5f;
            network.ComputeGradients(inputs, labels, batch);

            var fresh = (INetwork)Activator.CreateInstance(type, 1)!;
            fresh.Threads = threads;
            network.Parameters.CopyTo(fresh.Parameters);
            fresh.ComputeGradients(inputs, labels, batch);
            Assert.Equal(fresh.Gradients.ToArray(), network.Gradients.ToArray());
        }
    }
}
