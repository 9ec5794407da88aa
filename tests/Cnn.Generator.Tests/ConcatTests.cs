using System.Globalization;
using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// [Concat("layer")], the dense connection (DenseNet): what it may name and join (CNN0025, CNN0027, CNN0006) and the sound
/// joins that report nothing; the compile-time facts (channels add up, and so do the parameters of the layer after);
/// inference never fuses or folds away an output a Concat reads; and the generated code runs: each Concat's output is its
/// input followed by its source's output, the fused pass gives what the unfused pass gives, and the gradients are the loss's.
/// </summary>
public class ConcatTests
{
    // ---- CNN0025: the name is not a layer before the Concat -----------------------------------------------

    [Theory]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(\"nope\")|]]", "concat1 (layer 3): 'nope' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(\"ReLU1\")|]]", "concat1 (layer 3): 'ReLU1' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(\"\")|]]", "concat1 (layer 3): '' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(\"input\")|]]", "concat1 (layer 3): 'input' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(\"conv1.weight\")|]]", "concat1 (layer 3): 'conv1.weight' is not a layer before it; name one of: conv1, relu1")]
    public void CNN0025_UnknownName(string layers, string message) =>
        Error("[Input(1, 8, 8)] " + layers + "\npublic partial class Net { }", "CNN0025", message);

    [Fact]
    public void CNN0025_ALaterLayer() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [[|Concat("relu1")|]] [ReLU]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0025", "concat1 (layer 2): 'relu1' is not a layer before it; name one of: conv1");

    [Fact]
    public void CNN0025_ItsOwnName() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU]
            [[|Concat("concat1")|]]
            public partial class Net { }
            """, "CNN0025", "concat1 (layer 3): 'concat1' is not a layer before it; name one of: conv1, relu1");

    [Fact]
    public void CNN0025_ItsOwnCustomName() =>
        Error("[Input(1, 8, 8)] [Dense(4)] [[|Concat(\"join\", Name = \"join\")|]]\npublic partial class Net { }", "CNN0025",
            "join (layer 2): 'join' is not a layer before it; name one of: dense1");

    [Fact]
    public void CNN0025_ConcatAsTheFirstLayer() =>
        Error("[Input(1, 8, 8)] [[|Concat(\"conv1\")|]] [Conv(3, 4)]\npublic partial class Net { }", "CNN0025",
            "concat1 (layer 1): 'conv1' is not a layer before it; name one of: none (a Concat cannot be the first layer)");

    [Fact]
    public void CNN0025_AddAsTheFirstLayer_StillSaysAnAdd() =>
        Error("[Input(1, 8, 8)] [[|Add(\"conv1\")|]] [Conv(3, 4)]\npublic partial class Net { }", "CNN0025",
            "add1 (layer 1): 'conv1' is not a layer before it; name one of: none (an Add cannot be the first layer)");

    [Fact]
    public void CNN0025_TheDefaultNameOfALayerGivenAName() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1, Name = "stem")] [ReLU]
            [[|Concat("conv1")|]]
            public partial class Net { }
            """, "CNN0025", "concat1 (layer 3): 'conv1' is not a layer before it; name one of: stem, relu1");

    [Fact]
    public void CNN0025_ConcatsAndAddsCountTheirNamesApart() =>
        // The first Concat is concat1 even after an Add, and add2 does not exist yet.
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [Add("conv1")] [Concat("add1")]
            [[|Concat("add2")|]]
            public partial class Net { }
            """, "CNN0025", "concat2 (layer 4): 'add2' is not a layer before it; name one of: conv1, add1, concat1");

    [Fact]
    public void CNN0025_OnlyTheFirstBrokenJoinIsReported()
    {
        // After the broken Concat the shapes are unknown: the Add and the Concat after it are not checked against them.
        var d = Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)]
            [[|Concat("relu2")|]] [ReLU] [Add("relu1")] [Concat("conv1")]
            public partial class Net { }
            """, "CNN0025", "concat1 (layer 4): 'relu2' is not a layer before it; name one of: conv1, relu1, conv2");
        Assert.EndsWith("conv1, relu1, conv2", d.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CNN0025_NotAlsoReportedForAConcatNamingADuplicateName()
    {
        var run = TestDriver.Run(Header + "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Name = \"x\")] [ReLU(Name = \"x\")] [Concat(\"x\")]\npublic partial class Net { }");
        Assert.Equal(new[] { "CNN0017" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.Sources);
    }

    // ---- CNN0027: the heights or widths differ ------------------------------------------------------------

    [Fact]
    public void CNN0027_AfterAPool() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [MaxPool(2)]
            [Conv(3, 6, Padding = 1)] [BatchNorm] [[|Concat("relu1")|]]
            public partial class Net { }
            """, "CNN0027", "concat1 (layer 6): cannot join the output of relu1 (4x8x8) to its input, the output of bn1 (6x4x4); the heights and widths must be equal");

    [Fact]
    public void CNN0027_AfterAnUnpaddedConvolution() =>
        Error("""
            [Input(2, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4)] [[|Concat("relu1")|]]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0027", "concat1 (layer 4): cannot join the output of relu1 (4x8x8) to its input, the output of conv2 (4x6x6); the heights and widths must be equal");

    [Fact]
    public void CNN0027_TheSameShapeExceptTheWidth() =>
        // A 1x1 kernel with stride 2 keeps a height of 1 and halves a width of 5 to 3.
        Error("""
            [Input(1, 1, 5)]
            [ReLU] [Conv(1, 2, Stride = 2)] [[|Concat("relu1")|]]
            public partial class Net { }
            """, "CNN0027", "concat1 (layer 3): cannot join the output of relu1 (1x1x5) to its input, the output of conv1 (2x1x3); the heights and widths must be equal");

    [Fact]
    public void CNN0027_FlatAgainstAMapOfAsManyValues() =>
        Error("""
            [Input(1, 4, 4)]
            [Conv(3, 4, Padding = 1)] [ReLU]
            [Dense(64)] [[|Concat("relu1")|]]
            public partial class Net { }
            """, "CNN0027", "concat1 (layer 4): cannot join the output of relu1 (4x4x4) to its input, the output of dense1 (64x1x1); the heights and widths must be equal");

    [Fact]
    public void CNN0027_AfterAnAveragePool_SourceBeforeEveryTrainableLayer() =>
        Error("[Input(3, 8, 8)] [Tanh] [AvgPool(2)] [[|Concat(\"tanh1\")|]] [Dense(2)]\npublic partial class Net { }", "CNN0027",
            "concat1 (layer 3): cannot join the output of tanh1 (3x8x8) to its input, the output of pool1 (3x4x4)");

    [Fact]
    public void CNN0027_AfterAnotherConcat() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat("relu1")]
            [MaxPool(2)] [[|Concat("concat1")|]]
            public partial class Net { }
            """, "CNN0027", "concat2 (layer 6): cannot join the output of concat1 (8x8x8) to its input, the output of pool1 (8x4x4)");

    [Fact]
    public void CNN0026_NotCNN0027_ForAnAddAfterAConcat() =>
        // The Concat doubles the channels; an Add of its input's source is then a shape mismatch (CNN0026).
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Concat("relu1")] [[|Add("relu1")|]]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 4): cannot add the output of relu1 (4x8x8) to its input, the output of concat1 (8x8x8); a shortcut needs equal shapes");

    [Fact]
    public void CNN0018_AConcatWhoseOutputIsTooLarge() =>
        // 512 x 1024 x 1024 = 2^29 values: one Concat makes 2^30, the most a tensor may hold; a second makes 3 x 2^29.
        Error("[Input(512, 1024, 1024)] [ReLU] [Concat(\"relu1\")] [[|Concat(\"relu1\")|]]\npublic partial class Net { }", "CNN0018",
            "concat2 (layer 3): the output has 1610612736 values, more than this library handles (1073741824)");

    [Fact]
    public void AConcatNamingARejectedBatchNorm_ReportsOnlyTheBatchNorm() =>
        Error("[Input(1, 8, 8)] [ReLU] [[|BatchNorm|]] [Concat(\"bn1\")] [Dense(3)]\npublic partial class Net { }", "CNN0023",
            "bn1 (layer 2): no Conv or Dense layer comes before it");

    // ---- CNN0006: a null name ------------------------------------------------------------------------------

    [Fact]
    public void CNN0006_NullSource() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(null)|]]
            [Dense(3)]
            public partial class Net { }
            """, "CNN0006", "[Concat] argument is null; name an earlier layer, e.g. [Concat(\"relu1\")]");

    [Fact]
    public void CNN0006_NullSourceAsTheFirstLayer_IsNotAlsoCNN0025() =>
        Error("[Input(1, 8, 8)] [[|Concat(null)|]] [Dense(3)]\npublic partial class Net { }", "CNN0006", "[Concat] argument is null");

    [Fact]
    public void CNN0006_NullSourceAlone_IsNotAlsoCNN0016() =>
        Error("[Input(1, 8, 8)] [[|Concat(null)|]]\npublic partial class Net { }", "CNN0006", "[Concat] argument is null");

    [Fact]
    public void CNN0006_ANonConstantSource() =>
        Error("""
            public static class Names { public static string Source = "relu1"; }
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [[|Concat(Names.Source)|]]
            public partial class Net { }
            """, "CNN0006", "[Concat] argument could not be read as a constant");

    [Fact]
    public void CNN0022_FrozenConcat() =>
        Warning("[Input(1, 8, 8)] [Dense(4)] [Tanh] [[|Concat(\"dense1\", Frozen = true)|]]\npublic partial class Net { }", "CNN0022",
            "concat1 (layer 3):", "Concat layers have no parameters, so Frozen = true changes nothing");

    // ---- Sound joins -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("channel counts that differ", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 8, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("source directly before: [x, x]", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("flat, after dense layers", "[Input(1, 8, 8)] [Dense(8)] [ReLU] [Dense(5)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("a dense layer and a 1x1 map", "[Input(1, 3, 3)] [Conv(3, 6)] [Tanh] [Dense(4)] [Concat(\"tanh1\")] [Dense(2)]")]
    [InlineData("source the first layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"conv1\")] [Dense(3)]")]
    [InlineData("source before every trainable layer", "[Input(2, 8, 8)] [ReLU] [Conv(3, 5, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("source given by its custom name", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Name = \"stem\")] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"stem\")] [Dense(3)]")]
    [InlineData("the Concat given a custom name", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\", Name = \"join\")] [ReLU] [Dense(3)]")]
    [InlineData("two Concats sharing one source", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("nested dense connections", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu2\")] [ReLU] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("a Concat whose source is a Concat", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [Concat(\"conv1\")] [Tanh] [Concat(\"concat1\")] [Dense(3)]")]
    [InlineData("a dense block: every layer joins all the earlier ones", "[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"relu1\")] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"concat1\")] [Conv(1, 4)] [AvgPool(2)] [Dense(3)] [Softmax]")]
    [InlineData("right before Softmax", "[Input(1, 8, 8)] [Dense(5)] [Tanh] [Dense(5)] [Concat(\"tanh1\")] [Softmax]")]
    [InlineData("as the last layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")]")]
    [InlineData("source a pool", "[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [MaxPool(2)] [Conv(3, 4, Padding = 1)] [Dropout(0.5f)] [Concat(\"pool1\")] [Dense(3)]")]
    [InlineData("after a strided convolution", "[Input(2, 9, 9)] [Conv(3, 4, Stride = 2, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("across frozen layers", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Frozen = true)] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm(Frozen = true)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("a BatchNorm after the Concat", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("Maxout over the joined channels", "[Input(1, 8, 8)] [Conv(3, 3, Padding = 1)] [ReLU] [Conv(3, 3, Padding = 1)] [Concat(\"relu1\")] [Maxout(2)] [Dense(3)]")]
    [InlineData("with Adds", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [Concat(\"add1\")] [Conv(3, 4, Padding = 1)] [Add(\"conv1\")] [Dense(3)]")]
    public void ValidConcat_ReportsNothing(string what, string attributes)
    {
        Assert.NotEmpty(what);
        var run = TestDriver.Run(Header + attributes + "\npublic partial class Net { }");
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "Unexpected diagnostics: " + string.Join("; ", run.GeneratorDiagnostics));
        Assert.Single(run.Sources);
        Assert.Empty(run.OutputProblems);
    }

    // ---- The generated code compiles cleanly --------------------------------------------------------------

    private static string Source(string attributes) => "using CnnGen;\nnamespace Dense;\n" + attributes + "\npublic partial class Net { }";

    private static GeneratorRun Net(string attributes) => AssertCompilesCleanly(Source(attributes));

    private static string Text(GeneratorRun run) => run.Sources[0].SourceText.ToString();

    private const string TypeName = "Dense.Net";

    [Theory]
    [InlineData("[x, x]", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("channel counts that differ", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 6, Padding = 1)] [Concat(\"relu1\")] [Dense(3)] [Softmax]")]
    [InlineData("source before every trainable layer", "[Input(2, 8, 8)] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("only Concats and activations, nothing trainable", "[Input(2, 4, 4)] [Tanh] [Concat(\"tanh1\")] [ReLU] [Concat(\"concat1\")]")]
    [InlineData("flat, after dense layers", "[Input(1, 8, 8)] [Dense(8)] [ReLU] [Dense(5)] [Concat(\"relu1\")] [Dense(3)] [Softmax]")]
    [InlineData("two Concats sharing one source", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("nested dense connections", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu2\")] [ReLU] [Concat(\"relu1\")] [Dense(3)]")]
    [InlineData("right before Softmax", "[Input(1, 8, 8)] [Dense(5)] [Tanh] [Dense(5)] [Concat(\"tanh1\")] [Softmax]")]
    [InlineData("as the last layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"relu1\")]")]
    [InlineData("frozen layers between", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1, Frozen = true)] [BatchNorm(Frozen = true)] [Concat(\"relu1\")] [Dense(3, Frozen = true)]")]
    [InlineData("im2col convolutions (rows wider than 32)", "[Input(1, 6, 40)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [BatchNorm] [Concat(\"conv1\")] [ReLU] [Dense(2)]")]
    [InlineData("dropout and maxout", "[Input(1, 8, 8)] [Conv(3, 8, Padding = 1)] [Maxout(2)] [Dropout(0.25f)] [Conv(3, 4, Padding = 1)] [Concat(\"dropout1\")] [Dense(3)]")]
    [InlineData("with Adds", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [Concat(\"add1\")] [Conv(3, 4, Padding = 1)] [Add(\"conv1\")] [Dense(3)]")]
    public void CompilesWithoutWarnings(string what, string attributes)
    {
        Assert.NotEmpty(what);
        Net(attributes);
    }

    [Fact]
    public void SeveralNetworksInOneFile_WithConcatsAndAdds() => AssertCompilesCleanly(
        Networks.SmallResNet + "\n[Input(1, 8, 8)] [Dense(4)] public partial class Plain { }" +
        "\n[Input(1, 8, 8)] [Dense(4)] [Tanh] [Concat(\"tanh1\")] public partial class Tiny { }", expectedSources: 3);

    // ---- Compile-time facts -------------------------------------------------------------------------------

    private static string Row(string summary, string name) =>
        summary.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal));

    private const string Joined = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 6, Padding = 1)] [Concat(\"relu1\")] [Conv(1, 5)] [Dense(3)]";

    [Fact]
    public void TheChannelsAddUp_AndTheLayerAfterCountsThemAll()
    {
        var run = Net(Joined);
        var layers = LoadedNetwork.Layers(run, TypeName);
        var concat = layers.Single(l => l.Name == "concat1");
        // conv2's 6 channels, then relu1's 4.
        Assert.Equal(("Concat", 10, 8, 8, 0L, 0L), (concat.Kind, concat.OutputChannels, concat.OutputHeight, concat.OutputWidth, concat.Parameters, concat.Macs));
        // The receptive field is the longer path's: through conv2, not relu1's.
        var conv2 = layers.Single(l => l.Name == "conv2");
        Assert.Equal((5, 5, 1, 2), (concat.ReceptiveField, concat.ReceptiveFieldWidth, concat.EffectiveStride, concat.EffectivePadding));
        Assert.Equal((conv2.ReceptiveField, conv2.EffectiveStride, conv2.EffectivePadding), (concat.ReceptiveField, concat.EffectiveStride, concat.EffectivePadding));
        // A 1x1 convolution over the 10 joined channels: 5 x 10 weights and 5 biases, 5 x 10 x 64 MACs.
        var conv3 = layers.Single(l => l.Name == "conv3");
        Assert.Equal((5, 8, 8, 55L, 3200L), (conv3.OutputChannels, conv3.OutputHeight, conv3.OutputWidth, conv3.Parameters, conv3.Macs));

        var type = LoadedNetwork.Load(run, TypeName);
        // conv1 40, conv2 6 x 4 x 9 + 6 = 222, conv3 55, dense1 3 x 320 + 3 = 963.
        Assert.Equal(40 + 222 + 55 + 963, LoadedNetwork.Constant<int>(type, "ParameterCount"));
        var tensors = (IReadOnlyList<TensorInfo>)type.GetProperty("Tensors", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        Assert.Equal("[5, 10, 1, 1]", tensors.Single(t => t.Name == "conv3.weight").ShapeText);
    }

    [Fact]
    public void ADenseLayerAfterAConcat_CountsTheJoinedValues()
    {
        var run = Net("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 6, Padding = 1)] [Concat(\"relu1\")] [Dense(3)]");
        var dense = LoadedNetwork.Layers(run, TypeName).Single(l => l.Name == "dense1");
        Assert.Equal((3L * 640 + 3, 3L * 640), (dense.Parameters, dense.Macs));
        var flat = Net("[Input(1, 8, 8)] [Dense(8)] [ReLU] [Dense(5)] [Concat(\"relu1\")] [Dense(3)]");
        var layers = LoadedNetwork.Layers(flat, TypeName);
        Assert.Equal(("Concat", 13, 1, 1), layers.Where(l => l.Name == "concat1").Select(l => (l.Kind, l.OutputChannels, l.OutputHeight, l.OutputWidth)).Single());
        Assert.Equal(3L * 13 + 3, layers.Single(l => l.Name == "dense3").Parameters);
    }

    [Fact]
    public void ANestedDenseBlock_JoinsChannelsStepByStep()
    {
        var run = Net("[Input(2, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"relu1\")] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [Concat(\"concat1\")] [Conv(1, 4)] [AvgPool(2)] [Dense(3)] [Softmax]");
        var layers = LoadedNetwork.Layers(run, TypeName);
        Assert.Equal(new[] { ("concat1", 6, "relu1"), ("concat2", 8, "concat1") },
            layers.Where(l => l.Kind == "Concat").Select(l => (l.Name, l.OutputChannels, l.Source!)));
        // bn2 normalises the 6 joined channels; conv4 reads the 8 of concat2.
        Assert.Equal(12L, layers.Single(l => l.Name == "bn2").Parameters);
        Assert.Equal(4L * 8 + 4, layers.Single(l => l.Name == "conv4").Parameters);
        Assert.Contains("public const int StateLength = 22;", Text(run), StringComparison.Ordinal); // (2 x 4 + 1) + (2 x 6 + 1)
    }

    [Fact]
    public void SummaryAndLayerInfoShowTheSource()
    {
        var run = Net("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 6, Padding = 1)] [Concat(\"relu1\")] [Conv(3, 2, Padding = 1)] [Concat(\"concat1\")] [Dense(3)]");
        var type = LoadedNetwork.Load(run, TypeName);
        var layers = LoadedNetwork.Layers(run, TypeName);
        Assert.Equal(new[] { null, null, null, "relu1", null, "concat1", null }, layers.Select(l => l.Source));
        string summary = LoadedNetwork.Constant<string>(type, "Summary");
        Assert.Equal(new[] { "concat1", "Concat", "relu1", "10x8x8", "5", "1", "2", "0", "0" },
            Row(summary, "concat1").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(new[] { "concat2", "Concat", "concat1", "12x8x8", "7", "1", "3", "0", "0" },
            Row(summary, "concat2").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("// ---- concat1: dense connection: 6x8x8 followed by relu1's channels, 10x8x8 ----", Text(run), StringComparison.Ordinal);
        Assert.Contains("// ---- concat2: dense connection: 2x8x8 followed by concat1's channels, 12x8x8 ----", Text(run), StringComparison.Ordinal);
    }

    [Fact]
    public void AConcatWithACustomNameShowsItsSourcesCustomName()
    {
        var run = Net("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU(Name = \"act\")] [Conv(3, 4, Padding = 1)] [Concat(\"act\", Name = \"join\")] [Dense(3)]");
        string summary = LoadedNetwork.Constant<string>(LoadedNetwork.Load(run, TypeName), "Summary");
        Assert.Equal(new[] { "join", "Concat", "act", "8x8x8" }, Row(summary, "join").Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4));
        Assert.Equal("act", LoadedNetwork.Layers(run, TypeName).Single(l => l.Name == "join").Source);
        Assert.Contains("// ---- join: dense connection: 4x8x8 followed by act's channels, 8x8x8 ----", Text(run), StringComparison.Ordinal);
    }

    private const string TwoSources = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [{0}(\"{1}\")] [Dense(3)]";

    private static string Fingerprint(string attributes) =>
        LoadedNetwork.Constant<string>(LoadedNetwork.Load(Net(attributes), TypeName), "ArchitectureFingerprint");

    [Fact]
    public void TheFingerprintDependsOnTheConcatsSource()
    {
        // relu1 and conv1 both give 4x8x8: every shape and parameter is the same, only the source differs.
        string fromRelu = Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "Concat", "relu1"));
        string fromConv = Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "Concat", "conv1"));
        Assert.NotEqual(fromRelu, fromConv);
        Assert.Equal(fromRelu, Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "Concat", "relu1")));
        Assert.NotEqual(fromRelu, Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "Add", "relu1")));
        Assert.NotEqual(fromRelu, Fingerprint("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Dense(3)]"));
    }

    [Fact]
    public void AConcatHasNothingToFreeze()
    {
        var type = LoadedNetwork.Load(Net(string.Format(CultureInfo.InvariantCulture, TwoSources, "Concat", "relu1")), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 0)!;
        var e = Assert.Throws<ArgumentException>(() => network.Freeze("concat1"));
        Assert.StartsWith("Net: layer concat1 has no parameters to freeze; layers with parameters: conv1, conv2, dense1.", e.Message, StringComparison.Ordinal);
    }

    // ---- Inference never skips an output a Concat reads ---------------------------------------------------

    private const string ConvReluNet = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"{0}\")] [Dense(3)]";
    private const string ConvNormReluNet = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [Concat(\"{0}\")] [Dense(3)]";

    private static string Generated(string template, string source) =>
        Text(Net(string.Format(CultureInfo.InvariantCulture, template, source)));

    [Fact]
    public void AConvolutionThatIsAConcatSource_DoesNotFuseItsReLU()
    {
        string text = Generated(ConvReluNet, "conv1");
        Assert.DoesNotContain("with relu1 fused", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relu: true", text, StringComparison.Ordinal);
        Assert.DoesNotContain("applied this ReLU", text, StringComparison.Ordinal);
        Assert.Contains("inp.Slice(b * 256, 256).CopyTo(outp.Slice(b * 512, 256)); // the input's 4 channels", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._act_conv1, b * 256, 256).CopyTo(outp.Slice(b * 512 + 256, 256)); // then conv1's 4", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relu1")] // the fused ReLU's output is written, by the convolution: reading it is fine
    [InlineData("conv2")] // [x, x] after conv2: nothing reads conv1's output
    public void AConvolutionThatNothingElseReads_FusesItsReLU(string source)
    {
        string text = Generated(ConvReluNet, source);
        Assert.Contains("// Inference: direct convolution with relu1 fused (written to its output)", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward) return; // in inference conv1 applied this ReLU as it stored its output", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AConvolutionThatIsAConcatSource_DoesNotFoldItsBatchNorm()
    {
        string text = Generated(ConvNormReluNet, "conv1");
        Assert.Contains("private readonly float[] _folded = new float[0];", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (ws.Folded)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (!ws.Folded)", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_bn1(ws, ws._act_conv1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._act_conv1, b * 256, 256)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFoldedBatchNormThatIsAConcatSource_DoesNotFuseTheReLUAfterIt()
    {
        string text = Generated(ConvNormReluNet, "bn1");
        // bn1 is still folded into conv1 (the folded convolution writes bn1's output), but relu1 runs as a layer.
        Assert.Contains("private readonly float[] _folded = new float[40];", text, StringComparison.Ordinal);
        Assert.Contains("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_bn1(ws, ws._act_conv1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relu: ws.Folded", text, StringComparison.Ordinal);
        Assert.Contains("new global::System.ReadOnlySpan<float>(ws._act_bn1, b * 256, 256)", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relu1")]
    [InlineData("conv2")]
    public void ABatchNormAndReLUThatNothingElseReads_AreFoldedAndFused(string source)
    {
        string text = Generated(ConvNormReluNet, source);
        Assert.Contains("private readonly float[] _folded = new float[40];", text, StringComparison.Ordinal);
        Assert.Contains("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_bn1(ws, ws._act_conv1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("with bn1 folded in, relu1 is fused too", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AConvolutionWhoseOutputOnlyTheConcatsInputIs_StillFoldsAndFuses()
    {
        // conv2 feeds the Concat as its input, not as its source: bn2 folds into it and relu2 fuses.
        string text = Text(Net("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Concat(\"relu1\")] [Dense(3)]"));
        Assert.Contains("// bn1 into conv2", text, StringComparison.Ordinal);
        Assert.Contains("with bn1 folded in, relu2 is fused too", text, StringComparison.Ordinal);
        Assert.Contains("// Inference: direct convolution with relu1 fused (written to its output)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBackwardPassSendsTheLastChannelsToTheSource()
    {
        string text = Generated(ConvReluNet, "relu1");
        Assert.Contains("dout.Slice(b * 512, 256).CopyTo(dinp.Slice(b * 256, 256));", text, StringComparison.Ordinal);
        Assert.Contains("// + the gradient of concat1's last 4 channels, down the dense connection", text, StringComparison.Ordinal);
        Assert.Contains("(ws._grad_relu1, b * 256, 256), new global::System.ReadOnlySpan<float>(ws._grad_concat1, b * 512 + 256, 256)", text, StringComparison.Ordinal);
    }

    // ---- The generated code runs --------------------------------------------------------------------------

    public static TheoryData<string> RunnableNetworks => new()
    {
        string.Format(CultureInfo.InvariantCulture, ConvReluNet, "conv1"),
        string.Format(CultureInfo.InvariantCulture, ConvReluNet, "relu1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "conv1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "bn1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "relu1"),
        "[Input(1, 6, 6)] [Conv(3, 3, Padding = 1)] [ReLU] [Concat(\"relu1\")] [Concat(\"conv1\")] [MaxPool(2)] [Dense(4)]",
        "[Input(2, 6, 6)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 3, Padding = 1)] [BatchNorm] [ReLU] [Concat(\"relu1\")] [Conv(3, 3, Padding = 1)] [BatchNorm] [ReLU] [Concat(\"concat1\")] [Conv(1, 4)] [AvgPool(2)] [Dense(3)] [Softmax]",
        "[Input(1, 8, 8)] [Dense(8)] [Tanh] [Dense(5)] [Concat(\"tanh1\")] [ReLU] [Dense(3)] [Softmax]",
        "[Input(1, 6, 40)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [BatchNorm] [Concat(\"conv1\")] [ReLU] [Dense(2)]",
        "[Input(3, 9, 9)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(1, 8)] [BatchNorm] [Add(\"relu1\")] [Concat(\"relu1\")] [ReLU] [Maxout(2)] [Dense(4)] [Softmax]",
        "[Input(2, 4, 4)] [Tanh] [Conv(3, 2, Padding = 1)] [Concat(\"tanh1\")] [Dropout(0.5f)] [Conv(3, 3, Padding = 1)] [Concat(\"dropout1\")]",
    };

    [Theory]
    [MemberData(nameof(RunnableNetworks))]
    public void InferenceEqualsTheUnfusedPass_WithOneOrTwoWorkers_AndEachConcatJoinsItsInputAndSource(string attributes)
    {
        var type = LoadedNetwork.Load(Net(attributes), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 3)!;
        Perturb(network, 9);
        Assert.False(network.Training);
        const int batch = 5;
        var inputs = Inputs(network, batch, 4);
        float[] Run(int threads)
        {
            network.Threads = threads;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            return outputs;
        }
        float[] one = Run(1), two = Run(2);
        Assert.Equal(one, two);
        int concats = 0;
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            Assert.Equal(network.Layers.Count, unfused.Length);
            for (int k = 0; k < network.OutputLength; k++)
            {
                float expected = unfused[^1][k], actual = one[b * network.OutputLength + k];
                Assert.True(Math.Abs(expected - actual) <= 1e-5f * (1 + Math.Abs(expected)), $"image {b}, output {k}: unfused {expected}, inference {actual}");
            }
            // Each Concat's output is exactly its input, then its source's output.
            for (int i = 0; i < network.Layers.Count; i++)
            {
                var layer = network.Layers[i];
                if (layer.Kind != "Concat")
                {
                    if (layer.Kind != "Add") Assert.Null(layer.Source);
                    continue;
                }
                int source = network.Layers.ToList().FindIndex(l => l.Name == layer.Source);
                Assert.True(source >= 0 && source < i, $"{layer.Name} names {layer.Source}");
                Assert.Equal(layer.OutputLength, unfused[i - 1].Length + unfused[source].Length);
                Assert.Equal(unfused[i - 1].Concat(unfused[source]), unfused[i]);
                concats++;
            }
        }
        Assert.True(concats >= batch);
    }

    [Fact]
    public void ADenseBlocksJoinsTakeOverTheirInputsBuffersInInference()
    {
        // Each join reads the one before it (DenseNet): in an evaluation pass cat1 takes r0's buffer and cat2 cat1's, so each
        // copies only its new channels for one image and moves the later images' up; the results are the unfused pass's.
        const string attributes = "[Input(2, 6, 6)] [Conv(1, 4)] [ReLU(Name = \"r0\")] [Conv(3, 2, Padding = 1, Name = \"g1\")] " +
                                  "[Concat(\"g1\", From = \"r0\", Name = \"cat1\")] [Conv(3, 2, Padding = 1, Name = \"g2\")] " +
                                  "[Concat(\"g2\", From = \"cat1\", Name = \"cat2\")] [Conv(1, 3)] [AvgPool(2)] [Dense(3)]";
        var run = Net(attributes);
        string code = run.Sources.Single().SourceText.ToString();
        Assert.Contains("// _act_r0, _act_cat1, _act_cat2", code, StringComparison.Ordinal);
        Assert.Contains("if (global::System.MemoryExtensions.Overlaps(inp, (global::System.ReadOnlySpan<float>)outp, out int shift) && shift == 0)", code, StringComparison.Ordinal);
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, TypeName), 3)!;
        Perturb(network, 9);
        foreach (int batch in new[] { 1, 3 })
        {
            var inputs = Inputs(network, batch, 4);
            var one = new float[batch * network.OutputLength];
            var two = new float[one.Length];
            network.Threads = 1;
            network.Forward(inputs, one, batch);
            network.Threads = 2;
            network.Forward(inputs, two, batch);
            network.Threads = 1;
            Assert.Equal(one, two);
            for (int b = 0; b < batch; b++)
            {
                var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength))[^1];
                for (int k = 0; k < network.OutputLength; k++)
                    Assert.True(Math.Abs(unfused[k] - one[b * network.OutputLength + k]) <= 1e-5f * (1 + Math.Abs(unfused[k])),
                        $"batch {batch}, image {b}, output {k}: unfused {unfused[k]}, inference {one[b * network.OutputLength + k]}");
            }
        }
    }

    [Fact]
    public void ABatchOfImagesJoinsEachImagesOwnChannels()
    {
        // Forward of a batch, with the Concat as the output: image b's output is image b's input, then image b's source.
        var type = LoadedNetwork.Load(Net("[Input(2, 3, 3)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(1, 3)] [Concat(\"tanh1\")]"), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 1)!;
        Assert.Equal(5 * 9, network.OutputLength);
        const int batch = 7;
        var inputs = Inputs(network, batch, 3);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            network.Threads = threads;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            for (int b = 0; b < batch; b++)
            {
                var a = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
                Assert.Equal(a[2].Concat(a[1]), outputs.AsSpan(b * network.OutputLength, network.OutputLength).ToArray());
            }
        }
    }

    [Fact]
    public void ManyMicroBatches_GiveWhatOneImageAtATimeGives()
    {
        // About 1.6 MB of buffers per image: one image per micro-batch, so every Concat and its gradient run per micro-batch.
        const string attributes = "[Input(4, 40, 40)] [Conv(3, 8, Padding = 1)] [Tanh] [Conv(3, 8, Padding = 1)] [Concat(\"tanh1\")] [AvgPool(8)] [Dense(3)] [Softmax]";
        var type = LoadedNetwork.Load(Net(attributes), TypeName);
        Assert.Equal(1, LoadedNetwork.Constant<int>(type, "MicroBatch"));
        var network = (INetwork)Activator.CreateInstance(type, 7)!;
        Perturb(network, 1);
        const int batch = 4;
        var inputs = Inputs(network, batch, 2);
        var labels = new[] { 2, 0, 1, 1 };
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs, outputs, batch);
        var sum = new double[network.ParameterCount];
        for (int b = 0; b < batch; b++)
        {
            var image = inputs.AsSpan(b * network.InputLength, network.InputLength);
            var unfused = network.Activations(image);
            for (int k = 0; k < network.OutputLength; k++)
                Assert.True(Math.Abs(unfused[^1][k] - outputs[b * network.OutputLength + k]) <= 1e-5f, $"image {b}, output {k}");
            Assert.Equal(unfused[2].Concat(unfused[1]), unfused[3]); // concat1 = [conv2, tanh1]
            network.ComputeGradients(image, labels.AsSpan(b, 1), 1);
            for (int i = 0; i < sum.Length; i++) sum[i] += network.Gradients[i] / batch;
        }
        // The batch's gradient is the mean of the images' gradients.
        network.ComputeGradients(inputs, labels, batch);
        for (int i = 0; i < sum.Length; i++)
            Assert.True(Math.Abs(sum[i] - network.Gradients[i]) <= 1e-5 * (1 + Math.Abs(sum[i])), $"parameter {i}: batch {network.Gradients[i]}, mean of images {sum[i]}");
        // And a sample of it is the loss's.
        float[] analytic = network.Gradients.ToArray();
        for (int i = 0; i < analytic.Length; i += 41)
        {
            double central = CentralDifference(network, inputs, labels, i);
            Assert.True(Math.Abs(central - analytic[i]) <= 1e-2 * Math.Abs(central) + 3e-4, $"parameter {i}: analytic {analytic[i]}, central difference {central}");
        }
    }

    /// <summary>Smooth activations only (no kinks), so central differences of the loss are accurate.</summary>
    public static TheoryData<string, bool> GradientNetworks => new()
    {
        { "[Input(1, 5, 5)] [Conv(3, 3, Padding = 1)] [Tanh] [Concat(\"tanh1\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 3, Padding = 1)] [Concat(\"tanh1\")] [Tanh] [Conv(3, 2, Padding = 1)] [Concat(\"tanh1\")] [Concat(\"conv2\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 4, 4)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 3, Padding = 1)] [Concat(\"conv1\")] [Dense(6)] [Tanh] [Dense(4)] [Concat(\"tanh2\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 2, Padding = 1, Frozen = true)] [Concat(\"tanh1\")] [Tanh] [Dense(3)] [Softmax]", false },
        { "[Input(2, 4, 4)] [Tanh] [Conv(3, 2, Padding = 1)] [Concat(\"tanh1\")] [Conv(3, 2, Padding = 1)] [Add(\"conv1\")] [Concat(\"add1\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 2, Padding = 1)] [BatchNorm] [Concat(\"conv1\")] [Tanh] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 2, Padding = 1)] [BatchNorm] [Concat(\"bn1\")] [Tanh] [Dense(3)] [Softmax]", true },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 3, Padding = 1)] [Concat(\"tanh1\")] [BatchNorm] [Tanh] [Conv(1, 2)] [Concat(\"concat1\")] [Dense(3)] [Softmax]", true },
    };

    [Theory]
    [MemberData(nameof(GradientNetworks))]
    public void GradientsMatchFiniteDifferencesOfTheLoss(string attributes, bool training)
    {
        var type = LoadedNetwork.Load(Net(attributes), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 6)!;
        AssertGradientsMatchFiniteDifferences(network, training);
    }

    /// <summary>Without the dense connection's gradient the first layers would learn only through the direct path: the
    /// finite differences above would catch it, and so does this, where the only path from conv1 to the loss is the Concat's.</summary>
    [Fact]
    public void TheSourceGetsTheGradientOfItsChannels_EvenWhenItIsTheOnlyPath()
    {
        // conv2 is frozen at zero weight and bias: the input path carries nothing, so conv1 learns only through concat1.
        var type = LoadedNetwork.Load(Net("[Input(1, 4, 4)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 2, Padding = 1, Frozen = true)] [Concat(\"tanh1\")] [Dense(3)] [Softmax]"), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 4)!;
        network.Parameter("conv2.weight").Clear();
        network.Parameter("conv2.bias").Clear();
        var inputs = Inputs(network, 2, 5);
        network.ComputeGradients(inputs, new[] { 1, 2 }, 2);
        var conv1 = network.Tensors.Single(t => t.Name == "conv1.weight");
        Assert.Contains(network.Gradients.Slice(conv1.Offset, conv1.Length).ToArray(), g => g != 0f);
    }
}
