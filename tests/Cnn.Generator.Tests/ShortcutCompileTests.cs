using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Networks with [Add] shortcuts generate code that compiles without a warning; their compile-time facts are what the
/// layers say; inference never fuses or folds away an output a shortcut reads; and the generated code runs: the fused
/// and folded inference pass gives what the unfused pass gives, and the gradients are the loss's.
/// </summary>
public class ShortcutCompileTests
{
    private static string Source(string attributes) => "using CnnGen;\nnamespace Res;\n" + attributes + "\npublic partial class Net { }";

    private static GeneratorRun Net(string attributes) => AssertCompilesCleanly(Source(attributes));

    private static string Text(GeneratorRun run) => run.Sources[0].SourceText.ToString();

    [Fact] public void SmallResNet() => AssertCompilesCleanly(Networks.SmallResNet);

    [Theory]
    [InlineData("y = 2x", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("source the first layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"conv1\")] [Dense(3)] [Softmax]")]
    [InlineData("source before every trainable layer", "[Input(2, 8, 8)] [ReLU] [Conv(3, 2, Padding = 1)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("only Adds and activations, nothing trainable", "[Input(2, 4, 4)] [Tanh] [Add(\"tanh1\")] [ReLU] [Add(\"add1\")]")]
    [InlineData("dense shortcut", "[Input(1, 8, 8)] [Dense(8)] [ReLU] [Dense(8)] [Add(\"dense1\")] [Dense(3)] [Softmax]")]
    [InlineData("two Adds sharing one source", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("nested shortcuts", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu2\")] [ReLU] [Add(\"relu1\")] [Dense(3)]")]
    [InlineData("right before Softmax", "[Input(1, 8, 8)] [Dense(5)] [Tanh] [Dense(5)] [Add(\"tanh1\")] [Softmax]")]
    [InlineData("as the last layer", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu1\")]")]
    [InlineData("frozen layers between", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1, Frozen = true)] [BatchNorm(Frozen = true)] [Add(\"relu1\")] [Dense(3, Frozen = true)]")]
    [InlineData("every trainable layer frozen", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Frozen = true)] [Tanh] [Add(\"tanh1\")] [Dense(3, Frozen = true)]")]
    [InlineData("im2col convolutions (rows wider than 32)", "[Input(1, 6, 40)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [BatchNorm] [Add(\"conv1\")] [ReLU] [Dense(2)]")]
    [InlineData("1x1 and strided convolutions", "[Input(3, 9, 9)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(1, 8)] [BatchNorm] [Add(\"relu1\")] [ReLU] [Dense(4)]")]
    [InlineData("with dropout and maxout", "[Input(1, 8, 8)] [Conv(3, 8, Padding = 1)] [Maxout(2)] [Dropout(0.25f)] [Conv(3, 4, Padding = 1)] [Add(\"dropout1\")] [Dense(3)]")]
    [InlineData("named layers", "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1, Name = \"stem\")] [ReLU(Name = \"act\")] [Conv(3, 4, Padding = 1)] [Add(\"act\", Name = \"skip\")] [Dense(3, Name = \"head\")]")]
    public void ShortcutNetwork(string what, string attributes)
    {
        Assert.NotEmpty(what);
        Net(attributes);
    }

    [Fact]
    public void SeveralNetworksInOneFile_WithAndWithoutShortcuts() => AssertCompilesCleanly(
        Networks.SmallResNet + "\n[Input(1, 8, 8)] [Dense(4)] public partial class Plain { }" +
        "\n[Input(1, 8, 8)] [Dense(4)] [Tanh] [Add(\"tanh1\")] public partial class Tiny { }", expectedSources: 3);

    // ---- Compile-time facts -------------------------------------------------------------------------------

    private static string Row(string summary, string name) =>
        summary.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal));

    [Fact]
    public void LayersAndSummaryShowTheAddsAndTheirSources()
    {
        var run = AssertCompilesCleanly(Networks.SmallResNet);
        const string type = "CnnGen.Samples.Networks.SmallResNet";
        var layers = LoadedNetwork.Layers(run, type);
        var add1 = layers.Single(l => l.Name == "add1");
        Assert.Equal(("Add", 16, 28, 28, 0L, 0L), (add1.Kind, add1.OutputChannels, add1.OutputHeight, add1.OutputWidth, add1.Parameters, add1.Macs));
        // The receptive field is the longer path's: through conv2 and conv3, not the shortcut's from relu1.
        var bn3 = layers.Single(l => l.Name == "bn3");
        Assert.Equal((bn3.ReceptiveField, bn3.EffectiveStride, bn3.EffectivePadding), (add1.ReceptiveField, add1.EffectiveStride, add1.EffectivePadding));
        Assert.Equal(7, add1.ReceptiveField);

        string summary = LoadedNetwork.Constant<string>(LoadedNetwork.Load(run, type), "Summary");
        Assert.Equal(new[] { "add1", "Add", "relu1", "16x28x28", "7", "1", "3", "0", "0" },
            Row(summary, "add1").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(new[] { "add2", "Add", "relu4", "32x14x14", "20", "2", "9", "0", "0" },
            Row(summary, "add2").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("/// add1      Add relu1    16x28x28   7       1    3       0          0", Text(run), StringComparison.Ordinal);
    }

    [Fact]
    public void AnAddWithACustomNameShowsItsSourcesCustomName()
    {
        var run = Net("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU(Name = \"act\")] [Conv(3, 4, Padding = 1)] [Add(\"act\", Name = \"skip\")] [Dense(3)]");
        string summary = LoadedNetwork.Constant<string>(LoadedNetwork.Load(run, "Res.Net"), "Summary");
        Assert.Equal(new[] { "skip", "Add", "act", "4x8x8" }, Row(summary, "skip").Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4));
        Assert.Contains("// ---- skip: shortcut: adds act's output, 4x8x8 ----", Text(run), StringComparison.Ordinal);
    }

    private static IReadOnlyList<TensorInfo> StaticTensors(Type type, string property) =>
        (IReadOnlyList<TensorInfo>)type.GetProperty(property, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static string Describe(TensorInfo t) =>
        $"{t.Name} {t.ShapeText} @{t.Offset.ToString(CultureInfo.InvariantCulture)}+{t.Length.ToString(CultureInfo.InvariantCulture)}";

    private static string WithoutAdds(string source) => Regex.Replace(source, @"\[Add\(""\w+""\)\] ", "");

    [Fact]
    public void AddsChangeNeitherParametersNorStateNorMacs_NorTheInitialParameters()
    {
        string plain = WithoutAdds(Networks.SmallResNet);
        Assert.DoesNotContain("[Add(", plain, StringComparison.Ordinal);
        const string name = "CnnGen.Samples.Networks.SmallResNet";
        var with = LoadedNetwork.Load(AssertCompilesCleanly(Networks.SmallResNet), name);
        var without = LoadedNetwork.Load(AssertCompilesCleanly(plain), name);

        Assert.Equal(43914, LoadedNetwork.Constant<int>(with, "ParameterCount"));
        Assert.Equal(LoadedNetwork.Constant<int>(without, "ParameterCount"), LoadedNetwork.Constant<int>(with, "ParameterCount"));
        Assert.Equal(LoadedNetwork.Constant<long>(without, "ForwardMacs"), LoadedNetwork.Constant<long>(with, "ForwardMacs"));
        Assert.Equal(LoadedNetwork.Constant<int>(without, "StateLength"), LoadedNetwork.Constant<int>(with, "StateLength"));
        Assert.Equal(StaticTensors(without, "Tensors").Select(Describe), StaticTensors(with, "Tensors").Select(Describe));
        Assert.Equal(StaticTensors(without, "StateTensors").Select(Describe), StaticTensors(with, "StateTensors").Select(Describe));
        // Adds draw no random numbers, and the convolutions before them still count as followed by a ReLU (He).
        var a = (INetwork)Activator.CreateInstance(with, 5)!;
        var b = (INetwork)Activator.CreateInstance(without, 5)!;
        Assert.Equal(b.Parameters.ToArray(), a.Parameters.ToArray());
        // Only the fingerprint tells them apart.
        Assert.NotEqual(LoadedNetwork.Constant<string>(without, "ArchitectureFingerprint"), LoadedNetwork.Constant<string>(with, "ArchitectureFingerprint"));
    }

    private const string TwoSources = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"{0}\")] [Dense(3)]";

    [Fact]
    public void TheFingerprintDependsOnTheAddsSource()
    {
        string Fingerprint(string attributes) =>
            LoadedNetwork.Constant<string>(LoadedNetwork.Load(Net(attributes), "Res.Net"), "ArchitectureFingerprint");
        string fromRelu = Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "relu1"));
        string fromConv = Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "conv1"));
        Assert.NotEqual(fromRelu, fromConv);
        Assert.Equal(fromRelu, Fingerprint(string.Format(CultureInfo.InvariantCulture, TwoSources, "relu1")));
        Assert.NotEqual(fromRelu, Fingerprint("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Dense(3)]"));
    }

    [Fact]
    public void AnAddHasNothingToFreeze()
    {
        var type = LoadedNetwork.Load(Net(string.Format(CultureInfo.InvariantCulture, TwoSources, "relu1")), "Res.Net");
        var network = (INetwork)Activator.CreateInstance(type, 0)!;
        var e = Assert.Throws<ArgumentException>(() => network.Freeze("add1"));
        Assert.StartsWith("Net: layer add1 has no parameters to freeze; layers with parameters: conv1, conv2, dense1.", e.Message, StringComparison.Ordinal);
    }

    // ---- Inference never skips an output a shortcut reads -------------------------------------------------

    private const string ConvReluNet = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"{0}\")] [Dense(3)]";
    private const string ConvNormReluNet = "[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"{0}\")] [Dense(3)]";

    private static string Generated(string template, string source) =>
        Text(Net(string.Format(CultureInfo.InvariantCulture, template, source)));

    [Fact]
    public void AConvolutionThatIsAShortcutSource_DoesNotFuseItsReLU()
    {
        string text = Generated(ConvReluNet, "conv1");
        Assert.DoesNotContain("with relu1 fused", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relu: true", text, StringComparison.Ordinal);
        Assert.DoesNotContain("applied this ReLU", text, StringComparison.Ordinal);
        Assert.Contains("var shortcut = new global::System.ReadOnlySpan<float>(ws._act_conv1, 0, x.Length); // conv1's output", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relu1")] // the fused ReLU's output is written, by the convolution: reading it is fine
    [InlineData("conv2")] // y = 2x after conv2: nothing reads conv1's output
    public void AConvolutionThatNothingElseReads_FusesItsReLU(string source)
    {
        string text = Generated(ConvReluNet, source);
        Assert.Contains("// Inference: direct convolution with relu1 fused (written to its output)", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward) return; // in inference conv1 applied this ReLU as it stored its output", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AConvolutionThatIsAShortcutSource_DoesNotFoldItsBatchNorm()
    {
        string text = Generated(ConvNormReluNet, "conv1");
        Assert.Contains("private readonly float[] _folded = new float[0];", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (ws.Folded)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (!ws.Folded)", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_bn1(ws, ws._act_conv1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFoldedBatchNormThatIsAShortcutSource_DoesNotFuseTheReLUAfterIt()
    {
        string text = Generated(ConvNormReluNet, "bn1");
        // bn1 is still folded into conv1 (the folded convolution writes bn1's output), but relu1 runs as a layer.
        Assert.Contains("private readonly float[] _folded = new float[40];", text, StringComparison.Ordinal);
        Assert.Contains("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_bn1(ws, ws._act_conv1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relu: ws.Folded", text, StringComparison.Ordinal);
        Assert.Contains("// Inference: direct convolution, same result as the im2col path below.", text, StringComparison.Ordinal);
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
    public void SmallResNet_FoldsEveryBatchNormAndFusesTheReLUsNoAddReadsFirst()
    {
        string text = Text(AssertCompilesCleanly(Networks.SmallResNet));
        // Every BatchNorm follows a convolution that no Add reads: all six are folded.
        foreach (int k in new[] { 1, 2, 3, 4, 5, 6 })
            Assert.Contains($"// bn{k} into conv{k}", text, StringComparison.Ordinal);
        // relu1 and relu4 are sources, but their outputs are written (by the fused convolution); relu3 and relu6 follow Adds.
        foreach (int k in new[] { 1, 2, 4, 5 })
            Assert.Contains($"if (!ws.Folded) Forward_relu{k}(", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu3(ws, ws._act_add1, ws._act_relu3, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu6(ws, ws._act_add2, ws._act_relu6, batch);", text, StringComparison.Ordinal);
    }

    // ---- The generated code runs --------------------------------------------------------------------------

    public static TheoryData<string> RunnableNetworks => new()
    {
        "SmallResNet",
        string.Format(CultureInfo.InvariantCulture, ConvReluNet, "conv1"),
        string.Format(CultureInfo.InvariantCulture, ConvReluNet, "relu1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "conv1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "bn1"),
        string.Format(CultureInfo.InvariantCulture, ConvNormReluNet, "relu1"),
        "[Input(1, 8, 8)] [Conv(3, 3, Padding = 1)] [ReLU] [Conv(3, 3, Padding = 1)] [Add(\"conv1\")] [Conv(3, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 3, Padding = 1)] [Add(\"bn1\")] [Dense(2)]",
        "[Input(2, 6, 6)] [Conv(3, 4, Padding = 1)] [ReLU] [Add(\"relu1\")] [Conv(3, 4, Padding = 1)] [ReLU] [Conv(3, 4, Padding = 1)] [Add(\"relu2\")] [Add(\"relu1\")] [MaxPool(2)] [Dense(6)] [Tanh] [Dense(6)] [Add(\"tanh1\")] [Dense(3)] [Softmax]",
        "[Input(1, 6, 40)] [Conv(3, 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 2, Padding = 1)] [BatchNorm] [Add(\"conv1\")] [ReLU] [Dense(2)]",
        "[Input(3, 9, 9)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv(1, 8)] [BatchNorm] [Add(\"relu1\")] [ReLU] [Dense(4)] [Softmax]",
    };

    private static Type LoadRunnable(string network, out string typeName)
    {
        if (network == "SmallResNet")
        {
            typeName = "CnnGen.Samples.Networks.SmallResNet";
            return LoadedNetwork.Load(AssertCompilesCleanly(Networks.SmallResNet), typeName);
        }
        typeName = "Res.Net";
        return LoadedNetwork.Load(Net(network), typeName);
    }

    [Theory]
    [MemberData(nameof(RunnableNetworks))]
    public void InferenceEqualsTheUnfusedPass_WithOneOrTwoWorkers(string attributes)
    {
        var type = LoadRunnable(attributes, out _);
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
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            Assert.Equal(network.Layers.Count, unfused.Length);
            for (int k = 0; k < network.OutputLength; k++)
            {
                float expected = unfused[^1][k], actual = one[b * network.OutputLength + k];
                Assert.True(Math.Abs(expected - actual) <= 1e-5f * (1 + Math.Abs(expected)), $"image {b}, output {k}: unfused {expected}, inference {actual}");
            }
            // Each Add's output is its input plus its source's output.
            for (int i = 0; i < network.Layers.Count; i++)
            {
                if (network.Layers[i].Kind != "Add") continue;
                string sourceName = Regex.Match(Row(network.Summary, network.Layers[i].Name), @"^\S+\s+Add (\S+)").Groups[1].Value;
                int source = network.Layers.ToList().FindIndex(l => l.Name == sourceName);
                Assert.True(source >= 0 && source < i, $"{network.Layers[i].Name} names {sourceName}");
                Assert.Equal(unfused[i - 1].Zip(unfused[source], (x, s) => x + s), unfused[i]);
            }
        }
    }

    /// <summary>Smooth activations only (no kinks), so central differences of the loss are accurate.</summary>
    public static TheoryData<string, bool> GradientNetworks => new()
    {
        { "[Input(1, 5, 5)] [Conv(3, 3, Padding = 1)] [Tanh] [Add(\"tanh1\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 2, Padding = 1)] [Add(\"tanh1\")] [Tanh] [Conv(3, 2, Padding = 1)] [Add(\"tanh1\")] [Add(\"tanh2\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 4, 4)] [Conv(3, 2, Padding = 1)] [Tanh] [Conv(3, 2, Padding = 1)] [Add(\"conv1\")] [Dense(6)] [Tanh] [Dense(6)] [Add(\"tanh2\")] [Dense(3)] [Softmax]", false },
        { "[Input(2, 4, 4)] [Tanh] [Conv(3, 2, Padding = 1, Frozen = true)] [Add(\"tanh1\")] [Conv(3, 2, Padding = 1)] [Add(\"add1\")] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 2, Padding = 1)] [BatchNorm] [Add(\"conv1\")] [Tanh] [Dense(3)] [Softmax]", false },
        { "[Input(1, 5, 5)] [Conv(3, 2, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 2, Padding = 1)] [BatchNorm] [Add(\"bn1\")] [Tanh] [Dense(3)] [Softmax]", true },
    };

    [Theory]
    [MemberData(nameof(GradientNetworks))]
    public void GradientsMatchFiniteDifferencesOfTheLoss(string attributes, bool training)
    {
        var type = LoadRunnable(attributes, out _);
        var network = (INetwork)Activator.CreateInstance(type, 6)!;
        AssertGradientsMatchFiniteDifferences(network, training);
    }
}
