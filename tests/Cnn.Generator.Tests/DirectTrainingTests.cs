using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which convolutions training's forward pass runs with the direct kernel instead of im2col + GEMM (the same bits):
/// in networks with BatchNorm (their backward pass rebuilds the columns), stride 1, groups 1, output rows 16 to 32 wide,
/// under <c>if (ws.KeepForBackward)</c>, writing the convolution's own output (no activation is fused there).
/// </summary>
public class DirectTrainingTests
{
    private const string TrainingComment = "// Training: direct convolution, the same bits as im2col + GEMM below; the backward pass rebuilds the columns it needs.";

    private static string Generated(string source) => Assert.Single(TestDriver.Run(source).Sources).SourceText.ToString();

    private static string Compiled(string declaration) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace DirectTraining;\n" + declaration + "\npublic partial class Net { }").Sources.Single().SourceText.ToString();

    /// <summary>The bodies of the training blocks, one per convolution that has one.</summary>
    private static string[] TrainingCalls(string code) =>
        Regex.Matches(code, Regex.Escape(TrainingComment) + @"\s*for \(int b = 0; b < batch; b\+\+\)\s*(?<call>[^\n]*)\n")
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
    public void ANetworkWithoutBatchNormKeepsItsColumnsAndHasNoTrainingBlock()
    {
        Assert.Empty(TrainingCalls(Generated(Networks.LeNet5)));
        Assert.Empty(TrainingCalls(Compiled("[Input(3, 32, 32)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(4)]")));
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
}
