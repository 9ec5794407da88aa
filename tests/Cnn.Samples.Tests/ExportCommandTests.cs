using System.CommandLine;
using CnnGen.Checkpoints;
using CnnGen.Samples.Commands;
using CnnGen.Samples.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary><c>export</c>: a checkpoint becomes an ONNX model that ONNX Runtime runs on raw pixels, giving what CnnGen gives
/// on the same pixels with the training mean subtracted; bad requests get a one-line error.</summary>
[Collection("Console")]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-export").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Error) Run(params string[] args) => CommandRunner.Run(args);

    private string SaveCheckpoint(float mean)
    {
        string path = Path.Combine(_dir, "lenet5bn.safetensors");
        var trained = new LeNet5BatchNorm(seed: 3);
        var random = new Random(3);
        RunningStatistics.Randomize(trained, random);
        Checkpoint.Save(path, trained, training: new TrainingState { Extra = new Dictionary<string, string> { [Cli.DataLoading.MeanKey] = mean.ToString("R", System.Globalization.CultureInfo.InvariantCulture) } });
        return path;
    }

    [Fact]
    public void OnnxRuntimeOnRawPixelsGivesTheCheckpointsProbabilities()
    {
        string checkpoint = SaveCheckpoint(0.2860f);
        var (exit, output, error) = Run("export", "--model", "lenet5bn", "--checkpoint", checkpoint);
        Assert.True(exit == 0, error);
        string onnx = Path.ChangeExtension(checkpoint, ".onnx");
        Assert.Contains($"Wrote {onnx}: LeNet5BatchNorm", output);

        var network = new LeNet5BatchNorm();
        Checkpoint.Load(checkpoint, network);
        var random = new Random(5);
        var pixels = new float[4 * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        var centred = pixels.Select(p => p - 0.2860f).ToArray();
        var expected = new float[4 * 10];
        network.Forward(centred, expected, 4);

        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(pixels, [4, 1, 28, 28]))]);
        var probabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], probabilities[i], 1e-5f);
        Assert.Equal("0.286", session.ModelMetadata.CustomMetadataMap["cnngen.input_mean"]);
    }

    [Fact]
    public void BadRequestsGetAOneLineError()
    {
        string checkpoint = SaveCheckpoint(0f);
        var (exit, _, error) = Run("export", "--model", "lenet5bn", "--checkpoint", checkpoint, "--format", "tflite");
        Assert.Equal(2, exit);
        Assert.Equal("Unknown format 'tflite'. Supported: onnx, pytorch.", error.Trim());

        (exit, _, error) = Run("export", "--model", "lenet5bn", "--checkpoint", checkpoint, "--out", Path.Combine(checkpoint, "x.onnx")); // a file where a directory should be
        Assert.Equal(1, exit);
        Assert.StartsWith("Cannot export LeNet5BatchNorm to ", error);
        Assert.Single(error.Trim().Split('\n'));

        (exit, _, error) = Run("export", "--model", "lenet5", "--checkpoint", checkpoint);
        Assert.Equal(1, exit);
        Assert.StartsWith("Cannot load", error);
        Assert.False(File.Exists(Path.ChangeExtension(checkpoint, ".onnx")));
    }
}

/// <summary>Every sample network, exported with fresh weights, gives its outputs through ONNX Runtime at batch 1 and 8.</summary>
public sealed class SampleNetworkExportTests(Xunit.Abstractions.ITestOutputHelper log)
{
    public static TheoryData<string> Names => new(SampleNetworks.All.Select(e => e.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void OnnxRuntimeGivesTheSampleNetworksOutputs(string name)
    {
        var network = SampleNetworks.Find(name)!.Create(7);
        network.Threads = 2;
        var random = new Random(7);
        RunningStatistics.Randomize(network, random);
        using var session = new InferenceSession(Onnx.OnnxExport.ToBytes(network));
        foreach (int batch in new[] { 1, 8 })
        {
            var input = new float[batch * network.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();
            var expected = new float[batch * network.OutputLength];
            network.Forward(input, expected, batch);
            var tensor = new DenseTensor<float>(input, [batch, network.InputChannels, network.InputHeight, network.InputWidth]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
            var actual = results.Single().AsTensor<float>().ToArray();
            float scale = Math.Max(1f, expected.Max(Math.Abs));
            log.WriteLine($"{name}, batch {batch}: largest difference {expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale:E1} of scale {scale:G3}, outputs spread {expected.Max() - expected.Min():G3}");
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{name}, batch {batch}, output {i}: CnnGen {expected[i]}, ONNX Runtime {actual[i]}");
        }
    }
}
