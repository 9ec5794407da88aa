using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A convolution that inference runs through Winograd, followed (after its ReLU) by a 2x2 stride-2 max pool that alone
/// reads it, stores the pool's output in inference (<c>FusePools</c>): its Winograd calls, whole and in ranges, pass
/// <c>pool2x2: true</c> into the pool's output, sized a quarter of the layer's, and the pool's forward returns at once in
/// inference. Other pools, a shared output, a folded BatchNorm or a layer not on Winograd keep both layers. The code
/// compiles cleanly either way.
/// </summary>
public class WinogradPoolFusionTests
{
    private const string Returns = "if (!ws.KeepForBackward) return; // in inference conv2 stored these maxima as it stored its tiles";

    [Fact]
    public void TheConvolutionStoresThePoolsMaxima()
    {
        string text = CleanNetworkSource("[Input(3, 32, 32)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(2)] [Dense(10)]");
        Assert.Contains("var pooled = new global::System.Span<float>(ws._act_pool1);", text, StringComparison.Ordinal);
        // The whole call and the ranges of tiles a split pass runs both pool, into a quarter of the layer's values.
        Assert.Contains("bias, pooled.Slice(0, batch * 8192), ws._winogradPadded_conv2", text, StringComparison.Ordinal);
        Assert.Contains("outHeight: 32, outWidth: 32, relu: true, pool2x2: true);", text, StringComparison.Ordinal);
        Assert.Contains("firstTile: start, endTile: end, relu: true, pool2x2: true);", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
        // Training still runs the three layers.
        Assert.Contains("global::CnnGen.Kernels.Pooling.MaxPool2x2(inp, outp, ws._argmax_pool1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAReluTheConvolutionsOwnOutputIsPooled()
    {
        string text = CleanNetworkSource("[Input(16, 16, 16)] [Conv(3, 16, Padding = 1)] [Conv(3, 16, Padding = 1)] [MaxPool(2)] [Dense(4)]");
        Assert.Contains("outHeight: 16, outWidth: 16, pool2x2: true);", text, StringComparison.Ordinal);
        Assert.Contains(Returns, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a 3x3 pool", "[Input(3, 32, 32)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(3, Stride = 1, Padding = 1)] [Dense(10)]")]
    [InlineData("an average pool", "[Input(3, 32, 32)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [AvgPool(2)] [Dense(10)]")]
    [InlineData("an odd map", "[Input(3, 31, 31)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(2, CeilMode = true)] [Dense(10)]")]
    [InlineData("another layer reads the ReLU too", "[Input(32, 16, 16)] [Conv(3, 32, Padding = 1)] [ReLU(Name = \"r\")] [MaxPool(2)] [Conv(1, 4)] [Conv(2, 4, Stride = 2, From = \"r\")] [Add(\"conv2\")] [Dense(4)]")]
    [InlineData("a BatchNorm folded in", "[Input(3, 32, 32)] [Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [Dense(10)]")]
    [InlineData("a convolution not on Winograd", "[Input(3, 32, 32)] [Conv(3, 8, Padding = 1)] [ReLU] [MaxPool(2)] [Dense(10)]")]
    public void OtherwiseBothLayersRun(string what, string attributes)
    {
        Assert.NotEmpty(what);
        string text = CleanNetworkSource(attributes);
        Assert.DoesNotContain("pool2x2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("stored these maxima", text, StringComparison.Ordinal);
    }
}
