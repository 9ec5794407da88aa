using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>Where a [BatchNorm] may stand: CNN0023 (nothing to normalise), CNN0024 (twice in a row), and the sound placements.</summary>
public class BatchNormDiagnosticTests
{
    private const string Advice = "scale the data instead, or put the BatchNorm after a Conv or Dense layer";

    [Fact]
    public void CNN0023_FirstLayer() =>
        Error("[Input(1, 28, 28)] [[|BatchNorm|]] [Conv(3, 4)] [Dense(10)]\npublic partial class Net { }", "CNN0023",
            "bn1 (layer 1): no Conv or Dense layer comes before it, so it would only rescale the network input; " + Advice);

    [Fact]
    public void CNN0023_AfterOnlyAMaxPool() =>
        Error("""
            [Input(3, 16, 16)]
            [MaxPool(2)]
            [[|BatchNorm|]]
            [Dense(10)]
            public partial class Net { }
            """, "CNN0023", "bn1 (layer 2): no Conv or Dense layer comes before it, so it would only rescale output of pool1");

    [Theory]
    [InlineData("[Dropout(0.5f)] [ReLU] [[|BatchNorm|]]", "bn1 (layer 3): no Conv or Dense layer comes before it, so it would only rescale output of relu1")]
    [InlineData("[ReLU] [Dropout(0.25f)] [[|BatchNorm|]]", "bn1 (layer 3): no Conv or Dense layer comes before it, so it would only rescale output of dropout1")]
    [InlineData("[AvgPool(2)] [Tanh(Name = \"squash\")] [[|BatchNorm(Name = \"norm\")|]]", "norm (layer 3): no Conv or Dense layer comes before it, so it would only rescale output of squash")]
    [InlineData("[Maxout(2)] [[|BatchNorm|]]", "bn1 (layer 2): no Conv or Dense layer comes before it, so it would only rescale output of maxout1")]
    public void CNN0023_AfterActivationsDropoutOrPoolsOnly(string layers, string message) =>
        Error("[Input(4, 12, 12)] " + layers + " [Dense(3)]\npublic partial class Net { }", "CNN0023", message);

    [Fact]
    public void CNN0023_FrozenBatchNormFirst_IsNotAlsoCNN0022()
    {
        // Frozen = true is fine on a BatchNorm (it has parameters): only the placement is wrong.
        Error("[Input(1, 28, 28)] [[|BatchNorm(Frozen = true)|]] [Dense(10)]\npublic partial class Net { }", "CNN0023",
            "bn1 (layer 1): no Conv or Dense layer comes before it, so it would only rescale the network input");
    }

    [Fact]
    public void CNN0023_OnALaterLine_PointsAtTheBatchNorm() =>
        Error("""
            [Input(1, 28, 28)]
            [ReLU]
            [MaxPool(2)]     [[|BatchNorm|]]
            [Conv(3, 8)] [BatchNorm]
            [Dense(10)] [Softmax]
            public partial class Net { }
            """, "CNN0023", "bn1 (layer 3): no Conv or Dense layer comes before it, so it would only rescale output of pool1");

    [Fact]
    public void CNN0024_BatchNormTwiceAfterAConv() =>
        Warning("""
            [Input(1, 12, 12)]
            [Conv(3, 4)] [BatchNorm] [[|BatchNorm|]] [ReLU]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0024", "bn2 (layer 3): bn1 has already normalised these values; a second BatchNorm only adds parameters");

    [Fact]
    public void CNN0024_NamesTheFirstBatchNorm() =>
        Warning("[Input(1, 12, 12)] [Dense(8)] [BatchNorm(Name = \"norm\")] [[|BatchNorm(Frozen = true)|]]\npublic partial class Net { }",
            "CNN0024", "bn2 (layer 3): norm has already normalised these values");

    [Fact]
    public void CNN0024_NotForBatchNormsWithALayerBetween()
    {
        var run = TestDriver.Run(Header + "[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm] [ReLU] [BatchNorm] [Dense(3)]\npublic partial class Net { }");
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Single(run.Sources);
    }

    [Theory]
    [InlineData("after a conv", "[Conv(3, 4)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("after a dense layer", "[Dense(16)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("after a pool that follows a conv", "[Conv(3, 4)] [MaxPool(2)] [BatchNorm] [Dense(3)]")]
    [InlineData("after an activation and dropout that follow a conv", "[Conv(3, 4)] [ReLU] [Dropout(0.5f)] [BatchNorm] [Dense(3)]")]
    [InlineData("after maxout that follows a dense layer", "[Dense(8)] [Maxout(2)] [BatchNorm] [Dense(3)]")]
    [InlineData("right before Softmax", "[Conv(3, 4)] [Dense(3)] [BatchNorm] [Softmax]")]
    [InlineData("as the last layer", "[Conv(3, 4)] [BatchNorm]")]
    [InlineData("frozen", "[Conv(3, 4)] [BatchNorm(Frozen = true)] [ReLU] [Dense(3)]")]
    [InlineData("frozen, after a frozen conv", "[Conv(3, 4, Frozen = true)] [BatchNorm(Frozen = true)] [Dense(3, Frozen = true)]")]
    [InlineData("named", "[Conv(3, 4)] [BatchNorm(Name = \"norm_0\")] [Dense(3)]")]
    public void ValidPlacement_ReportsNothing(string what, string layers)
    {
        Assert.NotEmpty(what);
        var run = TestDriver.Run(Header + "[Input(2, 12, 12)] " + layers + "\npublic partial class Net { }");
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "Unexpected diagnostics: " + string.Join("; ", run.GeneratorDiagnostics));
        Assert.Single(run.Sources);
        Assert.Empty(run.OutputProblems);
    }

    [Fact]
    public void FrozenBatchNorm_IsNotCNN0022()
    {
        var run = TestDriver.Run(Header + "[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm(Frozen = true)] [ReLU(Frozen = true)] [Dense(3)]\npublic partial class Net { }");
        // Only the ReLU's Frozen is pointless.
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("CNN0022", d.Id);
        Assert.StartsWith("relu1 (layer 3):", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CNN0023_IsReportedForEveryMisplacedBatchNorm()
    {
        var run = TestDriver.Run(Header + "[Input(1, 12, 12)] [BatchNorm] [ReLU] [BatchNorm] [Conv(3, 4)] [BatchNorm] [Dense(3)]\npublic partial class Net { }");
        Assert.Equal(new[] { "CNN0023", "CNN0023" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Equal(new[] { "bn1 (layer 1)", "bn2 (layer 3)" },
            run.GeneratorDiagnostics.Select(d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Split(':')[0]));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void TwoBatchNormsAsTheFirstLayers()
    {
        // Neither has anything to normalise; bn1 normalised nothing, so "bn1 has already normalised these values" would be wrong.
        var run = TestDriver.Run(Header + "[Input(1, 12, 12)] [BatchNorm] [BatchNorm] [Dense(3)]\npublic partial class Net { }");
        Assert.Equal(new[] { "CNN0023", "CNN0023" }, run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.Empty(run.Sources);
    }
}
