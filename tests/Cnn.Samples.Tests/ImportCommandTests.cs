using CnnGen.Checkpoints;
using CnnGen.Onnx;
using CnnGen.Samples.Networks;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary><c>import</c>: an ONNX model becomes a declaration and weights that the sample class of the same
/// architecture loads strictly and runs to the same outputs; bad models and requests get one line and write nothing.</summary>
[Collection("Console")]
public sealed class ImportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-import").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Error) Run(params string[] args) => CommandRunner.Run(args);

    private string ExportedLeNet5BatchNorm(LeNet5BatchNorm network)
    {
        RunningStatistics.Randomize(network, new Random(4));
        string path = Path.Combine(_dir, "lenet5bn.onnx");
        OnnxExport.Save(network, path);
        return path;
    }

    [Fact]
    public void WritesTheDeclarationAndWeightsTheSampleClassLoads()
    {
        var original = new LeNet5BatchNorm(seed: 9);
        string model = ExportedLeNet5BatchNorm(original);
        string output = Path.Combine(_dir, "out");

        var (exit, stdout, error) = Run("import", model, "--class", "ImportedLeNet", "--namespace", "My.Networks", "--out", output);

        Assert.True(exit == 0, error);
        Assert.Contains("ImportedLeNet.cs: My.Networks.ImportedLeNet, 16 layers, 62,158 parameters, input 1x28x28.", stdout);
        string declaration = File.ReadAllText(Path.Combine(output, "ImportedLeNet.cs"));
        Assert.Contains("namespace My.Networks;", declaration);
        Assert.Contains("""
            [Input(1, 28, 28)]
            [Conv(5, 6, Padding = 2, Name = "conv1")]
            [BatchNorm(Name = "bn1")]
            [ReLU(Name = "relu1")]
            [MaxPool(2, Name = "pool1")]
            [Conv(5, 16, Name = "conv2")]
            """.ReplaceLineEndings("\n"), declaration.ReplaceLineEndings("\n"));
        Assert.Contains("[Dense(10, Name = \"dense3\")]\n[Softmax(Name = \"softmax1\")]\npublic partial class ImportedLeNet { }", declaration.ReplaceLineEndings("\n"));

        // The weights carry the generated class's names: the sample class of the same declaration loads them strictly.
        var loaded = new LeNet5BatchNorm(seed: 1);
        Checkpoint.Load(Path.Combine(output, "ImportedLeNet.safetensors"), loaded);
        Assert.Equal(original.Parameters.ToArray(), loaded.Parameters.ToArray());
        var input = Enumerable.Range(0, 2 * 784).Select(i => (float)Math.Sin(i)).ToArray();
        var (expected, actual) = (new float[20], new float[20]);
        original.Forward(input, expected, 2);
        loaded.Forward(input, actual, 2);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AModelItCannotDeclareGetsOneLineAndNothingIsWritten()
    {
        var network = new LeNet5BatchNorm(seed: 2);
        string model = ExportedLeNet5BatchNorm(network);
        byte[] bytes = File.ReadAllBytes(model);
        string output = Path.Combine(_dir, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "Net.cs"), "previous");

        string truncated = Path.Combine(_dir, "truncated.onnx");
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var (exit, _, error) = Run("import", truncated, "--class", "Net", "--namespace", "N", "--out", output);
        Assert.Equal(1, exit);
        Assert.StartsWith($"Cannot import {truncated}: not a valid ONNX file: ", error);
        Assert.Contains("(truncated file?). Nothing was written.", error);
        Assert.Single(error.Trim().Split('\n'));

        // A model with a mean subtracted inside starts with a Sub node, which has no layer.
        string withMean = Path.Combine(_dir, "mean.onnx");
        OnnxExport.Save(network, withMean, inputMean: 0.25f);
        (exit, _, error) = Run("import", withMean, "--class", "Net", "--namespace", "N", "--out", output);
        Assert.Equal(1, exit);
        Assert.Equal($"Cannot import {withMean}: node 0 'subtract_mean' (Sub) is not supported: CnnGen has no layer for it. Nothing was written.", error.Trim());

        Assert.Equal(["Net.cs"], Directory.GetFiles(output).Select(Path.GetFileName));
        Assert.Equal("previous", File.ReadAllText(Path.Combine(output, "Net.cs")));
    }

    [Fact]
    public void AStrideThatLeavesInputUnreadGetsANote()
    {
        var graph = new OnnxGraph("strided");
        graph.Input("input", null, 1, 6, 6);
        graph.Initializer("conv.weight", [2, 1, 3, 3], Enumerable.Range(0, 18).Select(i => i / 18f).ToArray());
        graph.Node("Conv", "conv", ["input", "conv.weight"], ["maps"], OnnxAttribute.Of("strides", 2L, 2L));
        graph.Node("Flatten", "flat", ["maps"], ["output"], OnnxAttribute.Of("axis", 1L));
        graph.Output("output", null, 8);
        string model = Path.Combine(_dir, "strided.onnx");
        File.WriteAllBytes(model, graph.ToBytes());

        var (exit, stdout, error) = Run("import", model, "--class", "Strided", "--namespace", "N", "--out", _dir);

        Assert.True(exit == 0, error);
        Assert.Contains("Note: the strides of conv leave the last input rows or columns unread, as in the model;", stdout);
        Assert.Contains("[Conv(3, 2, Stride = 2, Bias = false, Name = \"conv\")]", File.ReadAllText(Path.Combine(_dir, "Strided.cs")));
    }

    [Theory]
    [InlineData("1Net", "N", "--class '1Net' is not a C# identifier")]
    [InlineData("class", "N", "--class 'class' is not a C# identifier")]
    [InlineData("Net", "My..Networks", "--namespace 'My..Networks' is not a C# namespace")]
    public void BadNamesAreUsageErrors(string className, string @namespace, string message)
    {
        string model = ExportedLeNet5BatchNorm(new LeNet5BatchNorm(seed: 2));
        var (exit, _, error) = Run("import", model, "--class", className, "--namespace", @namespace, "--out", _dir);
        Assert.Equal(2, exit);
        Assert.StartsWith(message, error);
        Assert.Empty(Directory.GetFiles(_dir, "*.cs"));
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        string missing = Path.Combine(_dir, "missing.onnx");
        var (exit, _, error) = Run("import", missing, "--class", "Net", "--namespace", "N");
        Assert.Equal(1, exit);
        Assert.Equal($"Cannot import {missing}: no such file.", error.Trim());
    }
}
