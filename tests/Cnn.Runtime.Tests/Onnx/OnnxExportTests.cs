using CnnGen.Onnx;
using CnnGen.Tests.Concurrency;
using CnnGen.Tests.CrossCheck;
using CnnGen.Tests.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Every test network exported to ONNX and run by ONNX Runtime 1.31.1 gives what <c>Forward</c> gives in evaluation
/// mode, within 1e-5 of the output's scale, at batch 1 and 8; BatchNorm with running statistics that are not 0 and 1.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper log)
{
    public static TheoryData<string> Networks => new(Factories.Keys);

    private static readonly Dictionary<string, Func<INetwork>> Factories = new()
    {
        ["ConvStridePadNet"] = () => new ConvStridePadNet(1),
        ["PointwiseConvNet"] = () => new PointwiseConvNet(2),
        ["MaxPoolPadNet"] = () => new MaxPoolPadNet(3),
        ["AvgPoolNet"] = () => new AvgPoolNet(4),
        ["TinyLeNet"] = () => new TinyLeNet(5),
        ["DenseOnlyNet"] = () => new DenseOnlyNet(6),
        ["RectStrideNet"] = () => new RectStrideNet(7),
        ["PoolFirstNet"] = () => new PoolFirstNet(8),
        ["SoftmaxOnlyNet"] = () => new SoftmaxOnlyNet(9),
        ["MaxoutNet"] = () => new MaxoutNet(10),
        ["DropoutNet"] = () => new DropoutNet(11),
        ["BatchNormNet"] = () => new BatchNormNet(12),
        ["BatchNormPoolNet"] = () => new BatchNormPoolNet(13),
        ["ResidualNet"] = () => new ResidualNet(14),
        ["ShortcutSourceNet"] = () => new ShortcutSourceNet(15),
        ["DenseConnectNet"] = () => new DenseConnectNet(16),
        ["CrossNetE"] = () => new CrossNetE(17),
        ["CrossNetH"] = () => new CrossNetH(18),
        ["CrossNetJ"] = () => new CrossNetJ(19),
        ["RaceNet"] = () => new RaceNet(20),
        ["InceptionNet"] = () => new InceptionNet(21),
        ["ProjectionBlockNet"] = () => new ProjectionBlockNet(22),
        ["DottedNamesNet"] = () => new DottedNamesNet(23),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void OnnxRuntimeGivesTheNetworksOutputs(string name)
    {
        var net = Factories[name]();
        var random = new Random(name.Length);
        // Running statistics away from 0 and 1, so a BatchNorm that ignored them would show.
        foreach (var t in net.StateTensors)
        {
            var values = net.State.Slice(t.Offset, t.Length);
            for (int i = 0; i < values.Length; i++)
                values[i] = t.Name.EndsWith(".running_var", StringComparison.Ordinal) ? 0.5f + (float)random.NextDouble()
                    : t.Name.EndsWith(".running_mean", StringComparison.Ordinal) ? (float)(random.NextDouble() - 0.5) : values[i];
        }
        using var session = new InferenceSession(OnnxExport.ToBytes(net));
        string output = session.OutputMetadata.Keys.Single();
        Assert.Equal(net.Layers[^1].Kind == "Softmax" ? "probabilities" : "logits", output);
        Assert.Equal(new[] { -1, net.OutputLength }, session.OutputMetadata[output].Dimensions);
        foreach (int batch in new[] { 1, 8 })
        {
            var input = new float[batch * net.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            var expected = new float[batch * net.OutputLength];
            net.Forward(input, expected, batch);
            var tensor = new DenseTensor<float>(input, [batch, net.InputChannels, net.InputHeight, net.InputWidth]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
            var actual = results.Single().AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            float scale = Math.Max(1f, expected.Max(Math.Abs));
            log.WriteLine($"{name}, batch {batch}: largest difference {expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale:E1} of scale {scale:G3}");
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale,
                    $"{name}, batch {batch}, output {i}: CnnGen {expected[i]}, ONNX Runtime {actual[i]}");
        }
    }

    [Fact]
    public void OnnxCheckerAcceptsEveryExportedModel()
    {
        // onnx.checker (Debian's python3-onnx) with its full check: types, opset rules and shape inference.
        string dir = Directory.CreateTempSubdirectory("cnngen-onnx-check").FullName;
        try
        {
            var files = new List<string>();
            foreach (var (name, create) in Factories)
            {
                string path = Path.Combine(dir, name + ".onnx");
                OnnxExport.Save(create(), path, inputMean: 0.25f);
                files.Add(path);
            }
            string script = Path.Combine(RepositoryRoot(), "tools", "onnx_check.py");
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(script);
            foreach (var file in files) start.ArgumentList.Add(file);
            using var process = System.Diagnostics.Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.False(output.Contains("No module named 'onnx'"), "onnx.checker needs Debian's python3-onnx: apt-get install -y python3-onnx");
            Assert.True(process.ExitCode == 0, output);
            Assert.Equal(files.Count, output.Split('\n').Count(line => line.Contains(": ok (IR 8, opset 17)")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("CnnGen.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void TheModelNamesItsLayersAndTensors()
    {
        var net = new BatchNormNet(1);
        using var session = new InferenceSession(OnnxExport.ToBytes(net));
        Assert.Equal("BatchNormNet", session.ModelMetadata.CustomMetadataMap["cnngen.network"]);
        Assert.Equal(BatchNormNet.ArchitectureFingerprint, session.ModelMetadata.CustomMetadataMap["cnngen.fingerprint"]);
        Assert.Equal(new[] { -1, 2, 7, 6 }, session.InputMetadata["input"].Dimensions);
    }

    [Fact]
    public void SaveWritesTheWholeFileOrNone()
    {
        string dir = Directory.CreateTempSubdirectory("cnngen-onnx").FullName;
        try
        {
            string path = Path.Combine(dir, "net.onnx");
            OnnxExport.Save(new TinyLeNet(1), path);
            Assert.Equal(OnnxExport.ToBytes(new TinyLeNet(1)), File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
