using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// Images per micro-batch: inference's as many as keep their buffers in cache; a gradient pass's, where the weights and
/// their Winograd transforms are large against one image's buffers, enough that they are at most half of its images'
/// buffers (every micro-batch reads them again). The gradient pass then runs that many images at once, and its gradients
/// are still the mean of the images' own.
/// </summary>
public class MicroBatchTests
{
    // 8x8 maps of 64-128 channels: about 1.2 MB of weights and 7 MB of Winograd transforms (forward and input gradient)
    // against a few hundred KB of buffers per image.
    private const string WeightHeavy =
        "[Input(3, 8, 8)] [Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] [Dense(10)]";

    private static GeneratorRun Compile(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace MicroBatches;\n" + attributes + "\npublic partial class Net { }");

    [Fact]
    public void WeightsLargeAgainstOneImagesBuffersGiveGradientPassesTheirOwnMicroBatch()
    {
        var run = Compile(WeightHeavy);
        string code = run.Sources.Single().SourceText.ToString();
        var type = LoadedNetwork.Load(run, "MicroBatches.Net");
        int inference = LoadedNetwork.Constant<int>(type, "MicroBatch"), training = LoadedNetwork.Constant<int>(type, "TrainingMicroBatch");
        Assert.Equal(2, inference);
        Assert.Equal(50, training);
        Assert.Contains("batchNorm: false, trainingMicroBatch: TrainingMicroBatch) => _network = network;", code, StringComparison.Ordinal);
        // 305,162 parameters, and conv2's and conv3's transforms (36 x 64 x 128 and 36 x 128 x 128), forward and for the
        // input gradient (conv1, the first layer, needs none): 2,074,634 values.
        Assert.Contains("micro-batch reads (8,298,536 bytes)", code, StringComparison.Ordinal);

        // A batch of more than one training micro-batch: each worker's largest call holds that many images, and the
        // gradients are the mean of the images' own.
        var network = (INetwork)Activator.CreateInstance(type, 3)!;
        int batch = training + 5;
        var inputs = Inputs(network, batch, 4);
        var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
        var mean = new double[network.ParameterCount];
        for (int b = 0; b < batch; b++)
        {
            network.ComputeGradients(inputs.AsSpan(b * network.InputLength, network.InputLength), labels.AsSpan(b, 1), 1);
            for (int i = 0; i < mean.Length; i++) mean[i] += network.Gradients[i] / (double)batch;
        }
        network.ComputeGradients(inputs, labels, batch);
        Assert.Equal(training, ImagesHeld(network));
        double largest = mean.Max(Math.Abs);
        for (int i = 0; i < mean.Length; i++)
            Assert.True(Math.Abs(network.Gradients[i] - mean[i]) <= 1e-5 * largest, $"gradient {i} is {network.Gradients[i]}, the mean of the images' own {mean[i]}");

        // Inference keeps its own: a fresh network's forward pass over as many images holds 2 at a time. (An evaluation
        // pass may share this buffer with a larger output, 128 channels instead of 64: room for twice as many of conv1's.)
        var fresh = (INetwork)Activator.CreateInstance(type, 3)!;
        fresh.Forward(inputs, new float[batch * fresh.OutputLength], batch);
        Assert.InRange(ImagesHeld(fresh), inference, 2 * inference);
    }

    [Fact]
    public void BuffersLargeAgainstTheWeightsKeepOneMicroBatch()
    {
        // 40x40 maps of 8 channels: about 1.6 MB of buffers per image against 10 KB of weights.
        var run = Compile("[Input(4, 40, 40)] [Conv(3, 8, Padding = 1)] [Tanh] [Conv(3, 8, Padding = 1)] [AvgPool(8)] [Dense(3)]");
        string code = run.Sources.Single().SourceText.ToString();
        Assert.Contains("public const int MicroBatch = 1;", code, StringComparison.Ordinal);
        Assert.DoesNotContain("TrainingMicroBatch", code, StringComparison.Ordinal);
    }

    [Fact]
    public void InferenceHoldsAsManyImagesAsItsWinogradLayersNeedToRunWinograd()
    {
        // ResNet-18: its buffers alone give one image, but its 512 -> 512 layers on 7 x 7 maps (37.7 MB of transformed
        // weights, 4 tiles an image) run Winograd from 2 images per call.
        string code = Generated(ResNet18DeclarationTests.Declaration());
        Assert.Contains("public const int MicroBatch = 2;", code, StringComparison.Ordinal);
        Assert.Contains("if (!ws.KeepForBackward && batch >= 2)", code, StringComparison.Ordinal);
        // 256 -> 256 layers on 14 x 14 maps (9.4 MB) run Winograd from one image: no floor above the buffers' choice.
        code = Compile("[Input(256, 14, 14)] [Conv(3, 256, Padding = 1)] [ReLU] [GlobalAvgPool] [Dense(10)]").Sources.Single().SourceText.ToString();
        Assert.Contains("public const int MicroBatch = 1;", code, StringComparison.Ordinal);
    }

    /// <summary>Images the first worker's buffer of the first layer's outputs has room for: the largest call it ran.</summary>
    private static int ImagesHeld(INetwork network)
    {
        var passes = network.GetType().GetProperty("GeneratedPasses", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(network)!;
        var workspace = passes.GetType().GetMethod("Workspace", BindingFlags.Public | BindingFlags.Instance)!.Invoke(passes, [0])!;
        var outputs = (float[])workspace.GetType().GetField("_act_conv1")!.GetValue(workspace)!;
        return outputs.Length / (64 * 8 * 8);
    }
}
