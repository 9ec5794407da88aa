using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Dense layers at the end of a network with 1 MiB of weights or more, when inference's micro-batch is smaller than a
/// tail block (64 images), form a batched tail: a batch's evaluation pass runs the head a micro-batch at a time, gathers
/// the head's last outputs and runs the tail once per block, so the dense weights are read once per block instead of
/// once per micro-batch. Every image gets the bits it gets alone, on any thread count.
/// </summary>
public class BatchedTailTests
{
    // conv1's 16 x 16 x 16 output flattens into dense1: 4096 x 128 weights (2 MiB); a micro-batch of 11 images.
    private const string Tail =
        "[Input(4, 16, 16)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(128)] [ReLU] [Dropout(0.5f)] [Dense(10)] [Softmax]";

    private static readonly Lazy<GeneratorRun> TailRun = new(() => Compile(Tail));

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Tails;\n" + attributes + "\npublic partial class Net { }");

    private static string Code(GeneratorRun run) => run.Sources.Single().SourceText.ToString();

    private static int? TailImages(Type network) =>
        network.GetField("TailImages", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as int?;

    [Fact]
    public void LargeDenseWeightsAtTheEndRunOncePerBlockOfImages()
    {
        var run = TailRun.Value;
        string code = Code(run);
        var type = LoadedNetwork.Load(run, "Tails.Net");
        Assert.Equal(11, LoadedNetwork.Constant<int>(type, "MicroBatch"));
        Assert.Equal(64, TailImages(type));
        Assert.Contains(", tailInputLength: 4096, tailImages: TailImages) => _network = network;", code, StringComparison.Ordinal);
        Assert.Contains("protected override global::System.ReadOnlySpan<float> HeadOutput(Workspace ws) => ws._act_relu1;", code, StringComparison.Ordinal);
        // The whole pass is the head, then the tail on the head's output.
        Assert.Contains("RunHead(ws, inputs, batch);\n        RunTail(ws, ws._act_relu1, batch);", Normalized(code), StringComparison.Ordinal);
        // The tail's first layer reads the gathered outputs; the rest read the layer before.
        Assert.Contains("Forward_dense1(ws, features, ws._act_dense1, batch);\n        Forward_relu2(ws, ws._act_dense1, ws._act_relu2, batch);\n" +
                        "        Forward_dropout1(ws, ws._act_relu2, ws._act_dropout1, batch);\n        Forward_dense2(ws, ws._act_dropout1, ws._act_dense2, batch);", Normalized(code), StringComparison.Ordinal);
        // The tail's outputs hold a block of images in every pass, and share no buffer with the head's.
        Assert.Contains("Grow(ref _act_dense1, 128L * global::System.Math.Max(batch, TailImages), batch);", code, StringComparison.Ordinal);
        Assert.Contains("Grow(ref _act_dense2, 10L * global::System.Math.Max(batch, TailImages), batch);", code, StringComparison.Ordinal);
        Assert.DoesNotContain("_act_dense1 = _shared", code, StringComparison.Ordinal);
        Assert.Contains("_act_relu1 = _shared", code, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Input(4, 16, 16)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(60)] [ReLU] [Dense(10)]")]   // 4096 x 60 weights: 960 KiB
    [InlineData("[Input(256, 1, 1)] [Dense(32)] [Dense(1024)] [Dense(256)]")]                           // 1.2 MiB, but micro-batches of 64 images
    [InlineData("[Input(4, 16, 16)] [Dense(4096)] [ReLU] [Dense(10)]")]                                  // the large layer would leave no head
    [InlineData("[Input(4, 16, 16)] [Conv(3, 16, Padding = 1)] [Dense(128)] [BatchNorm] [ReLU] [Dense(10)]")] // a BatchNorm cuts the run before the large layer
    public void OtherNetworksHaveNoTail(string attributes)
    {
        var run = Compile(attributes);
        string code = Code(run);
        Assert.Null(TailImages(LoadedNetwork.Load(run, "Tails.Net")));
        Assert.DoesNotContain("RunTail", code, StringComparison.Ordinal);
        Assert.DoesNotContain("tailInputLength", code, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryImageGetsTheBitsItGetsAlone_OnAnyThreads_AcrossBlocks()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(TailRun.Value, "Tails.Net"), 5)!;
        Perturb(network, seed: 6);
        // 70 images: on one thread a block of 64 and one of 6, each gathered over micro-batches of 11 (the last one short);
        // on two threads 35 images each.
        const int batch = 70;
        var inputs = Inputs(network, batch, seed: 8);
        var alone = new float[batch * network.OutputLength];
        network.Threads = 1;
        for (int b = 0; b < batch; b++)
            network.Forward(inputs.AsSpan(b * network.InputLength, network.InputLength), alone.AsSpan(b * network.OutputLength, network.OutputLength), 1);
        Assert.True(alone.Distinct().Count() > batch, "the outputs are not a fair test");
        foreach (int threads in new[] { 1, 2, 3 })
        {
            network.Threads = threads;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            for (int i = 0; i < outputs.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(outputs[i]),
                    $"{threads} thread(s), image {i / network.OutputLength}, output {i % network.OutputLength}: {outputs[i]:R}, alone {alone[i]:R}");
        }
    }

    private static string Normalized(string code) => code.Replace("\r\n", "\n", StringComparison.Ordinal);
}
