using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Networks as graphs: <c>From = "name"</c> on any layer (it reads that earlier layer's output instead of the line above),
/// [Add] and [Concat] with several sources. What From may name (CNN0028) and which branches lead nowhere (CNN0029), joins
/// of several sources (CNN0025, CNN0026, CNN0027 name the source at fault), the receptive field of a join (the largest
/// over its paths), and the generated code: each layer reads what it names, a layer read by several gets the sum of their
/// gradients (finite differences), and inference never fuses away an output another branch reads.
/// </summary>
public class GraphTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Graphs;\n" + attributes + "\npublic partial class Net { }";

    private static GeneratorRun Net(string attributes) => AssertCompilesCleanly(Source(attributes));

    private static string Text(GeneratorRun run) => run.Sources[0].SourceText.ToString();

    private const string TypeName = "Graphs.Net";

    /// <summary>An inception module (GoogLeNet): four branches from one stem, joined along the channels.</summary>
    private const string Inception = """
        [Input(2, 8, 8)]
        [Conv(3, 4, Padding = 1)] [ReLU(Name = "stem")]
        [Conv(1, 3, Name = "b1")]
        [Conv(1, 2, From = "stem")] [ReLU] [Conv(3, 3, Padding = 1, Name = "b2")]
        [Conv(1, 2, From = "stem")] [ReLU] [Conv(5, 2, Padding = 2, Name = "b3")]
        [MaxPool(3, Stride = 1, Padding = 1, From = "stem")] [Conv(1, 2, Name = "b4")]
        [Concat("b2", "b3", "b4", From = "b1")]
        [Dense(3)]
        """;

    /// <summary>A ResNet block that halves the map: a 1x1 stride-2 convolution with BatchNorm on the shortcut.</summary>
    private const string DownsamplingBlock = """
        [Input(2, 7, 7)]
        [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU(Name = "stem")]
        [Conv(3, 6, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 6, Padding = 1)] [BatchNorm(Name = "main")]
        [Conv(1, 6, Stride = 2, From = "stem")] [BatchNorm(Name = "shortcut")]
        [Add("main")] [ReLU]
        [Dense(3)]
        """;

    // ---- CNN0028: From names no earlier layer -------------------------------------------------------------

    [Theory]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Conv(1, 2, From = \"nope\")|]]", "conv2 (layer 3): From = 'nope' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Conv(1, 2, From = \"\")|]]", "conv2 (layer 3): From = '' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Conv(1, 2, From = \"input\")|]]", "conv2 (layer 3): From = 'input' is not a layer before it; name one of: conv1, relu1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [[|ReLU(From = \"relu1\")|]]", "relu1 (layer 2): From = 'relu1' is not a layer before it; name one of: conv1")]
    [InlineData("[Conv(3, 4, Padding = 1)] [[|ReLU(From = \"conv2\")|]] [Conv(1, 2)]", "relu1 (layer 2): From = 'conv2' is not a layer before it; name one of: conv1")]
    [InlineData("[[|Conv(3, 4, From = \"conv1\")|]]", "conv1 (layer 1): From = 'conv1' is not a layer before it; name one of: none (it is the first layer)")]
    [InlineData("[Conv(3, 4, Padding = 1)] [ReLU] [[|Add(\"relu1\", From = \"later\")|]] [Tanh(Name = \"later\")]", "add1 (layer 3): From = 'later' is not a layer before it; name one of: conv1, relu1")]
    public void CNN0028_FromNamesNoEarlierLayer(string layers, string message) =>
        Error("[Input(1, 8, 8)] " + layers + "\npublic partial class Net { }", "CNN0028", message);

    // ---- CNN0029: a branch whose output nobody reads ------------------------------------------------------

    [Fact]
    public void CNN0029_ABranchNobodyReads() =>
        Warning("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU(Name = "stem")]
            [[|Conv(1, 2)|]]
            [Conv(3, 4, Padding = 1, From = "stem")] [Dense(3)]
            public partial class Net { }
            """, "CNN0029", "conv2 (layer 3): no layer reads its output and it is not the network's output (dense1)");

    [Fact]
    public void CNN0029_TheLayerBeforeASoftmaxThatReadsElsewhere() =>
        Warning("""
            [Input(1, 8, 8)]
            [Dense(3)] [[|Dense(3)|]] [Softmax(From = "dense1")]
            public partial class Net { }
            """, "CNN0029", "dense2 (layer 2): no layer reads its output and it is not the network's output (softmax1)");

    [Fact]
    public void CNN0029_NotForALayerOnlyAJoinReads()
    {
        var run = TestDriver.Run(Header + "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1, From = \"conv1\")] [Add(\"relu1\")] [Dense(3)]\npublic partial class Net { }");
        Assert.True(run.GeneratorDiagnostics.IsEmpty, string.Join("; ", run.GeneratorDiagnostics));
    }

    // ---- Joins of several sources -------------------------------------------------------------------------

    [Fact]
    public void CNN0025_TheSecondSourceIsNotAnEarlierLayer() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)]
            [[|Add("relu1", "conv9")|]]
            public partial class Net { }
            """, "CNN0025", "add1 (layer 4): 'conv9' is not a layer before it; name one of: conv1, relu1, conv2");

    [Fact]
    public void CNN0026_TheSecondSourceHasAnotherShape() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [MaxPool(2)] [Conv(3, 4, Padding = 1, From = "relu1")]
            [[|Add("relu1", "pool1")|]]
            public partial class Net { }
            """, "CNN0026", "add1 (layer 5): cannot add the output of pool1 (4x4x4) to its input, the output of conv2 (4x8x8); a shortcut needs equal shapes");

    [Fact]
    public void CNN0027_TheThirdSourceHasAnotherSize() =>
        Error("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(1, 2)] [MaxPool(2, From = "relu1")] [Conv(1, 3, From = "relu1")]
            [[|Concat("conv2", "pool1", From = "relu1")|]]
            public partial class Net { }
            """, "CNN0027", "concat1 (layer 6): cannot join the output of pool1 (4x4x4) to its input, the output of relu1 (4x8x8); the heights and widths must be equal");

    [Fact]
    public void CNN0006_ANullAmongTheSources() =>
        Error("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [[|Add(\"conv1\", \"conv1\", null)|]]\npublic partial class Net { }", "CNN0006", "[Add] argument is null");

    // ---- Compile-time facts -------------------------------------------------------------------------------

    [Fact]
    public void AnInceptionModule_JoinsItsFourBranches_WithTheLargestReceptiveField()
    {
        var run = Net(Inception);
        var layers = LoadedNetwork.Layers(run, TypeName);
        var concat = layers.Single(l => l.Kind == "Concat");
        Assert.Equal((3 + 3 + 2 + 2, 8, 8), (concat.OutputChannels, concat.OutputHeight, concat.OutputWidth));
        Assert.Equal("b2, b3, b4", concat.Source);
        // conv1 3x3: RF 3; b1 (1x1) keeps 3; b2 (3x3) 5; b3 (5x5) 7, padding 1 + 2 = 3; the pool branch 5. The join: the largest.
        Assert.Equal(3, layers.Single(l => l.Name == "b1").ReceptiveField);
        Assert.Equal(5, layers.Single(l => l.Name == "b2").ReceptiveField);
        Assert.Equal((7, 3), (layers.Single(l => l.Name == "b3").ReceptiveField, layers.Single(l => l.Name == "b3").EffectivePadding));
        Assert.Equal(5, layers.Single(l => l.Name == "b4").ReceptiveField);
        Assert.Equal((7, 7, 1, 3), (concat.ReceptiveField, concat.ReceptiveFieldWidth, concat.EffectiveStride, concat.EffectivePadding));
        // Each branch reads the stem: b2's first convolution (conv3; b1 is the second) has 2 x 4 weights and 2 biases.
        Assert.Equal(10L, layers.Single(l => l.Name == "conv3").Parameters);
        Assert.Equal(3L * 10 * 64 + 3, layers.Single(l => l.Name == "dense1").Parameters);
    }

    [Fact]
    public void WhereBranchesDisagreeInStride_TheJoinTakesTheLargest()
    {
        // Main path: 3x3, 3x3 stride 2, 3x3 (RF 3 -> 5 -> 9, stride 2, padding 1 + 1 + 2 = 4); shortcut: 1x1 stride 2 from
        // the stem (RF 3, stride 2, padding 1). The Add: RF 9, stride 2, padding 4, as the main path.
        var layers = LoadedNetwork.Layers(Net(DownsamplingBlock), TypeName);
        var main = layers.Single(l => l.Name == "main");
        var shortcut = layers.Single(l => l.Name == "shortcut");
        var add = layers.Single(l => l.Kind == "Add");
        Assert.Equal((9, 2, 4), (main.ReceptiveField, main.EffectiveStride, main.EffectivePadding));
        Assert.Equal((3, 2, 1), (shortcut.ReceptiveField, shortcut.EffectiveStride, shortcut.EffectivePadding));
        Assert.Equal((9, 2, 4), (add.ReceptiveField, add.EffectiveStride, add.EffectivePadding));
        Assert.Equal((6, 4, 4), (add.OutputChannels, add.OutputHeight, add.OutputWidth));
    }

    [Fact]
    public void EachPathGivesItsOwnMaximum_WhenNoPathHasThemAll()
    {
        // Branch a: 5x5 without padding (RF 5, stride 1, padding 0). Branch b: 4x4 stride 2 padding 1 (RF 4, stride 2,
        // padding 1). Both 4x4. The Concat: RF 5 from a, stride 2 and padding 1 from b; the 3x3 convolution after it grows
        // the RF by 2 x 2 and the padding by 1 x 2.
        var layers = LoadedNetwork.Layers(Net("""
            [Input(1, 8, 8)]
            [ReLU(Name = "stem")]
            [Conv(5, 2, Name = "a")]
            [Conv(4, 2, Stride = 2, Padding = 1, From = "stem", Name = "b")]
            [Concat("b", From = "a")] [Conv(3, 2, Padding = 1)] [Dense(3)]
            """), TypeName);
        var a = layers.Single(l => l.Name == "a");
        Assert.Equal((5, 1, 0), (a.ReceptiveField, a.EffectiveStride, a.EffectivePadding));
        var b = layers.Single(l => l.Name == "b");
        Assert.Equal((4, 2, 1), (b.ReceptiveField, b.EffectiveStride, b.EffectivePadding));
        var concat = layers.Single(l => l.Kind == "Concat");
        Assert.Equal((5, 2, 1), (concat.ReceptiveField, concat.EffectiveStride, concat.EffectivePadding));
        var conv = layers.Single(l => l.Name == "conv3");
        Assert.Equal((9, 2, 3), (conv.ReceptiveField, conv.EffectiveStride, conv.EffectivePadding));
    }

    // ---- Generated code -----------------------------------------------------------------------------------

    [Fact]
    public void EachLayerReadsWhatItsFromNames()
    {
        string text = Text(Net(Inception));
        Assert.Contains("Forward_conv3(ws, ws._act_stem, ws._act_conv3, batch);", text, StringComparison.Ordinal);
        Assert.Contains("Forward_pool1(ws, ws._act_stem, ws._act_pool1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("Forward_concat1(ws, ws._act_b1, ws._act_concat1, batch);", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AConvolutionWhoseOutputAnotherBranchReads_DoesNotFuseItsReLUOrFoldItsBatchNorm()
    {
        string text = Text(Net("""
            [Input(1, 8, 8)]
            [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
            [Conv(1, 4, From = "conv1")] [Add("relu2")] [Tanh(From = "conv2")] [Add("add1")] [Dense(3)]
            """));
        Assert.DoesNotContain("with relu1 fused", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// bn1 into conv2", text, StringComparison.Ordinal);
        Assert.Contains("private readonly float[] _folded = new float[0];", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSecondReaderOfALayer_WritesItsGradientAside_AndItIsAddedIn()
    {
        string text = Text(Net(Inception));
        // The stem has four readers: b1, the first, runs backward last and writes its gradient in place; the starts of
        // the other branches (conv3, conv5, pool1) write theirs aside, and those are added once b1 has run.
        Assert.Contains("Backward_b1(ws, ws._act_stem, ws._act_b1, ws._grad_b1, active < 2 ? ws._grad_stem : default, batch);", text, StringComparison.Ordinal);
        Assert.Contains("Backward_pool1(ws, ws._act_stem, ws._act_pool1, ws._grad_pool1, active < 2 ? ws._dinp_pool1 : default, batch);", text, StringComparison.Ordinal);
        int b1 = text.IndexOf("Backward_b1(ws, ws._act_stem", StringComparison.Ordinal);
        foreach (var reader in new[] { "conv3", "conv5", "pool1" })
            Assert.True(text.IndexOf($"// + {reader}'s input gradient", StringComparison.Ordinal) > b1, reader);
        // The Concat's sources are read by nothing else: each gets a copy of its channels (b3's start after 3 + 3).
        Assert.Contains("// = the gradient of concat1's channels from channel 3 on, down the dense connection", text, StringComparison.Ordinal);
        Assert.Contains("// = the gradient of concat1's channels from channel 6 on, down the dense connection", text, StringComparison.Ordinal);
        Assert.Contains("// = the gradient of concat1's last 2 channels, down the dense connection", text, StringComparison.Ordinal);
    }

    // ---- The generated code runs --------------------------------------------------------------------------

    [Fact]
    public void TheConcatJoinsItsInputThenEachSource_AndAddSumsThem()
    {
        var type = LoadedNetwork.Load(Net("""
            [Input(2, 4, 4)]
            [Conv(3, 3, Padding = 1)] [Tanh(Name = "a")]
            [Conv(1, 3, From = "a", Name = "b")] [Conv(3, 3, Padding = 1, From = "a", Name = "c")]
            [Add("a", "b", From = "c")]
            [Concat("b", "a")]
            [Dense(3)]
            """), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 5)!;
        Perturb(network, 3);
        var input = Inputs(network, 1, 6);
        var outputs = network.Activations(input);
        var layer = network.Layers.Select((l, i) => (l.Name, i)).ToDictionary(p => p.Name, p => p.i);
        float[] a = outputs[layer["a"]], b = outputs[layer["b"]], c = outputs[layer["c"]];
        var add = outputs[layer["add1"]];
        for (int k = 0; k < add.Length; k++)
            Assert.Equal(c[k] + a[k] + b[k], add[k], 5);
        Assert.Equal(add.Concat(b).Concat(a), outputs[layer["concat1"]]);
        Assert.Equal(9, network.Layers[layer["concat1"]].OutputChannels);
    }

    public static TheoryData<string, bool> GradientNetworks => new()
    {
        // One stem read by a convolution, a pool and an Add; a Concat of three.
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [Tanh(Name = \"stem\")] [Conv(3, 2, Padding = 1)] [Tanh(Name = \"b\")] [AvgPool(3, Stride = 1, Padding = 1, From = \"stem\")] [Conv(1, 2, Name = \"c\")] [Concat(\"b\", \"c\", From = \"stem\")] [Dense(3)] [Softmax]", false },
        // A ResNet downsampling block with BatchNorm on both paths, in training and in evaluation mode.
        { "[Input(2, 5, 5)] [Conv(3, 3, Padding = 1)] [BatchNorm] [Tanh(Name = \"stem\")] [Conv(3, 4, Stride = 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 4, Padding = 1)] [BatchNorm(Name = \"main\")] [Conv(1, 4, Stride = 2, From = \"stem\")] [BatchNorm] [Add(\"main\")] [Tanh] [Dense(3)] [Softmax]", true },
        { "[Input(2, 5, 5)] [Conv(3, 3, Padding = 1)] [BatchNorm] [Tanh(Name = \"stem\")] [Conv(3, 4, Stride = 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 4, Padding = 1)] [BatchNorm(Name = \"main\")] [Conv(1, 4, Stride = 2, From = \"stem\")] [BatchNorm] [Add(\"main\")] [Tanh] [Dense(3)] [Softmax]", false },
        // A layer read only by joins (no primary reader), an Add of the same source twice, and a frozen branch.
        { "[Input(1, 4, 4)] [Conv(3, 2, Padding = 1)] [Tanh(Name = \"t\")] [Conv(3, 2, Padding = 1, From = \"conv1\")] [Add(\"t\", \"t\")] [Conv(1, 2, Frozen = true, From = \"t\")] [Concat(\"add1\", From = \"conv3\")] [Dense(3)] [Softmax]", false },
        // A branch nobody reads (CNN0029 is only a warning elsewhere; here the dead branch is read by nothing that counts).
        { "[Input(1, 4, 4)] [Dense(5)] [Tanh] [Dense(4, From = \"dense1\")] [Sigmoid] [Concat(\"tanh1\")] [Dense(3)] [Softmax]", false },
    };

    [Theory]
    [MemberData(nameof(GradientNetworks))]
    public void GradientsMatchFiniteDifferencesOfTheLoss(string attributes, bool training)
    {
        var type = LoadedNetwork.Load(Net(attributes), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 6)!;
        AssertGradientsMatchFiniteDifferences(network, training);
    }

    [Theory]
    [InlineData(Inception)]
    [InlineData(DownsamplingBlock)]
    public void InferenceEqualsTheUnfusedPass_WithOneOrTwoWorkers(string attributes)
    {
        var type = LoadedNetwork.Load(Net(attributes), TypeName);
        var network = (INetwork)Activator.CreateInstance(type, 3)!;
        Perturb(network, 9);
        const int batch = 4;
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
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < network.OutputLength; k++)
                Assert.True(Math.Abs(unfused[^1][k] - one[b * network.OutputLength + k]) <= 1e-5f * (1 + Math.Abs(unfused[^1][k])), $"image {b}, output {k}");
        }
    }

    [Fact]
    public void ASoftmaxFromAnEarlierLayer_ReadsItsLogits()
    {
        var run = TestDriver.Run(Source("[Input(1, 4, 4)] [Dense(3)] [Dense(3)] [Softmax(From = \"dense1\")]"));
        Assert.Equal(new[] { "CNN0029" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(run.OutputProblems);
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(run, TypeName), 2)!;
        var input = Inputs(network, 1, 1);
        var layers = network.Activations(input);
        var probabilities = new float[3];
        network.Forward(input, probabilities, 1);
        var logits = layers[0];
        double sum = logits.Sum(v => Math.Exp(v));
        for (int k = 0; k < 3; k++) Assert.Equal(Math.Exp(logits[k]) / sum, probabilities[k], 5);
        Assert.Equal(probabilities, layers[2]);
        // Only dense1 is trained: dense2 leads nowhere, so its gradients stay zero.
        network.ComputeGradients(input, new[] { 1 }, 1);
        var dense2 = network.Tensors.Where(t => t.Name.StartsWith("dense2.", StringComparison.Ordinal)).ToList();
        Assert.All(dense2, t => Assert.All(network.Gradients.Slice(t.Offset, t.Length).ToArray(), g => Assert.Equal(0f, g)));
        AssertGradientsMatchFiniteDifferences(network, training: false);
    }
}
