using System.Globalization;
using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Networks with [BatchNorm] generate code that compiles without a warning, and their compile-time facts (parameter
/// count, state tensors, layer table, folding) are what the layers say.
/// </summary>
public class BatchNormCompileTests
{
    private static GeneratorRun Net(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Bn;\n" + attributes + "\npublic partial class Net { }");

    [Fact] public void LeNet5BatchNorm() => AssertCompilesCleanly(Networks.LeNet5BatchNorm);

    [Theory]
    [InlineData("after a direct-path conv, then ReLU", "[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("after a direct-path conv without padding, then ReLU and Softmax", "[Input(2, 6, 6)] [Conv(3, 3)] [BatchNorm] [ReLU] [Softmax]")]
    [InlineData("after a direct-path conv, then LeakyReLU (not fused)", "[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm] [LeakyReLU] [Dense(3)]")]
    [InlineData("after a stride-2 conv (im2col)", "[Input(3, 17, 17)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Dense(4)]")]
    [InlineData("after a conv with rows wider than 32 (im2col)", "[Input(1, 6, 40)] [Conv(3, 2)] [BatchNorm] [ReLU] [Dense(2)]")]
    [InlineData("after a 1x1 conv", "[Input(8, 5, 5)] [Conv(1, 4)] [BatchNorm] [ReLU] [Conv(1, 2)] [BatchNorm] [Dense(2)]")]
    [InlineData("after dense layers", "[Input(1, 8, 8)] [Dense(16)] [BatchNorm] [ReLU] [Dense(8)] [BatchNorm] [Tanh] [Dense(3)] [Softmax]")]
    [InlineData("after a pool (not folded)", "[Input(1, 12, 12)] [Conv(3, 4)] [MaxPool(2)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("after an average pool and a ReLU (not folded)", "[Input(1, 12, 12)] [Conv(3, 4)] [ReLU] [AvgPool(2)] [BatchNorm] [Dense(3)]")]
    [InlineData("before Softmax", "[Input(1, 8, 8)] [Conv(3, 4)] [ReLU] [Dense(5)] [BatchNorm] [Softmax]")]
    [InlineData("as the last layer", "[Input(1, 8, 8)] [Conv(3, 4)] [BatchNorm]")]
    [InlineData("frozen", "[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm(Frozen = true)] [ReLU] [Dense(3)] [BatchNorm(Frozen = true)] [Softmax]")]
    [InlineData("with dropout and maxout", "[Input(1, 12, 12)] [Conv(3, 8)] [Maxout(2)] [BatchNorm] [Dropout(0.3f)] [MaxPool(2)] [Dense(8)] [BatchNorm] [Maxout(2)] [Dropout(0.5f)] [Dense(3)] [Softmax]")]
    [InlineData("dropout between a conv and its BatchNorm", "[Input(1, 12, 12)] [Conv(3, 4)] [Dropout(0.2f)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("only trainable layer before it frozen", "[Input(1, 12, 12)] [Conv(3, 4, Frozen = true)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("every layer frozen", "[Input(1, 12, 12)] [Conv(3, 4, Frozen = true)] [BatchNorm(Frozen = true)] [ReLU] [Dense(3, Frozen = true)]")]
    [InlineData("nothing trainable but the BatchNorm after a frozen dense", "[Input(1, 4, 4)] [Dense(6, Frozen = true)] [BatchNorm] [Softmax]")]
    [InlineData("named", "[Input(1, 12, 12)] [Conv(3, 4, Name = \"stem\")] [BatchNorm(Name = \"norm\")] [ReLU(Name = \"act\")] [Dense(3, Name = \"head\")]")]
    [InlineData("several in a row of conv blocks", "[Input(3, 16, 16)] [Conv(3, 8, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 8, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [Conv(4, 16, Stride = 2, Padding = 1)] [BatchNorm] [ELU] [Dense(10)] [Softmax]")]
    public void BatchNormNetwork(string what, string attributes)
    {
        Assert.NotEmpty(what);
        Net(attributes);
    }

    [Fact]
    public void BatchNormTwice_WarnsButCompiles()
    {
        var run = TestDriver.Run("using CnnGen;\nnamespace Bn;\n[Input(1, 8, 8)] [Conv(3, 4)] [BatchNorm] [BatchNorm] [ReLU] [Dense(3)]\npublic partial class Net { }");
        Assert.Equal(new[] { "CNN0024" }, run.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Single(run.Sources);
        Assert.Empty(run.OutputProblems);
        // Only the first is folded into the conv; the second runs as a layer.
        string text = run.Sources[0].SourceText.ToString();
        Assert.Contains("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// bn2 into", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralNetworksInOneFile_WithAndWithoutBatchNorm() => AssertCompilesCleanly(
        Networks.LeNet5BatchNorm + "\n[Input(1, 8, 8)] [Dense(4)] public partial class Plain { }" +
        "\n[Input(1, 8, 8)] [Dense(4)] [BatchNorm] public partial class Tiny { }", expectedSources: 3);

    // ---- Compile-time facts -------------------------------------------------------------------------------

    /// <summary>conv1 (216 + 8), bn1 (16), pool1, pooled (16), dense1 (1280 + 10), bn3 (20).</summary>
    private const string Mixed = """
        using CnnGen;
        namespace Bn;
        [Input(3, 15, 15)]
        [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
        [BatchNorm(Name = "pooled")]
        [Dense(10)] [BatchNorm] [Softmax]
        public partial class Mixed { }
        """;

    private static IReadOnlyList<TensorInfo> StaticTensors(Type type, string property) =>
        (IReadOnlyList<TensorInfo>)type.GetProperty(property, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    private static string Describe(TensorInfo t) =>
        $"{t.Name} {t.ShapeText} @{t.Offset.ToString(CultureInfo.InvariantCulture)}+{t.Length.ToString(CultureInfo.InvariantCulture)}";

    [Fact]
    public void ParameterCountIncludesTwoValuesPerChannelOfEachBatchNorm()
    {
        var run = AssertCompilesCleanly(Mixed);
        var type = LoadedNetwork.Load(run, "Bn.Mixed");
        Assert.Equal(224 + 16 + 16 + 1290 + 20, LoadedNetwork.Constant<int>(type, "ParameterCount"));
        Assert.Equal(new[]
        {
            "conv1.weight [8, 3, 3, 3] @0+216", "conv1.bias [8] @216+8",
            "bn1.weight [8] @224+8", "bn1.bias [8] @232+8",
            "pooled.weight [8] @240+8", "pooled.bias [8] @248+8",
            "dense1.weight [10, 128] @256+1280", "dense1.bias [10] @1536+10",
            "bn3.weight [10] @1546+10", "bn3.bias [10] @1556+10",
        }, StaticTensors(type, "Tensors").Select(Describe));
    }

    [Fact]
    public void StateTensorsAreRunningMeanVarianceAndBatchCount_InLayerOrder()
    {
        var run = AssertCompilesCleanly(Mixed);
        var type = LoadedNetwork.Load(run, "Bn.Mixed");
        Assert.Equal(new[]
        {
            "bn1.running_mean [8] @0+8", "bn1.running_var [8] @8+8", "bn1.num_batches_tracked [] @16+1",
            "pooled.running_mean [8] @17+8", "pooled.running_var [8] @25+8", "pooled.num_batches_tracked [] @33+1",
            "bn3.running_mean [10] @34+10", "bn3.running_var [10] @44+10", "bn3.num_batches_tracked [] @54+1",
        }, StaticTensors(type, "StateTensors").Select(Describe));
        Assert.Equal(55, LoadedNetwork.Constant<int>(type, "StateLength"));

        // The instance exposes the same through INetwork, and starts as PyTorch does: mean 0, variance 1, count 0.
        var network = (INetwork)Activator.CreateInstance(type, 0)!;
        Assert.Equal(55, network.State.Length);
        Assert.Equal(StaticTensors(type, "StateTensors"), network.StateTensors);
        float[] state = network.State.ToArray();
        foreach (var t in network.StateTensors)
        {
            float expected = t.Name.EndsWith(".running_var", StringComparison.Ordinal) ? 1f : 0f;
            Assert.All(state.AsSpan(t.Offset, t.Length).ToArray(), v => Assert.Equal(expected, v));
        }
        float[] parameters = network.Parameters.ToArray();
        Assert.All(network.Parameter("bn1.weight").ToArray(), v => Assert.Equal(1f, v));
        Assert.All(network.Parameter("pooled.bias").ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(parameters.Length, network.ParameterCount);
    }

    [Fact]
    public void NetworkWithoutBatchNormHasNoStateTensors()
    {
        var run = AssertCompilesCleanly(Networks.LeNet5);
        var type = LoadedNetwork.Load(run, "CnnGen.Samples.Networks.LeNet5");
        Assert.Empty(StaticTensors(type, "StateTensors"));
        Assert.Equal(0, LoadedNetwork.Constant<int>(type, "StateLength"));
        Assert.Equal(0, ((INetwork)Activator.CreateInstance(type, 0)!).State.Length);
        Assert.DoesNotContain("FoldBatchNorm", run.Sources[0].SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LayersAndSummaryShowBatchNormRows()
    {
        var run = AssertCompilesCleanly(Mixed);
        var type = LoadedNetwork.Load(run, "Bn.Mixed");
        var layers = LoadedNetwork.Layers(run, "Bn.Mixed");
        Assert.Equal(new[] { "conv1", "bn1", "relu1", "pool1", "pooled", "dense1", "bn3", "softmax1" }, layers.Select(l => l.Name));
        var bn1 = layers[1];
        Assert.Equal(("BatchNorm", 8, 8, 8, 16L), (bn1.Kind, bn1.OutputChannels, bn1.OutputHeight, bn1.OutputWidth, bn1.Parameters));
        // A BatchNorm keeps its input's receptive field, stride and padding.
        Assert.Equal((layers[0].ReceptiveField, layers[0].EffectiveStride, layers[0].EffectivePadding),
            (bn1.ReceptiveField, bn1.EffectiveStride, bn1.EffectivePadding));
        Assert.Equal(("BatchNorm", 10, 1, 1, 20L), (layers[6].Kind, layers[6].OutputChannels, layers[6].OutputHeight, layers[6].OutputWidth, layers[6].Parameters));

        string summary = LoadedNetwork.Constant<string>(type, "Summary");
        string[] Row(string name) => summary.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new[] { "bn1", "BatchNorm", "8x8x8" }, Row("bn1").Take(3));
        Assert.Equal("16", Row("bn1")[6]);
        Assert.Equal(new[] { "pooled", "BatchNorm", "8x4x4" }, Row("pooled").Take(3));
        Assert.Equal("16", Row("pooled")[6]);
        Assert.Equal(new[] { "bn3", "BatchNorm", "10x1x1" }, Row("bn3").Take(3));
        Assert.Equal("20", Row("bn3")[6]);
        Assert.Contains("Parameters: 1,566;", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchNormsDirectlyAfterAConvolutionAreFolded_OthersAreNot()
    {
        var run = AssertCompilesCleanly(Mixed);
        string text = run.Sources[0].SourceText.ToString();
        // conv1's weight and bias (224) get folded copies; pooled follows a pool and bn3 a dense layer (folding it
        // would cost as much as the dense layer on every pass): both run as layers.
        Assert.Contains("private readonly float[] _folded = new float[224];", text, StringComparison.Ordinal);
        Assert.Contains("// bn1 into conv1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// bn3 into", text, StringComparison.Ordinal);
        Assert.DoesNotContain("// pooled into", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_bn1(", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_bn3(ws, ws._act_dense1, ws._act_bn3, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_pooled(ws, ws._act_pool1, ws._act_pooled, batch);", text, StringComparison.Ordinal);
        // conv1 has stride 2 (im2col): its product applies the ReLU after bn1 as it stores, when bn1 is folded in.
        Assert.Contains("if (!ws.Folded) Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("// With bn1 folded in, relu1 is applied as the product is stored, into its output.", text, StringComparison.Ordinal);

        var type = LoadedNetwork.Load(run, "Bn.Mixed");
        var fold = type.GetProperty("FoldBatchNorm", BindingFlags.Public | BindingFlags.Instance);
        Assert.NotNull(fold);
        Assert.Equal(true, fold!.GetValue(Activator.CreateInstance(type, 0)));
    }

    [Fact]
    public void DirectConvFollowedByBatchNormAndReLU_FusesTheReLU()
    {
        var run = Net("[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Dense(3)]");
        string text = run.Sources[0].SourceText.ToString();
        Assert.Contains("with bn1 folded in, relu1 is fused too", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_bn1(", text, StringComparison.Ordinal);
        Assert.Contains("if (!ws.Folded) Forward_relu1(", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm] [LeakyReLU] [Dense(2)]")] // only ReLU (and ReLU6) is fused
    [InlineData("[Input(1, 12, 12)] [Conv(3, 4)] [BatchNorm] [ReLU6] [Dense(2)]")]     // the direct kernel fuses ReLU only
    public void OtherActivationsAfterBatchNorm_AreNotFused(string attributes)
    {
        string text = Net(attributes).Sources[0].SourceText.ToString();
        Assert.Contains("if (!ws.Folded) Forward_bn1(", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is fused too", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (!ws.Folded) Forward_relu1(", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (!ws.Folded) Forward_leakyrelu1(", text, StringComparison.Ordinal);
        Assert.DoesNotContain("if (!ws.Folded) Forward_relu6_1(", text, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchNormAfterADenseLayerIsNotFolded()
    {
        string text = Net("[Input(1, 12, 12)] [Dense(6)] [BatchNorm] [ReLU] [Dense(2)]").Sources[0].SourceText.ToString();
        Assert.Contains("private readonly float[] _folded = new float[0];", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_bn1(ws, ws._act_dense1, ws._act_bn1, batch);", text, StringComparison.Ordinal);
        Assert.Contains("\n        Forward_relu1(ws, ws._act_bn1, ws._act_relu1, batch);", text, StringComparison.Ordinal);
    }

    // ---- The generated code runs: folding changes nothing but rounding ------------------------------------

    [Theory]
    [InlineData("[Input(1, 12, 12)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [Dense(5)] [BatchNorm] [ReLU] [Dense(3)] [Softmax]")]
    [InlineData("[Input(3, 15, 15)] [Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)] [BatchNorm] [Dense(4)]")]
    [InlineData("[Input(2, 6, 40)] [Conv(3, 2)] [BatchNorm] [LeakyReLU] [Conv(1, 3)] [BatchNorm] [Dense(4)] [BatchNorm]")]
    [InlineData("[Input(1, 8, 8)] [Conv(3, 4, Frozen = true)] [BatchNorm(Frozen = true)] [ReLU] [Dense(3)] [BatchNorm] [Softmax]")]
    [InlineData("[Input(2, 6, 6)] [Conv(3, 3)] [BatchNorm] [ReLU] [Softmax]")]
    [InlineData("[Input(1, 8, 8)] [Conv(3, 4)] [MaxPool(2)] [BatchNorm] [Dropout(0.5f)] [Dense(4)] [BatchNorm] [Maxout(2)]")]
    public void EvaluationWithFoldedBatchNormsMatchesUnfolded(string attributes)
    {
        var run = Net(attributes);
        var type = LoadedNetwork.Load(run, "Bn.Net");
        var network = (INetwork)Activator.CreateInstance(type, 7)!;
        var random = new Random(3);
        // Statistics and BatchNorm parameters away from their initial values, so that folding has something to do.
        var state = network.State;
        foreach (var t in network.StateTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
                state[i] = t.Name.EndsWith(".running_var", StringComparison.Ordinal) ? 0.5f + random.NextSingle() : random.NextSingle() - 0.5f;
        foreach (var t in network.Tensors.Where(t => t.Name.StartsWith("bn", StringComparison.Ordinal)))
            foreach (ref float v in network.Parameter(t.Name))
                v += random.NextSingle() - 0.5f;

        const int batch = 5;
        var inputs = new float[batch * network.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextSingle() * 2 - 1;
        var fold = type.GetProperty("FoldBatchNorm")!;
        float[] Run(bool folded, int threads)
        {
            fold.SetValue(network, folded);
            network.Threads = threads;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            return outputs;
        }
        float[] unfolded = Run(false, 1), folded = Run(true, 1), foldedThreads = Run(true, 2);
        for (int i = 0; i < unfolded.Length; i++)
            Assert.True(Math.Abs(unfolded[i] - folded[i]) <= 1e-4f * (1 + Math.Abs(unfolded[i])), $"output {i}: unfolded {unfolded[i]}, folded {folded[i]}");
        Assert.Equal(folded, foldedThreads);
        // Evaluation reads the running statistics and leaves them alone.
        Assert.Equal(state.ToArray(), network.State.ToArray());
    }

    [Theory]
    [InlineData("[Input(1, 8, 8)] [Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Dense(5)] [BatchNorm] [Dense(3)] [Softmax]")]
    [InlineData("[Input(1, 8, 8)] [Conv(3, 4, Frozen = true)] [BatchNorm] [ReLU] [Dense(3)]")]
    [InlineData("[Input(1, 8, 8)] [Conv(3, 4, Frozen = true)] [BatchNorm(Frozen = true)] [ReLU] [Dense(3, Frozen = true)]")]
    [InlineData("[Input(2, 6, 6)] [Conv(3, 4)] [MaxPool(2)] [BatchNorm] [Dropout(0.25f)] [Dense(4)] [BatchNorm] [Maxout(2)] [Softmax]")]
    [InlineData("[Input(1, 4, 4)] [Dense(6, Frozen = true)] [BatchNorm] [Softmax]")]
    public void TrainingModeCountsOneBatchPerPass_WithOneOrSeveralWorkers(string attributes)
    {
        var run = Net(attributes);
        var type = LoadedNetwork.Load(run, "Bn.Net");
        const int batch = 6;
        var random = new Random(11);
        var inputs = new float[batch * LoadedNetwork.Constant<int>(type, "InputLength")];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextSingle() * 2 - 1;
        var labels = new int[batch];
        for (int b = 0; b < batch; b++) labels[b] = b % LoadedNetwork.Constant<int>(type, "OutputLength");

        (float Loss, float[] Gradients, float[] State) Train(int threads)
        {
            var network = (INetwork)Activator.CreateInstance(type, 5)!;
            network.Threads = threads;
            network.Training = true;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            float loss = network.ComputeGradients(inputs, labels, batch);
            foreach (var t in network.StateTensors.Where(t => t.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
                Assert.Equal(2f, network.State[t.Offset]);
            return (loss, network.Gradients.ToArray(), network.State.ToArray());
        }

        var one = Train(1);
        Assert.True(float.IsFinite(one.Loss));
        foreach (int threads in new[] { 2, 3 })
        {
            var several = Train(threads);
            Assert.Equal(one.Loss, several.Loss, 1e-5f);
            for (int i = 0; i < one.Gradients.Length; i++)
                Assert.True(Math.Abs(one.Gradients[i] - several.Gradients[i]) <= 1e-4f * (1 + Math.Abs(one.Gradients[i])),
                    $"{threads} workers, gradient {i}: {several.Gradients[i]}, one worker: {one.Gradients[i]}");
            for (int i = 0; i < one.State.Length; i++)
                Assert.True(Math.Abs(one.State[i] - several.State[i]) <= 1e-5f * (1 + Math.Abs(one.State[i])),
                    $"{threads} workers, state {i}: {several.State[i]}, one worker: {one.State[i]}");
        }
    }
}
