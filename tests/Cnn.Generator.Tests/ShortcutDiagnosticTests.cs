using System.Globalization;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;

namespace CnnGen.Generator.Tests;

/// <summary>What an [Add("layer")] may name and join: CNN0025 (no such earlier layer), CNN0026 (different shapes),
/// CNN0006 for a null name, and the sound shortcuts that report nothing.</summary>
public class ShortcutDiagnosticTests
{
    // ---- CNN0025: the name is not a layer before the Add --------------------------------------------------

    [Theory]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Add(\"nope\")|]]", "add1 (layer 3): 'nope' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Add(\"ReLU1\")|]]", "add1 (layer 3): 'ReLU1' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Add(\"\")|]]", "add1 (layer 3): '' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Add(\"input\")|]]", "add1 (layer 3): 'input' is not a layer before it; name one of: conv1, relu1")]
    public void CNN0025_UnknownName(string layers, string message) =>
        Error("[Input(1, 8, 8)] " + layers + "\npublic partial class Net { }", "CNN0025", message);

    [Fact]
    public void CNN0025_ALaterLayer() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [[|Add("relu1")|]] [ReLU]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0025", "add1 (layer 2): 'relu1' is not a layer before it; name one of: conv1");

    [Fact]
    public void CNN0025_ItsOwnName() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU]
            [[|Add("add1")|]]
            public partial class Net { }
            """, "CNN0025", "add1 (layer 3): 'add1' is not a layer before it; name one of: conv1, relu1");

    [Fact]
    public void CNN0025_ItsOwnCustomName() =>
        Error("[Input(1, 8, 8)] [Dense(4)] [[|Add(\"join\", Name = \"join\")|]]\npublic partial class Net { }", "CNN0025",
            "join (layer 2): 'join' is not a layer before it; name one of: dense1");

    [Fact]
    public void CNN0025_AddAsTheFirstLayer() =>
        Error("[Input(1, 8, 8)] [[|Add(\"conv1\")|]] [Conv(3, 4)]\npublic partial class Net { }", "CNN0025",
            "add1 (layer 1): 'conv1' is not a layer before it; name one of: none (an Add cannot be the first layer)");

    [Fact]
    public void CNN0025_TheDefaultNameOfALayerGivenAName() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1, Name = "stem")] [ReLU]
            [[|Add("conv1")|]]
            public partial class Net { }
            """, "CNN0025", "add1 (layer 3): 'conv1' is not a layer before it; name one of: stem, relu1");

    [Fact]
    public void CNN0025_ListsOnlyTheLayersBeforeIt_AndLaterAddsAreNotCheckedAgainstABrokenChain()
    {
        var d = Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)]
            [[|Add("relu2")|]] [ReLU] [Add("relu1")]
            public partial class Net { }
            """, "CNN0025", "add1 (layer 4): 'relu2' is not a layer before it; name one of: conv1, relu1, conv2");
        Assert.EndsWith("conv1, relu1, conv2", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CNN0025_TheFirstLayerOfTwoWithTheSameName()
    {
        // A duplicate name is CNN0017; the Add is not also reported.
        var run = TestDriver.Run(Header + "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Name = \"x\")] [ReLU(Name = \"x\")] [Add(\"x\")]\npublic partial class Net { }");
        Assert.Equal(new[] { "CNN0017" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
    }

    // ---- CNN0026: the shapes differ ----------------------------------------------------------------------

    [Fact]
    public void CNN0026_ChannelMismatch() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU]
            [Conv(3, 8, Padding = 1)] [[|Add("relu1")|]]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 4): cannot add the output of relu1 (4x8x8) to its input, the output of conv2 (8x8x8); a shortcut needs equal shapes");

    [Fact]
    public void CNN0026_SpatialMismatchAfterAPool() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [MaxPool(2)]
            [Conv(3, 4, Padding = 1)] [BatchNorm] [[|Add("relu1")|]]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 6): cannot add the output of relu1 (4x8x8) to its input, the output of bn1 (4x4x4); a shortcut needs equal shapes");

    [Fact]
    public void CNN0026_FlatAgainstAMapOfAsManyValues() =>
        Error("""
            [Input(1, 4, 4)]
            [Conv(3, 4, Padding = 1)] [ReLU]
            [Dense(64)] [[|Add("relu1")|]]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 4): cannot add the output of relu1 (4x4x4) to its input, the output of dense1 (64x1x1); a shortcut needs equal shapes");

    /// <summary>The example the README quotes for CNN0026, word for word.</summary>
    [Fact]
    public void CNN0026_TheReadmeExample() =>
        Error("""
            [Input(3, 12, 12)]
            [Conv(3, 16)] [ReLU]
            [Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [Dropout(0.1f)]
            [Conv(3, 32, Padding = 1)] [[|Add("relu1")|]]
            [Dense(10)] [Softmax]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 9): cannot add the output of relu1 (16x10x10) to its input, the output of conv3 (32x5x5); a shortcut needs equal shapes");

    [Fact]
    public void CNN0026_AfterAnotherAdd() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add("relu1")]
            [Conv(3, 2, Padding = 1)] [[|Add("add1")|]]
            public partial class Net { }
            """, "CNN0026", "add2 (layer 6): cannot add the output of add1 (4x8x8) to its input, the output of conv3 (2x8x8)");

    [Fact]
    public void AnAddNamingARejectedBatchNorm_ReportsOnlyTheBatchNorm() =>
        // bn1 has nothing to normalise (CNN0023); the Add that names it is not reported as well.
        Error("[Input(1, 8, 8)] [ReLU] [[|BatchNorm|]] [Add(\"bn1\")] [Dense(3)]\npublic partial class Net { }", "CNN0023",
            "bn1 (layer 2): no Conv or Dense layer comes before it");

    // ---- CNN0006: a null name ----------------------------------------------------------------------------

    [Fact]
    public void CNN0006_NullSource() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [[|Add(null)|]]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0006", "[Add] argument is null; name an earlier layer, e.g. [Add(\"relu1\")]");

    [Fact]
    public void CNN0006_NullSourceAsTheFirstLayer_IsNotAlsoCNN0025() =>
        Error("[Input(1, 8, 8)] [[|Add(null)|]] [Dense(3)]\npublic partial class Net { }", "CNN0006", "[Add] argument");

    [Fact]
    public void CNN0006_NullSourceAlone_IsNotAlsoCNN0016() =>
        Error("[Input(1, 8, 8)] [[|Add(null)|]]\npublic partial class Net { }", "CNN0006", "[Add] argument");

    // ---- Frozen on an Add ---------------------------------------------------------------------------------

    [Fact]
    public void CNN0022_FrozenAdd() =>
        Warning("[Input(1, 8, 8)] [Dense(4)] [Tanh] [[|Add(\"dense1\", Frozen = true)|]]\npublic partial class Net { }", "CNN0022",
            "add1 (layer 3):", "Frozen = true changes nothing");

    // ---- Sound shortcuts ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("source directly before: y = 2x", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("source the first layer, which starts the Add's input chain", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"conv1\")] [Dense(3)]")]
    [InlineData("source a layer without parameters before every trainable one", "[Input(2, 8, 8)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("source a dense layer of as many units", "[Input(1, 8, 8)] [Dense(8)] [ReLU] [Dense(8)] [Add(\"dense1\")] [Dense(3)]")]
    [InlineData("source given by its custom name", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Name = \"stem\")] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"stem\")] [Dense(3)]")]
    [InlineData("the Add given a custom name", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\", Name = \"skip\")] [ReLU] [Dense(3)]")]
    [InlineData("two Adds sharing one source", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("nested shortcuts", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu2\")] [ReLU] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("an Add whose source is an Add", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [Add(\"conv1\")] [Tanh] [Add(\"add1\")] [Dense(3)]")]
    [InlineData("right before Softmax", "[Input(1, 8, 8)] [Dense(5)] [Tanh] [Dense(5)] [Add(\"tanh1\")] [Softmax]")]
    [InlineData("as the last layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")]")]
    [InlineData("source a pool", "[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [MaxPool(2)] [Conv(3, 4, Padding = 1)] [Dropout(0.5f)] [Add(\"pool1\")] [Dense(3)]")]
    [InlineData("after a strided convolution", "[Input(2, 9, 9)] [Conv(3, 4, Stride = 2, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("across a frozen layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Frozen = true)] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm(Frozen = true)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("a 1x1 map and a dense layer of as many units", "[Input(1, 3, 3)] [Conv(3, 6)] [Tanh] [Dense(6)] [Add(\"tanh1\")] [Dense(2)]")]
    public void ValidShortcut_ReportsNothing(string what, string attributes)
    {
        Assert.NotEmpty(what);
        var run = TestDriver.Run(Header + attributes + "\npublic partial class Net { }");
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "Unexpected diagnostics: " + string.Join("; ", run.GeneratorDiagnostics));
        Assert.Single(run.Sources);
        Assert.Empty(run.OutputProblems);
    }
}
