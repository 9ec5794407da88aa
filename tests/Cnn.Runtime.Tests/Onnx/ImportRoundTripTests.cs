using CnnGen.Onnx;
using CnnGen.Tests.CrossCheck;
using CnnGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// CnnGen networks exported by <see cref="OnnxExport"/> and imported again: the written declaration builds (the
/// generator runs in memory) into the same layers (names, kinds, shapes, windows, joins and From), the written
/// weights are the same values under the same names, and the evaluation-mode outputs equal the original network's
/// and ONNX Runtime's on the exported file, within 1e-5 of their scale, at batch 1 and 8.
/// </summary>
public sealed class ImportRoundTripTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cnngen-import-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string> Networks => new(Factories.Keys);

    private static readonly Dictionary<string, Func<INetwork>> Factories = new()
    {
        ["ConvStridePadNet"] = () => new ConvStridePadNet(1),
        ["MaxPoolPadNet"] = () => new MaxPoolPadNet(3),
        ["AvgPoolNet"] = () => new AvgPoolNet(4),
        ["TinyLeNet"] = () => new TinyLeNet(5),
        ["DenseOnlyNet"] = () => new DenseOnlyNet(6),
        ["PoolFirstNet"] = () => new PoolFirstNet(8),
        ["SoftmaxOnlyNet"] = () => new SoftmaxOnlyNet(9),
        ["BatchNormNet"] = () => new BatchNormNet(12),
        ["BatchNormPoolNet"] = () => new BatchNormPoolNet(13),
        ["ResidualNet"] = () => new ResidualNet(14),
        ["ShortcutSourceNet"] = () => new ShortcutSourceNet(15),
        ["DenseConnectNet"] = () => new DenseConnectNet(16),
        ["CrossNetH"] = () => new CrossNetH(18),
        ["InceptionNet"] = () => new InceptionNet(21),
        ["ProjectionBlockNet"] = () => new ProjectionBlockNet(22),
        ["DottedNamesNet"] = () => new DottedNamesNet(23),
        ["DilatedGraphNet"] = () => new DilatedGraphNet(24),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void ExportedNetworkImportsAsTheSameNetwork(string name)
    {
        var original = Factories[name]();
        RandomiseStatistics(original, new Random(name.Length));
        byte[] model = OnnxExport.ToBytes(original);

        var imported = ImportCompiler.Build(OnnxImport.FromBytes(model, name + ".onnx"), name + "Imported", _directory);

        Assert.Equal(original.Layers.Count, imported.Layers.Count);
        for (int k = 0; k < original.Layers.Count; k++)
        {
            var (o, i) = (original.Layers[k], imported.Layers[k]);
            Assert.Equal(
                (o.Name, o.Kind, o.OutputChannels, o.OutputHeight, o.OutputWidth, o.Kernel, o.Stride, o.Padding, o.Groups, o.Dilation, o.CeilMode, o.Input, string.Join(",", o.Sources)),
                (i.Name, i.Kind, i.OutputChannels, i.OutputHeight, i.OutputWidth, i.Kernel, i.Stride, i.Padding, i.Groups, i.Dilation, i.CeilMode, i.Input, string.Join(",", i.Sources)));
            Assert.Equal((o.Slope, o.Alpha, o.Epsilon, o.Momentum), (i.Slope, i.Alpha, i.Epsilon, i.Momentum));
        }
        Assert.Equal(original.Tensors.Select(t => (t.Name, t.ShapeText)), imported.Tensors.Select(t => (t.Name, t.ShapeText)));
        Assert.Equal(original.Parameters.ToArray(), imported.Parameters.ToArray());
        Assert.Equal(original.StateTensors.Select(t => t.Name), imported.StateTensors.Select(t => t.Name));
        foreach (var t in original.StateTensors.Where(t => !t.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
            Assert.Equal(original.State.Slice(t.Offset, t.Length).ToArray(), imported.State.Slice(t.Offset, t.Length).ToArray());

        ImportComparison.AgreesWithOnnxRuntime(imported, model, log, name);
        var input = new float[8 * original.InputLength];
        var random = new Random(7);
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        var expected = new float[8 * original.OutputLength];
        var actual = new float[expected.Length];
        original.Forward(input, expected, 8);
        imported.Forward(input, actual, 8);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void DropoutExportedAsIdentityImportsWithoutIt()
    {
        var original = new DropoutNet(11);
        byte[] model = OnnxExport.ToBytes(original);
        var network = OnnxImport.FromBytes(model, "DropoutNet.onnx");
        Assert.Equal(["Conv", "ReLU", "Dense", "Tanh", "Dense"], network.Layers.Select(l => l.Kind));
        var imported = ImportCompiler.Build(network, "DropoutNetImported", _directory);
        ImportComparison.AgreesWithOnnxRuntime(imported, model, log, "DropoutNet");
    }

    [Fact]
    public void StridesThatLeaveInputUnreadAreMarked()
    {
        // TinyLeNet's conv2 (3x3, stride 2) reads rows 0 to 4 of its 6x6 input; its pools read every row.
        var network = OnnxImport.FromBytes(OnnxExport.ToBytes(new TinyLeNet(5)), "TinyLeNet.onnx");
        Assert.Equal(["conv2"], network.Layers.Where(l => l.LeavesInputUnread).Select(l => l.Name));
    }

    /// <summary>Running statistics away from 0 and 1, so that an import that lost them would show.</summary>
    private static void RandomiseStatistics(INetwork net, Random random)
    {
        foreach (var t in net.StateTensors)
        {
            var values = net.State.Slice(t.Offset, t.Length);
            for (int i = 0; i < values.Length; i++)
                values[i] = t.Name.EndsWith(".running_var", StringComparison.Ordinal) ? 0.5f + (float)random.NextDouble()
                    : t.Name.EndsWith(".running_mean", StringComparison.Ordinal) ? (float)(random.NextDouble() - 0.5) : values[i];
        }
    }
}
