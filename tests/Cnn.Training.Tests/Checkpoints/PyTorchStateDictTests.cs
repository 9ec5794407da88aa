using System.Text.Json;
using CnnGen.Checkpoints;
using CnnGen.Training.Tests.Training;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

/// <summary>
/// A state_dict saved by PyTorch (<c>tools/pytorch_state_dict.py</c>, modules named as CnnGen names its layers) loads
/// strictly into the generated LeNet-5, which then computes PyTorch's outputs.
/// </summary>
public class PyTorchStateDictTests
{
    private static readonly string Path = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "PyTorchLeNet5.safetensors");

    [Fact]
    public void PyTorchStateDictLoadsAndGivesPyTorchsOutputs()
    {
        var network = new TrainLeNet(seed: 0);
        var info = Checkpoint.Load(Path, network);
        Assert.Null(info.Network);          // written by PyTorch: no CnnGen metadata
        Assert.Null(info.ArchitectureMatches);
        Assert.StartsWith("torch 1.13", info.Metadata["producer"]);

        var expected = JsonSerializer.Deserialize<float[]>(info.Metadata["test_probabilities"])!;
        var inputs = new float[4 * TrainLeNet.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)Math.Sin(i * 0.01);
        var outputs = new float[4 * TrainLeNet.OutputLength];
        network.Forward(inputs, outputs, 4);
        for (int i = 0; i < outputs.Length; i++)
            Assert.True(Math.Abs(outputs[i] - expected[i]) < 1e-5, $"output {i}: CnnGen {outputs[i]}, PyTorch {expected[i]}");
    }

    [Fact]
    public void PyTorchStateDictMatchesEveryTensorByName()
    {
        var report = Checkpoint.LoadMatching(Path, new TrainLeNet(seed: 0));
        Assert.Equal(TrainLeNet.Tensors.Select(t => t.Name), report.Loaded);
        Assert.Empty(report.Skipped);
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unused);
    }

    [Fact]
    public void PyTorchTrainedWeightsGivePyTorchsTestAccuracy()
    {
        var network = new TrainLeNet(seed: 0) { Threads = 2 };
        var info = Checkpoint.Load(Path, network);
        double expected = double.Parse(info.Metadata["test_accuracy"], System.Globalization.CultureInfo.InvariantCulture);
        float mean = float.Parse(info.Metadata["input_mean"], System.Globalization.CultureInfo.InvariantCulture);
        var test = CnnGen.Data.FashionMnist.LoadTest();
        test.SubtractMean(mean);
        var evaluation = CnnGen.Training.Evaluation.Run(network, test);
        Assert.Equal(Math.Round(expected, 2), Math.Round(evaluation.Accuracy, 2));
        // Closer than the second decimal: at most a couple of near-ties may go the other way in float32.
        Assert.True(Math.Abs(evaluation.Accuracy - expected) * test.Count <= 2, $"CnnGen {evaluation.Accuracy}, PyTorch {expected}");
    }
}
