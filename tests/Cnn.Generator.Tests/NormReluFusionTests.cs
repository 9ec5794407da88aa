using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A BatchNorm that no convolution takes in, with its ReLU, read only by a 1x1 convolution (DenseNet's pre-activation
/// layers) is applied by that convolution in inference as it reads the BatchNorm's input (<c>NormalizeProductInputs</c>):
/// the convolution calls <c>NormReluProduct.Forward</c> with the BatchNorm's scale and shift, whole and, in a split pass,
/// by ranges of rows (maps of 196 positions or more) or of filters (a convolution that averages its input first calls
/// <c>AveragePool2x2.ForwardNormalized</c> instead), and the BatchNorm's forward returns once it has its scale and shift. Training and the other shapes keep the layers as declared (a BatchNorm right after a convolution is
/// folded into it instead). The code compiles cleanly either way.
/// </summary>
public class NormReluFusionTests
{
    private const string Returns = "if (!ws.KeepForBackward) return; // in inference conv applies this scale and shift and relu to this layer's input as it reads it";

    [Fact]
    public void TheConvolutionNormalisesItsInputByRowsOfPositions()
    {
        string text = CleanNetworkSource("[Input(64, 16, 16)] [Conv(1, 64)] [Tanh(Name = \"t\")] [BatchNorm(Name = \"norm\")] [ReLU(Name = \"relu\")] [Conv(1, 32, Name = \"conv\")] [Dense(3)]");
        Assert.Contains("var normInput = new global::System.ReadOnlySpan<float>(ws._act_t);", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.NormReluProduct.Forward(operand, lanes, normInput.Slice(b * 16384, 16384), ws._scale_norm, ws._shift_norm, bias, " +
                        "outp.Slice(b * 8192, 8192), filters: 32, k: 64, positions: 256, firstFilter: 0, endFilter: 32, firstPosition: 0, endPosition: 256, " +
                        "global::CnnGen.Kernels.FusedActivation.None);", text, StringComparison.Ordinal);
        // One image over the threads: 16 rows of 16 positions, each range normalising only its own.
        Assert.Contains("operand, bias, 1, units: 16, block: 1);", text, StringComparison.Ordinal);
        Assert.Contains("firstFilter: 0, endFilter: 32, firstPosition: start * 16, endPosition: end * 16, global::CnnGen.Kernels.FusedActivation.None);", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
        // Training still normalises and rectifies the map itself.
        Assert.Contains("global::CnnGen.Kernels.BatchNorm.Apply(x, outp, batch, channels: 64, spatial: 256, ws._scale_norm, ws._shift_norm);", text, StringComparison.Ordinal);
    }

    [Fact]
    public void OnFewPositionsRangesOfFiltersNormaliseThemAll()
    {
        string text = CleanNetworkSource("[Input(256, 8, 8)] [Conv(1, 256)] [MaxPool(3, Stride = 1, Padding = 1, Name = \"p\")] [BatchNorm(Name = \"norm\")] [ReLU(Name = \"relu\")] " +
                                         "[Conv(1, 64, Bias = false, Name = \"conv\")] [BatchNorm] [ReLU] [Dense(3)]");
        Assert.Contains("var normInput = new global::System.ReadOnlySpan<float>(ws._act_p);", text, StringComparison.Ordinal);
        Assert.Contains("operand, bias, 1, units: 64, block: 32);", text, StringComparison.Ordinal);
        Assert.Contains("firstFilter: start, endFilter: end, firstPosition: 0, endPosition: 64, ws.Folded ? global::CnnGen.Kernels.FusedActivation.Relu : " +
                        "global::CnnGen.Kernels.FusedActivation.None);", text, StringComparison.Ordinal);
        // The BatchNorm after the convolution is folded, its ReLU applied as the product stores; with the fold the weights
        // are laid out with the filters in the lanes.
        Assert.Contains("bool lanes = !ws.KeepForBackward && ws.Folded && _filterLanesFromFold_conv;", text, StringComparison.Ordinal);
        Assert.Contains("var operand = lanes ? _filterLanes_conv : weight;", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
    }

    [Fact]
    public void AConvolutionThatAveragesItsInputFirstNormalisesItAsTheAverageReadsIt()
    {
        string text = CleanNetworkSource("[Input(64, 16, 16)] [Conv(1, 64)] [Tanh(Name = \"t\")] [BatchNorm(Name = \"norm\")] [ReLU(Name = \"relu\")] " +
                                         "[Conv(1, 32, Name = \"conv\")] [AvgPool(2, Name = \"pool\")] [Dense(3)]");
        Assert.Contains("var normInput = new global::System.ReadOnlySpan<float>(ws._act_t);", text, StringComparison.Ordinal);
        Assert.Contains("global::CnnGen.Kernels.AveragePool2x2.ForwardNormalized(normInput, averaged, planes: batch * 64, height: 16, width: 16, outHeight: 8, outWidth: 8, " +
                        "ws._scale_norm, ws._shift_norm, channels: 64);", text, StringComparison.Ordinal);
        // One image over the threads: ranges of channels, each normalised with its own scales and shifts.
        Assert.Contains("normInput.Slice(b * 16384, 16384), image, default, default, 1, units: 64, block: 1);", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._scale_norm, start, end - start), new global::System.ReadOnlySpan<float>(ws._shift_norm, start, end - start), " +
                        "channels: end - start);", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
        Assert.DoesNotContain("NormReluProduct", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpansionThatNormalisesItsInputIsNotComputedInsideTheDepthwiseLayer()
    {
        // The 1x1 expansion (96 x 105 x 105 values, large enough for ExpandDepthwise) reads relu's output, which inference
        // no longer writes: it normalises norm's input itself, and the depthwise layer reads the expansion's output.
        string text = CleanNetworkSource("[Input(16, 105, 105)] [Conv(1, 16)] [Tanh(Name = \"t\")] [BatchNorm(Name = \"norm\")] [ReLU(Name = \"relu\")] " +
                                         "[Conv(1, 96, Bias = false, Name = \"conv\")] [BatchNorm] [ReLU6] [Conv(3, 96, Stride = 2, Padding = 1, Groups = 96, Bias = false)] " +
                                         "[BatchNorm] [ReLU6] [Dense(5)]");
        Assert.Contains("var normInput = new global::System.ReadOnlySpan<float>(ws._act_t);", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
        Assert.DoesNotContain("ExpandDepthwise", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a ReLU6", "[Input(64, 16, 16)] [Conv(1, 64)] [Tanh] [BatchNorm] [ReLU6] [Conv(1, 32)] [Dense(3)]")]
    [InlineData("a 3x3 convolution", "[Input(64, 16, 16)] [Conv(1, 64)] [Tanh] [BatchNorm] [ReLU] [Conv(3, 32, Padding = 1)] [Dense(3)]")]
    [InlineData("a stride of 2", "[Input(64, 15, 15)] [Conv(1, 64)] [Tanh] [BatchNorm] [ReLU] [Conv(1, 32, Stride = 2)] [Dense(3)]")]
    [InlineData("another reader of the ReLU", "[Input(64, 16, 16)] [Conv(1, 64)] [Tanh] [BatchNorm] [ReLU(Name = \"r\")] [Conv(1, 32)] [Concat(\"r\")] [Dense(3)]")]
    [InlineData("a BatchNorm folded into the convolution before it", "[Input(64, 16, 16)] [Conv(1, 64)] [BatchNorm] [ReLU] [Conv(1, 32)] [Dense(3)]")]
    [InlineData("no ReLU", "[Input(64, 16, 16)] [Conv(1, 64)] [Tanh] [BatchNorm] [Conv(1, 32)] [Dense(3)]")]
    public void OtherwiseTheLayersRunAsDeclared(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("NormReluProduct", text, StringComparison.Ordinal);
        Assert.DoesNotContain("applies this scale and shift", text, StringComparison.Ordinal);
    }
}
