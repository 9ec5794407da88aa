using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which stride-2 convolutions inference runs with the direct kernel (<c>StrideTwoConv</c>, blocks of 8 output rows):
/// those that would otherwise run im2col in blocks of rows (few input channels, columns past 1 MiB), the stems of the
/// 224x224 networks; under <c>if (!ws.KeepForBackward)</c>, split over the threads by blocks, training keeping im2col.
/// </summary>
public class StrideTwoChoiceTests
{
    private static string[] Calls(string code, string method) =>
        code.Split('\n').Where(line => line.Contains("StrideTwoConv." + method + "(", StringComparison.Ordinal)).Select(line => line.Trim()).ToArray();

    [Fact]
    public void ResNet18sStemRunsDirectlyInBlocksOfEightRowsWholeAndSplit()
    {
        string code = Generated(Networks.ResNet18);
        Assert.Equal("global::CnnGen.Kernels.StrideTwoConv.Forward(x, weight, bias, y, col, channels: 3, height: 224, width: 224, filters: 64, kernel: 7, " +
                     "padding: 3, outHeight: 112, outWidth: 112, rowsPerBlock: 8, activation);", Assert.Single(Calls(code, "Forward")));
        Assert.Equal("global::CnnGen.Kernels.StrideTwoConv.ForwardBlocks(inp, weight, bias, outp, channels: 3, height: 224, width: 224, filters: 64, kernel: 7, " +
                     "padding: 3, outHeight: 112, outWidth: 112, rowsPerBlock: 8, ws.Folded ? global::CnnGen.Kernels.FusedActivation.Relu : global::CnnGen.Kernels.FusedActivation.None, " +
                     "firstBlock: start, endBlock: end);", Assert.Single(Calls(code, "ForwardBlocks")));
        Assert.Contains("// Fewer images than threads: each thread computes a range of this image's 14 blocks of 8 output rows.", code, StringComparison.Ordinal);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardBlocks_conv1 ??= ForwardBlocks_conv1, ws, x, outp.Slice(b * 802816, 802816), weight, bias, 1, units: 14, block: 1);", code, StringComparison.Ordinal);
        // Training lays out the whole image's columns.
        Assert.Contains("global::CnnGen.Kernels.Im2Col.Pack(x, col, channels: 3, height: 224, width: 224, kernel: 7, stride: 2, padding: 3, outHeight: 112, outWidth: 112);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void MobileNetV2sStemRunsDirectlyWithItsReLU6()
    {
        string call = Assert.Single(Calls(Generated(Networks.MobileNetV2), "Forward"));
        Assert.EndsWith("channels: 3, height: 224, width: 224, filters: 32, kernel: 3, padding: 1, outHeight: 112, outWidth: 112, rowsPerBlock: 8, activation);", call, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(3, 97, 97)] [Conv(7, 32, Stride = 2, Padding = 3)] [ReLU]", true)]            // 147 x 2,401 columns (1.3 MiB)
    [InlineData("[Input(3, 41, 41)] [Conv(7, 32, Stride = 2, Padding = 3)] [ReLU]", false)]           // 147 x 441 columns: not blocked
    [InlineData("[Input(3, 97, 97)] [Conv(7, 32, Padding = 3)] [ReLU]", false)]                       // stride 1
    [InlineData("[Input(8, 97, 97)] [Conv(3, 8, Stride = 2, Padding = 1, Groups = 8)] [ReLU]", false)] // grouped
    [InlineData("[Input(3, 201, 201)] [Conv(1, 32, Stride = 2)] [ReLU]", false)]                     // a 1x1 kernel
    [InlineData("[Input(40, 97, 97)] [Conv(3, 32, Stride = 2, Padding = 1)] [ReLU]", false)]          // 360 values per position: past im2col's blocks
    public void TakesTheStrideTwoConvolutionsThatWouldRunIm2ColInBlocks(string layers, bool expected)
    {
        string code = AssertCompilesCleanly($"using CnnGen;\nnamespace StrideTwo;\n{layers} [GlobalAvgPool] [Dense(4)]\npublic partial class Net {{ }}")
            .Sources.Single().SourceText.ToString();
        Assert.Equal(expected, code.Contains("StrideTwoConv.Forward(", StringComparison.Ordinal));
        if (expected) Assert.DoesNotContain("Im2ColBlocks.Forward(", code, StringComparison.Ordinal); // the direct kernel replaces im2col's blocks
    }
}
