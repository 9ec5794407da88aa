using CnnGen.Onnx;
using Xunit;
using Xunit.Abstractions;
using static CnnGen.Tests.Onnx.ImportTestProto;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Single ops as ONNX writes them and the attributes import declares for them: Dropout keeps its ratio (an input since
/// opset 12), LeakyRelu and Elu their alpha, pools their windows, Clip(0, 6) from Constant nodes is ReLU6; average
/// pooling with padding must count the padded zeros as CnnGen does. The network built from them agrees with ONNX Runtime.
/// </summary>
public sealed class ImportLayerTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cnngen-import-layers-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ImportTestProto FloatConstant(string name, string output, float value) =>
        Node("Constant", name, [], [output], new ImportTestProto().String(1, "value").Message(5, FloatTensor("", [], [value])).Varint(20, 4));

    private static ImportTestProto FloatAttribute(string name, float value) => new ImportTestProto().String(1, name).Fixed32(2, value).Varint(20, 1);

    private static ImportTestProto IntAttribute(string name, long value) => new ImportTestProto().String(1, name).Varint(3, value).Varint(20, 2);

    [Fact]
    public void ActivationsPoolsAndDropoutKeepTheirArguments()
    {
        var weight = Enumerable.Range(0, 4 * 2 * 3 * 3).Select(i => (float)Math.Cos(i)).ToArray();
        var graph = Graph(
            [
                Node("Conv", "conv", ["x", "conv.weight"], ["c"], Ints("pads", 1, 1, 1, 1)),
                Node("LeakyRelu", "leaky", ["c"], ["l"], FloatAttribute("alpha", 0.2f)),
                Node("AveragePool", "avg", ["l"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), IntAttribute("count_include_pad", 1)),
                FloatConstant("zero", "lo", 0f), FloatConstant("six", "hi", 6f),
                Node("Clip", "clip", ["p", "lo", "hi"], ["r6"]),
                Node("Elu", "elu", ["r6"], ["e"], FloatAttribute("alpha", 0.5f)),
                FloatConstant("rate", "ratio", 0.25f),
                Node("Dropout", "drop", ["e", "ratio"], ["d"]),
                Node("MaxPool", "max", ["d"], ["m"], Ints("kernel_shape", 2, 2), Ints("strides", 1, 1), IntAttribute("ceil_mode", 1)),
                Node("GlobalAveragePool", "gap", ["m"], ["g"]),
                Node("Flatten", "flat", ["g"], ["f"]),
                Node("Softmax", "soft", ["f"], ["y"]),
            ],
            [FloatTensor("conv.weight", [4, 2, 3, 3], weight)],
            Value("x", null, 2, 7, 7), Value("y", null, 4));
        byte[] model = Model(graph).ToArray();

        var imported = OnnxImport.FromBytes(model, "layers.onnx");

        Assert.Equal(
        [
            "[Conv(3, 4, Padding = 1, Bias = false, Name = \"conv\")]",
            "[LeakyReLU(0.2f, Name = \"leaky\")]",
            "[AvgPool(3, Stride = 2, Padding = 1, Name = \"avg\")]",
            "[ReLU6(Name = \"clip\")]",
            "[ELU(0.5f, Name = \"elu\")]",
            "[Dropout(0.25f, Name = \"drop\")]",
            "[MaxPool(2, Stride = 1, CeilMode = true, Name = \"max\")]",
            "[GlobalAvgPool(Name = \"gap\")]",
            "[Softmax(Name = \"soft\")]",
        ], imported.Layers.Select(DeclarationWriter.Attribute));
        var network = ImportCompiler.Build(imported, "LayersNet", _directory);
        Assert.Equal((4, 3, 3), (network.Layers[6].OutputChannels, network.Layers[6].OutputHeight, network.Layers[6].OutputWidth));
        ImportComparison.AgreesWithOnnxRuntime(network, model, log, "activations, pools and dropout");
    }

    [Fact]
    public void AveragePoolingThatSkipsPaddedZerosIsRefused()
    {
        var graph = Graph(
            [Node("AveragePool", "avg", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))], [],
            Value("x", null, 1, 6, 6), Value("y", null, 1, 6, 6));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("node 0 'avg' (AveragePool) is not supported: count_include_pad = 0 with padding: CnnGen's average pooling counts the padded zeros (PyTorch's count_include_pad=True)", e.Message);
    }

    [Fact]
    public void AsymmetricPaddingIsRefused()
    {
        var graph = Graph(
            [Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("pads", 0, 0, 1, 1))], [],
            Value("x", null, 1, 5, 5), Value("y", null, 1, 3, 3));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("node 0 'pool' (MaxPool) is not supported: pads [0, 0, 1, 1] differs between sides or axes; CnnGen's are the same on every side", e.Message);
    }
}
