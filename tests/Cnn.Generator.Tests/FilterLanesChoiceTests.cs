using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which convolutions' inference products run with the filters in the vector lanes (<c>FilterLanes</c>,
/// <c>FilterLanesChoice</c>): in ResNet-18, layer4's convolutions on 7x7 (the stride-2 3x3, the three 512 -> 512 whose
/// Winograd starts at 2 images, the 1x1 stride-2 projection), layer3's stride-2 3x3 and 1x1 projection (depth 128) on
/// 14x14 and layer2's stride-2 3x3 on 28x28; not layer2's 1x1 projection (depth 64), not the Winograd layers that run
/// Winograd at one image, not maps past 28x28, not a layer without a folded BatchNorm or with filters that are not
/// whole panels of 32. A picked layer refolds (compares) its BatchNorm,
/// marks its layout stale on a change, lays it out in <c>PrepareFilterLanes</c>, and in a split pass hands ranges of
/// 32 filters to the filter-lane range method; the packed product stays for the other passes. In MobileNetV2, the 1x1
/// convolutions on 14x14 and 7x7 maps (their input is their columns), with filters in whole panels and a depth of 64 or more.
/// </summary>
public class FilterLanesChoiceTests
{
    private static readonly Lazy<string> ResNet18 = new(() => Generated(Networks.ResNet18));

    /// <summary>The layers whose per-image inference product is a filter-lane call, in order.</summary>
    private static string[] Picked(string code) =>
        Regex.Matches(code, @"FilterLanes\.Forward\(_filterLanes_(\w+), (?:col|x), bias, y,").Select(m => m.Groups[1].Value).ToArray();

    [Fact]
    public void ResNet18sLayer4AndTheStrideTwoConvolutionsOfLayer2And3RunWithTheFiltersInTheLanes()
    {
        string code = ResNet18.Value;
        Assert.Equal(["layer2_0_conv1", "layer3_0_conv1", "layer3_0_downsample_0", "layer4_0_conv1", "layer4_0_conv2", "layer4_0_downsample_0", "layer4_1_conv1", "layer4_1_conv2"],
            Picked(code));
        // Where the output rows are whole runs of 7 (and a 1x1 stride-2 layer has at most 8 panels), the product reads its
        // taps straight from the input, padded into the column buffer when the layer pads; layer4's projection (16 panels
        // over a 1x1 stride-2 input) keeps its columns.
        Assert.Contains("global::CnnGen.Kernels.DirectFilterLanes.Pad(x, col, channels: 64, height: 56, width: 56, padding: 1, firstChannel: 0, endChannel: 64);", code, StringComparison.Ordinal);
        Assert.Contains("DirectFilterLanes.Forward(_filterLanes_layer2_0_conv1, col, bias, y, channels: 64, height: 56, width: 56, filters: 128, kernel: 3, stride: 2, padding: 1, " +
                        "outHeight: 28, outWidth: 28, firstFilter: 0, endFilter: 128, activation);", code, StringComparison.Ordinal);
        Assert.Contains("DirectFilterLanes.Forward(_filterLanes_layer3_0_downsample_0, x, bias, y, channels: 128, height: 28, width: 28, filters: 256, kernel: 1, stride: 2, padding: 0, " +
                        "outHeight: 14, outWidth: 14, firstFilter: 0, endFilter: 256,", code, StringComparison.Ordinal);
        Assert.DoesNotContain("DirectFilterLanes.Pad(x, col, channels: 128, height: 28, width: 28, padding: 0", code, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.DirectFilterLanes.Forward(_filterLanes_layer4_0_conv2, col, bias, y, channels: 512, height: 7, width: 7, filters: 512, kernel: 3, stride: 1, " +
                        "padding: 1, outHeight: 7, outWidth: 7, firstFilter: 0, endFilter: 512, global::CnnGen.Kernels.FusedActivation.None);", code, StringComparison.Ordinal);
        Assert.Contains("DirectFilterLanes.Forward(_filterLanes_layer4_1_conv1, col, bias, y, channels: 512, height: 7, width: 7, filters: 512, kernel: 3, stride: 1, padding: 1, " +
                        "outHeight: 7, outWidth: 7, firstFilter: 0, endFilter: 512, activation);", code, StringComparison.Ordinal);
        Assert.Contains(" global::CnnGen.Kernels.FilterLanes.Forward(_filterLanes_layer4_0_downsample_0, col, bias, y, filters: 512, k: 256, positions: 49,", code, StringComparison.Ordinal);
        Assert.DoesNotContain("DirectFilterLanes.Forward(_filterLanes_layer4_0_downsample_0", code, StringComparison.Ordinal);
        Assert.Contains("DirectFilterLanes.Forward(_filterLanes_layer3_0_conv1, col, bias, y, channels: 128, height: 28, width: 28, filters: 256, kernel: 3, stride: 2, padding: 1, " +
                        "outHeight: 14, outWidth: 14,", code, StringComparison.Ordinal);
        // Only where the fold is in use and laid out; otherwise the packed product below, unchanged.
        Assert.Matches(new Regex(@"if \(!ws\.KeepForBackward && ws\.Folded && _filterLanesFromFold_layer4_0_conv2\)\s*\{\s*// Inference: the product with the filters in the vector lanes"), code);
        Assert.Contains("global::CnnGen.Kernels.Gemm.MultiplyBiasActivation(weight, col, y, bias, m: 512, n: 49, k: 4608); // + bias as it stores", code, StringComparison.Ordinal);
        // Not layer2's 1x1 projection (depth 64) nor the stride-1 convolutions of layer2 and layer3 (Winograd at one image).
        Assert.DoesNotContain("_filterLanes_layer2_0_downsample_0", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_filterLanes_layer3_0_conv2", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_filterLanes_layer2_1_conv1", code, StringComparison.Ordinal);
    }

    [Fact]
    public void APickedLayerRefoldsLaysOutItsFoldAndSplitsByPanels()
    {
        string code = ResNet18.Value;
        // Winograd and filter-lane layer: both marked stale by a change of the fold.
        Assert.Contains(") { _winogradFromFold_layer4_1_conv1 = false; _filterLanesFromFold_layer4_1_conv1 = false; } // layer4.1.bn1 into layer4.1.conv1", code, StringComparison.Ordinal);
        Assert.Contains(") _filterLanesFromFold_layer4_0_downsample_0 = false; // layer4.0.downsample.1 into layer4.0.downsample.0", code, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.BatchNorm.Fold(", code, StringComparison.Ordinal); // the others still fold without comparing
        Assert.Contains("_network.PrepareFilterLanes();", code, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.FilterLanes.Layout(new global::System.ReadOnlySpan<float>(_folded, ", code, StringComparison.Ordinal);
        Assert.Contains("_filterLanes_layer4_1_conv2, filters: 512, k: 4608);", code, StringComparison.Ordinal);
        // The padding by ranges of input channels, then the product by ranges of panels, from the padded input, where the
        // fold is laid out; elsewhere (training, no fold) the columns laid out once, by ranges of channels.
        Assert.Contains("if (!ws.KeepForBackward && ws.Folded && _filterLanesFromFold_layer4_0_conv2) // each range: ",
            code, StringComparison.Ordinal);
        Assert.Contains("var padded = new global::System.Span<float>(ws._col_layer4_0_conv2, 0, 41472);", code, StringComparison.Ordinal);
        Assert.Contains("GeneratedPasses.RunSplit(_FilterLanesPad_layer4_0_conv2 ??= FilterLanesPad_layer4_0_conv2, ws, x, padded, default, default, 1, units: 512, block: 1);", code, StringComparison.Ordinal);
        Assert.Contains("GeneratedPasses.RunSplit(_FilterLanesFilters_layer4_0_conv2 ??= FilterLanesFilters_layer4_0_conv2, ws, padded, outp.Slice(b * 25088, 25088), weight, bias, 1, units: 512, block: 32);", code, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.DirectFilterLanes.Pad(inp, outp, channels: 512, height: 7, width: 7, padding: 1, firstChannel: start, endChannel: end);", code, StringComparison.Ordinal);
        Assert.Contains("GeneratedPasses.RunSplit(_FilterLanesFilters_layer4_0_downsample_0 ??= FilterLanesFilters_layer4_0_downsample_0, ws, col, ", code, StringComparison.Ordinal);
        Assert.Contains("GeneratedPasses.RunSplit(_ForwardFilters_layer4_0_conv2 ??= ForwardFilters_layer4_0_conv2, ws, col, outp.Slice(b * 25088, 25088), weight, bias, 1, units: 512, block: 32);", code, StringComparison.Ordinal);
        Assert.Contains("DirectFilterLanes.Forward(_filterLanes_layer4_1_conv1, inp, bias, outp, channels: 512, height: 7, width: 7, filters: 512, kernel: 3, stride: 1, padding: 1, " +
                        "outHeight: 7, outWidth: 7, firstFilter: start, endFilter: end, " +
                        "ws.Folded ? global::CnnGen.Kernels.FusedActivation.Relu : global::CnnGen.Kernels.FusedActivation.None);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStemsRunTheDirectStrideTwoKernelSoTheirFiltersAreNotLaidOutInLanes()
    {
        string code = ResNet18.Value;
        Assert.DoesNotContain("ForwardLanes", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_filterLanes_conv1", code, StringComparison.Ordinal);
        Assert.DoesNotContain("ForwardLanes", Generated(Networks.MobileNetV2), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(64, 27, 27)] [Conv(3, 64, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]", true, true)]   // rows of 14, padded into the columns' buffer
    [InlineData("[Input(64, 29, 29)] [Conv(3, 64, Stride = 2, Bias = false)] [BatchNorm] [ReLU]", true, false)]               // rows of 14, no padding: the input itself
    [InlineData("[Input(64, 25, 25)] [Conv(3, 64, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]", false, true)]  // rows of 13: not whole runs of 7
    [InlineData("[Input(128, 27, 27)] [Conv(1, 256, Stride = 2, Bias = false)] [BatchNorm]", true, false)]                    // 1x1 stride 2, 8 panels
    [InlineData("[Input(128, 27, 27)] [Conv(1, 288, Stride = 2, Bias = false)] [BatchNorm]", false, false)]                   // 1x1 stride 2, 9 panels
    public void ReadsTheTapsStraightFromTheInputWhereRowsAreWholeRunsOfSeven(string layers, bool direct, bool padded)
    {
        string code = AssertCompilesCleanly($"using CnnGen;\nnamespace DirectLanes;\n{layers} [GlobalAvgPool] [Dense(4)]\npublic partial class Net {{ }}")
            .Sources.Single().SourceText.ToString();
        Assert.Contains("PrepareFilterLanes", code, StringComparison.Ordinal); // the filter-lane product in either case
        Assert.Equal(direct, code.Contains("DirectFilterLanes.Forward(_filterLanes_", StringComparison.Ordinal));
        Assert.Equal(!direct, code.Contains(" global::CnnGen.Kernels.FilterLanes.Forward(_filterLanes_", StringComparison.Ordinal));
        Assert.Equal(direct && padded, code.Contains("DirectFilterLanes.Pad(", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[Input(3, 97, 97)] [Conv(7, 32, Padding = 3, Bias = false)] [BatchNorm] [ReLU]", true)]   // blocks of 1 row of 97 positions
    [InlineData("[Input(3, 97, 97)] [Conv(7, 16, Padding = 3, Bias = false)] [BatchNorm] [ReLU]", false)]  // filters not whole panels of 32
    [InlineData("[Input(3, 97, 97)] [Conv(7, 32, Padding = 3)] [ReLU]", false)]                            // no folded BatchNorm
    [InlineData("[Input(3, 97, 97)] [Conv(7, 32, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]", false)] // stride 2: the direct kernel
    [InlineData("[Input(3, 225, 225)] [Conv(3, 32, Padding = 1, Bias = false)] [BatchNorm] [ReLU6]", false)] // blocks of 2 rows of 225 = 450 positions
    [InlineData("[Input(3, 41, 41)] [Conv(7, 32, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]", false)]  // columns too small for blocks (whole-image lanes instead)
    public void PicksBlocksInLanesWhereItMeasuredFaster(string layers, bool expected)
    {
        string code = AssertCompilesCleanly($"using CnnGen;\nnamespace BlockLanes;\n{layers} [GlobalAvgPool] [Dense(4)]\npublic partial class Net {{ }}")
            .Sources.Single().SourceText.ToString();
        Assert.Equal(expected, code.Contains("Im2ColBlocks.ForwardLanes(", StringComparison.Ordinal));
        if (expected) Assert.Contains("PrepareFilterLanes", code, StringComparison.Ordinal);
    }

    [Fact]
    public void MobileNetV2sOneByOneConvolutionsOnSmallMapsReadTheirInputAsColumns()
    {
        string code = Generated(Networks.MobileNetV2);
        var picked = Picked(code);
        // The 22 1x1 layers on 14x14 and 7x7: features.7's projection, the expansions and projections of features.8 to
        // 17 and features.18's 1x1 to 1280; not features.7's expansion (on 28x28) nor anything on a larger map.
        Assert.Contains("features_8_conv_0_0", picked);
        Assert.Contains("features_11_conv_2", picked);
        Assert.Contains("features_15_conv_0_0", picked);
        Assert.Contains("features_18_0", picked);
        Assert.DoesNotContain("features_7_conv_0_0", picked);
        Assert.DoesNotContain("features_6_conv_2", picked);
        Assert.Contains("FilterLanes.Forward(_filterLanes_features_15_conv_0_0, x, bias, y, filters: 960, k: 160, positions: 49,", code, StringComparison.Ordinal);
        Assert.Contains("FilterLanes.Forward(_filterLanes_features_15_conv_2, x, bias, y, filters: 160, k: 960, positions: 49,", code, StringComparison.Ordinal);
        Assert.Equal(22, picked.Length);
        Assert.All(picked, p => Assert.Matches(@"^features_(7_conv_2|(8|9|1[0-7])_conv_(0_0|2)|18_0)$", p));
    }

    [Fact]
    public void NetworksWithoutSuchLayersAreUnchanged()
    {
        Assert.DoesNotContain("FilterLanes", Generated(Networks.LeNet5BatchNorm), StringComparison.Ordinal);
        Assert.DoesNotContain("FilterLanes", Generated(Networks.Vgg16), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(256, 13, 13)] [Conv(3, 512, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]", true)]   // layer4's stride-2 shape
    [InlineData("[Input(256, 13, 13)] [Conv(1, 512, Stride = 2)] [BatchNorm]", true)]                        // depth 256: 1.13x
    [InlineData("[Input(128, 27, 27)] [Conv(1, 256, Stride = 2)] [BatchNorm]", true)]                        // depth 128: 1.07x
    [InlineData("[Input(64, 55, 55)] [Conv(1, 128, Stride = 2)] [BatchNorm]", false)]                        // depth 64: 0.97x
    [InlineData("[Input(64, 55, 55)] [Conv(3, 128, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]", true)]    // layer2.0.conv1's shape: 784 positions
    [InlineData("[Input(64, 59, 59)] [Conv(3, 128, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]", false)]   // 900 positions
    [InlineData("[Input(256, 13, 13)] [Conv(3, 512, Stride = 2, Padding = 1)] [ReLU]", false)]               // no folded BatchNorm
    [InlineData("[Input(256, 13, 13)] [Conv(3, 496, Stride = 2, Padding = 1)] [BatchNorm]", false)]          // filters not whole panels of 32
    [InlineData("[Input(64, 39, 39)] [Conv(3, 128, Stride = 2, Padding = 1)] [BatchNorm]", true)]            // 400 positions
    [InlineData("[Input(512, 7, 7)] [Conv(3, 512, Padding = 1)] [BatchNorm]", true)]                         // Winograd from 2 images
    [InlineData("[Input(256, 14, 14)] [Conv(3, 256, Padding = 1)] [BatchNorm]", false)]                      // Winograd at one image
    [InlineData("[Input(512, 7, 7)] [Conv(1, 512)] [BatchNorm]", true)]                                      // 1x1 stride 1 on 7x7: its input is the columns
    [InlineData("[Input(64, 14, 14)] [Conv(1, 384, Bias = false)] [BatchNorm] [ReLU6]", true)]               // MobileNetV2's 14x14 expansion, depth 64
    [InlineData("[Input(32, 14, 14)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6]", false)]              // depth 32
    [InlineData("[Input(32, 28, 28)] [Conv(1, 192, Bias = false)] [BatchNorm] [ReLU6]", false)]              // 784 positions: 0.98x
    [InlineData("[Input(160, 7, 7)] [Conv(1, 80, Bias = false)] [BatchNorm]", false)]                        // filters not whole panels of 32
    [InlineData("[Input(160, 7, 7)] [Conv(1, 960)] [ReLU6]", false)]                                         // no folded BatchNorm
    public void PicksTheLayersWhereItMeasuredFaster(string layers, bool expected)
    {
        string code = AssertCompilesCleanly($"using CnnGen;\nnamespace Lanes;\n{layers} [GlobalAvgPool] [Dense(4)]\npublic partial class Net {{ }}")
            .Sources.Single().SourceText.ToString();
        Assert.Equal(expected ? 1 : 0, Picked(code).Length);
        if (!expected) Assert.DoesNotContain("PrepareFilterLanes", code, StringComparison.Ordinal);
    }
}
