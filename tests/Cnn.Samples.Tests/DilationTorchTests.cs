using CnnGen.PyTorch;
using CnnGen.Samples.Tests.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// Dilated convolutions against PyTorch's <c>Conv2d(dilation=...)</c>: the same network (<see cref="DilatedNet"/>),
/// randomly initialised by PyTorch, loads strictly; evaluation logits agree within 1e-4 of their scale, and in training
/// mode the loss, every parameter gradient and the BatchNorm statistics agree with PyTorch's float64 step. The ONNX
/// export carries <c>dilations</c> (ONNX Runtime gives CnnGen's outputs) and the PyTorch export <c>dilation=</c>.
/// </summary>
public sealed class DilationTorchTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-dilation").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 32x32 -> conv1 (span 5, padding 2) 32x32 -> conv2 (span 7, stride 2, padding 3) 16x16 -> conv3 (span 9) 8x8 -> fc.
    private const string Model = "torch.nn.Sequential(__import__('collections').OrderedDict([" +
        "('conv1', torch.nn.Conv2d(3, 8, 3, padding=2, dilation=2, bias=False)), ('bn1', torch.nn.BatchNorm2d(8)), ('relu1', torch.nn.ReLU()), " +
        "('conv2', torch.nn.Conv2d(8, 8, 3, stride=2, padding=3, dilation=3, groups=2)), ('relu2', torch.nn.ReLU()), " +
        "('conv3', torch.nn.Conv2d(8, 6, 3, dilation=4)), ('relu3', torch.nn.ReLU()), " +
        "('flatten', torch.nn.Flatten()), ('fc', torch.nn.Linear(6 * 8 * 8, 10))]))";

    [Fact]
    public void EvaluationLogitsMatchPyTorch()
    {
        var reference = TorchvisionReference.Create(_dir, "dilated", Model, 2, 3, 32, 32, log);
        reference.AssertSameLogits(new DilatedNet(0) { Threads = 2 }, "dilated", log);
    }

    [Fact]
    public void TrainingGradientsMatchPyTorch()
    {
        var reference = TorchvisionReference.Create(_dir, "dilated", Model, 4, 3, 32, 32, log, training: true);
        reference.AssertSameGradients(new DilatedNet(0) { Threads = 2 }, "dilated", log);
    }

    [Fact]
    public void OnnxExportGivesTheSameOutputs()
    {
        var network = new DilatedNet(3) { Threads = 2 };
        RunningStatistics.Randomize(network, new Random(3));
        var random = new Random(5);
        var input = new float[2 * DilatedNet.InputLength];
        for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();
        var expected = new float[2 * DilatedNet.OutputLength];
        network.Forward(input, expected, 2);
        using var session = new InferenceSession(Onnx.OnnxExport.ToBytes(network));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, [2, 3, 32, 32]))]);
        var actual = results.Single().AsTensor<float>().ToArray();
        float scale = Math.Max(1f, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"output {i}: CnnGen {expected[i]}, ONNX Runtime {actual[i]}");
    }

    [Fact]
    public void PyTorchExportWritesTheDilation()
    {
        string module = PyTorchExport.ToModule(new DilatedNet(0));
        Assert.Contains("nn.Conv2d(3, 8, 3, stride=1, padding=2, dilation=2, groups=1, bias=False)", module);
        Assert.Contains("nn.Conv2d(8, 8, 3, stride=2, padding=3, dilation=3, groups=2, bias=True)", module);
        Assert.Contains("nn.Conv2d(8, 6, 3, stride=1, padding=0, dilation=4, groups=1, bias=True)", module);
    }
}
