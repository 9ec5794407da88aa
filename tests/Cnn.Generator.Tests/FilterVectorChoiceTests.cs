using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Which direct convolutions run in inference with their 16 filters in the vector lanes (<c>DirectFilterVector</c>,
/// <c>FilterVectorChoice</c>): LeNet-5's second layer (6 -> 16, 5x5, rows of 10, 150 taps), every image of the call in
/// one call, with a cache of laid-out weights in the workspace; not its first layer (6 filters), not rows of 14, not a
/// layer of 72 taps, not a layer of 32 filters, not a Winograd layer. Training keeps its own path.
/// </summary>
public class FilterVectorChoiceTests
{
    private static string Generate(string attributes) =>
        AssertCompilesCleanly($"using CnnGen;\nnamespace Demo;\n{attributes}\npublic partial class Net {{ }}").Sources.Single().SourceText.ToString();

    [Fact]
    public void LeNet5sSecondLayerRunsWithItsFiltersInTheLanes()
    {
        string code = Generated(Networks.LeNet5);
        Assert.Contains("global::CnnGen.Kernels.DirectFilterVector.Forward(inp.Slice(0, batch * 1176), batch, weight, bias, fused.Slice(0, batch * 1600), default, " +
                        "new global::System.Span<float>(ws._filterVector_conv2, 0, 4801), channels: 6, height: 14, width: 14, kernel: 5, padding: 0, outHeight: 10, outWidth: 10, relu: true);",
            code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _filterVector_conv2, 4801L, batch);", code, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(code, @"DirectFilterVector\.Forward\("));
        // Training keeps its columns for backward, image by image.
        Assert.Contains("global::CnnGen.Kernels.Im2Col.Pack(x, col, channels: 6, height: 14, width: 14, kernel: 5, stride: 1, padding: 0, outHeight: 10, outWidth: 10);", code, StringComparison.Ordinal);
    }

    [Fact]
    public void TheChoiceTakesNoMoreTapsThanTheKernel() =>
        Assert.Equal(CnnGen.Kernels.DirectFilterVector.MaxTaps, CnnGen.Generator.Analysis.FilterVectorChoice.MaxTaps);

    [Theory]
    [InlineData("[Input(16, 14, 14)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(10)]", false)] // rows of 14
    [InlineData("[Input(8, 10, 10)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(10)]", false)] // 72 taps
    [InlineData("[Input(16, 12, 12)] [Conv(3, 32, Padding = 1)] [ReLU] [Dense(10)]", false)] // 32 filters
    [InlineData("[Input(16, 12, 12)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(10)]", false)] // 3x3 on 12x12: Winograd's
    [InlineData("[Input(16, 12, 12)] [Conv(5, 16, Padding = 2)] [ReLU] [Dense(10)]", true)] // rows of 12, 400 taps
    [InlineData("[Input(8, 8, 8)] [Conv(5, 16, Padding = 2, Bias = false)] [BatchNorm] [ReLU] [Dense(10)]", true)] // a folded BatchNorm, 200 taps
    [InlineData("[Input(8, 11, 11)] [Conv(4, 16)] [ReLU] [Dense(10)]", true)] // exactly 128 taps, rows of 8
    [InlineData("[Input(7, 12, 12)] [Conv(4, 16, Padding = 1)] [ReLU] [Dense(10)]", false)] // 112 taps
    [InlineData("[Input(6, 16, 16)] [Conv(5, 16)] [ReLU] [Dense(10)]", true)] // rows of exactly 12
    [InlineData("[Input(6, 17, 17)] [Conv(5, 16)] [ReLU] [Dense(10)]", false)] // rows of 13
    public void PicksSixteenFiltersOnRowsOfAtMostTwelveFromAtLeast128Taps(string attributes, bool picked)
    {
        string code = Generate(attributes);
        Assert.Equal(picked, code.Contains("DirectFilterVector.Forward(", StringComparison.Ordinal));
    }
}
