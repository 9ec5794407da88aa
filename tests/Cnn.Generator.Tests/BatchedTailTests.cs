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
    public void ASoftmaxOfAnEarlierLayerLeavesTheNetworkWithoutATail()
    {
        // The logits are relu1's output (one micro-batch's buffer), not the last layer's; the dense layers after it are
        // unread (a warning), and their 2 MiB of weights do not make a tail.
        var run = TestDriver.Run("using CnnGen;\nnamespace Tails;\n[Input(4, 16, 16)] [Conv(3, 16, Padding = 1)] [ReLU] [Dense(128)] [Dense(10)] " +
                                 "[Softmax(From = \"relu1\")]\npublic partial class Net { }");
        Assert.Null(run.Result.Exception);
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("CNN0029", d.Id));
        Assert.NotEmpty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputProblems);
        Assert.DoesNotContain("RunTail", run.Sources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryImageGetsTheBitsItGetsAlone_OnAnyThreads_AcrossBlocks()
    {
        // 70 images: on one thread a block of 64 and one of 6, each gathered over micro-batches of 11 (the last one short);
        // on two and three threads, micro-batches of 11 handed out as the workers ask for them, each worker's tail
        // running on the images it took (up to 55, five micro-batches).
        const int batch = 70;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var network = PerturbedNetwork(); // a gathering buffer of its own, grown by this pass alone
            var inputs = Inputs(network, batch, seed: 8);
            var alone = Alone(network, inputs, batch);
            Assert.True(alone.Distinct().Count() > batch, "the outputs are not a fair test");
            network.Threads = threads;
            var outputs = new float[batch * network.OutputLength];
            network.Forward(inputs, outputs, batch);
            // The batch went through the tail: the first worker gathered head outputs for a block.
            Assert.Equal((threads == 1 ? 64 : 55) * 4096, TailInputs(network));
            AssertSameBits(alone, outputs, network.OutputLength, $"{threads} thread(s)");
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 7)]
    [InlineData(4, 70)]
    [InlineData(3, 65)]
    [InlineData(2, 129)]
    public void ImagesSharedOutAsTheWorkersAsk_KeepTheirBitsAndPlaces(int threads, int batch)
    {
        // The workers take micro-batches of 11 images (fewer when a worker's even share is smaller, and at the batch's
        // end) until none is left, so a worker's images need not follow one another: each gathered image's outputs must
        // go back to its place. 129 images on two threads fill a worker's block (55 images) at least once.
        var network = PerturbedNetwork();
        var inputs = Inputs(network, batch, seed: 12 + batch);
        var alone = Alone(network, inputs, batch);
        network.Threads = threads;
        var outputs = new float[batch * network.OutputLength];
        for (int call = 0; call < 3; call++)
        {
            Array.Fill(outputs, float.NaN);
            network.Forward(inputs, outputs, batch);
            AssertSameBits(alone, outputs, network.OutputLength, $"{threads} threads, {batch} images, call {call}");
        }
    }

    [Fact]
    public void FewerImagesThanThreads_SplitOverTheThreads_KeepTheirBits()
    {
        // 12 images on 16 threads with SplitImages: one workspace whose layers split each image over the threads, two
        // micro-batches of the head (11 + 1) gathered, then the tail on the 12, its dense layers split by units.
        var network = PerturbedNetwork();
        const int batch = 12;
        var inputs = Inputs(network, batch, seed: 11);
        var alone = Alone(network, inputs, batch);
        network.Threads = 16;
        network.SplitImages = true;
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs, outputs, batch);
        Assert.Equal(batch * 4096, TailInputs(network));
        AssertSameBits(alone, outputs, network.OutputLength, "16 threads, split");
    }

    [Fact]
    public void TheWholePassesRunTheTailAfterTheHead_ActivationsAndGradients()
    {
        var network = PerturbedNetwork();
        var image = Inputs(network, 1, seed: 9);
        var probabilities = new float[network.OutputLength];
        network.Forward(image, probabilities, 1);
        // Activations' unfused pass (head, then tail, in buffers of a block of images): the same probabilities, to rounding.
        var activations = network.Activations(image);
        for (int i = 0; i < probabilities.Length; i++)
            Assert.True(Math.Abs(activations[^1][i] - probabilities[i]) <= 1e-6, $"class {i}: Activations {activations[^1][i]}, Forward {probabilities[i]}");
        // A gradient pass through the head and tail on one and two workers (tail buffers of at least a block each).
        const int batch = 40;
        var inputs = Inputs(network, batch, seed: 10);
        var labels = Enumerable.Range(0, batch).Select(b => b % 10).ToArray();
        network.Threads = 1;
        float loss = network.ComputeGradients(inputs, labels, batch);
        var gradients = network.Gradients.ToArray();
        var twin = PerturbedNetwork();
        twin.Threads = 2;
        Assert.Equal(loss, twin.ComputeGradients(inputs, labels, batch), 5);
        double scale = gradients.Max(g => Math.Abs(g));
        Assert.True(scale > 1e-3, "the gradients are not a fair test");
        var split = twin.Gradients;
        for (int i = 0; i < gradients.Length; i++)
            Assert.True(Math.Abs(split[i] - gradients[i]) <= 1e-5 * scale, $"gradient {i}: two workers {split[i]}, one {gradients[i]}");
    }

    private static INetwork PerturbedNetwork()
    {
        var network = (INetwork)Activator.CreateInstance(LoadedNetwork.Load(TailRun.Value, "Tails.Net"), 5)!;
        Perturb(network, seed: 6);
        return network;
    }

    /// <summary>Each image's outputs from a pass of that image alone, on one thread (no tail: one image is one micro-batch).</summary>
    private static float[] Alone(INetwork network, float[] inputs, int batch)
    {
        var alone = new float[batch * network.OutputLength];
        network.Threads = 1;
        for (int b = 0; b < batch; b++)
            network.Forward(inputs.AsSpan(b * network.InputLength, network.InputLength), alone.AsSpan(b * network.OutputLength, network.OutputLength), 1);
        return alone;
    }

    private static void AssertSameBits(float[] alone, float[] outputs, int outputLength, string pass)
    {
        for (int i = 0; i < outputs.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(outputs[i]),
                $"{pass}, image {i / outputLength}, output {i % outputLength}: {outputs[i]:R}, alone {alone[i]:R}");
    }

    /// <summary>Values the first worker's workspace holds for a batched tail's gathered head outputs.</summary>
    private static int TailInputs(INetwork network)
    {
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        object passes = network.GetType().GetField("_passes", Private)!.GetValue(network)!;
        var workspaces = (Array)passes.GetType().BaseType!.GetField("_workspaces", Private)!.GetValue(passes)!;
        object workspace = workspaces.GetValue(0)!;
        return ((float[])typeof(GeneratedNetworks.NetworkWorkspace).GetField("_tailInputs", Private)!.GetValue(workspace)!).Length;
    }

    private static string Normalized(string code) => code.Replace("\r\n", "\n", StringComparison.Ordinal);
}
