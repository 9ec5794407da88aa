using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which convolutions inference runs as im2col and product in blocks of output rows (<c>Im2ColBlocks</c>): those whose
/// whole-image columns pass 1 MiB, with the fewest rows that make whole 32-column panels and then as many such groups
/// as fit 64 KiB, under <c>if (!ws.KeepForBackward)</c>; training and the other layers keep the whole image's columns
/// and one product. Stride-2 ones (the stems of ResNet-18 and MobileNetV2) run the direct stride-2 kernel instead
/// (<see cref="StrideTwoChoiceTests"/>).
/// </summary>
public class Im2ColBlockingTests
{
    private static string[] BlockCalls(string code) =>
        code.Split('\n').Where(line => line.Contains("Im2ColBlocks.Forward(", StringComparison.Ordinal)).Select(line => line.Trim()).ToArray();

    [Fact]
    public void TheStemsOfResNet18AndMobileNetV2TakeTheDirectStrideTwoKernelInstead()
    {
        Assert.Empty(BlockCalls(Generated(Networks.ResNet18)));
        Assert.Empty(BlockCalls(Generated(Networks.MobileNetV2)));
    }

    [Fact]
    public void OnlyInferenceRunsTheBlocksAndAWideLayerWithoutActivationPassesNone()
    {
        // 75 x 9,216 columns (2.7 MiB); 96 outputs a row: one row is a whole number of panels, 28 KiB, so 2 rows a block.
        string code = AssertCompilesCleanly("using CnnGen;\nnamespace Blocks;\n[Input(3, 96, 96)] [Conv(5, 8, Padding = 2)] [GlobalAvgPool] [Dense(4)]\npublic partial class Net { }")
            .Sources.Single().SourceText.ToString();
        string call = Assert.Single(BlockCalls(code));
        Assert.EndsWith("rowsPerBlock: 2, global::CnnGen.Kernels.FusedActivation.None);", call, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"if \(!ws\.KeepForBackward\)\s*\{\s*// Inference: im2col and the product 2 output rows at a time \(\[75, 192\] columns, 56 KiB"), code);
        // Training still lays out the whole image's columns and runs one product.
        Assert.Contains("global::CnnGen.Kernels.Im2Col.Pack(x, col, channels: 3, height: 96, width: 96, kernel: 5, stride: 1, padding: 2, outHeight: 96, outWidth: 96);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void SmallColumnsKeepTheWholeImagesProduct()
    {
        Assert.Empty(BlockCalls(Generated(Networks.LeNet5)));
        // 9 x 4,096 columns (144 KiB): not blocked.
        string code = AssertCompilesCleanly("using CnnGen;\nnamespace Blocks;\n[Input(1, 64, 64)] [Conv(3, 8, Padding = 1)] [Dense(4)]\npublic partial class Net { }")
            .Sources.Single().SourceText.ToString();
        Assert.Empty(BlockCalls(code));
    }
}
