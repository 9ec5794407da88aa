using CnnGen.Onnx;
using CnnGen.Tests.Networks;
using Xunit;
using static CnnGen.Tests.Onnx.ImportTestProto;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Files import refuses, each with an <see cref="OnnxImportException"/> whose message names the problem (the node with
/// its op type and index, the tensor, the dimension): truncated and hostile bytes, ops CnnGen has no layer for,
/// dynamic image sizes, cycles, tensors whose bytes disagree with their dimensions.
/// </summary>
public sealed class ImportBadFileTests
{
    private static readonly byte[] ValidModel = OnnxExport.ToBytes(new TinyLeNet(5));

    [Fact]
    public void EveryTruncationOfAValidModelIsAClearError()
    {
        Assert.Equal(10, OnnxImport.FromBytes(ValidModel).Layers.Count);
        int truncatedMessages = 0;
        for (int length = 0; length < ValidModel.Length; length += Math.Max(1, length / 5))
        {
            var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(ValidModel.AsMemory(0, length)));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            if (e.Message.Contains("truncated file?", StringComparison.Ordinal)) truncatedMessages++;
        }
        var last = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(ValidModel.AsMemory(0, ValidModel.Length - 1)));
        Assert.Contains("truncated file?", last.Message);
        Assert.True(truncatedMessages > 5, $"only {truncatedMessages} truncations were called truncated");
    }

    [Fact]
    public void ALengthLargerThanTheFileIsRefusedBeforeAnythingIsAllocated()
    {
        // ModelProto.graph (field 7) claiming 2^40 bytes, followed by 3 bytes.
        var bytes = new ImportTestProto().Raw(7 << 3 | 2).Raw(1UL << 40).Raw(1).Raw(2).Raw(3).ToArray();
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(bytes));
        Assert.Equal("not a valid ONNX file: model: a field of 1099511627776 bytes where 3 are left (truncated file?)", e.Message);
    }

    [Fact]
    public void AVarintLongerThanTenBytesIsRefused()
    {
        var bytes = Enumerable.Repeat((byte)0xFF, 12).ToArray();
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(bytes));
        Assert.Contains("longer than", e.Message);
    }

    [Fact]
    public void AnEmptyFileIsRefused() =>
        Assert.Equal("not a valid ONNX file: it is empty", Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Array.Empty<byte>())).Message);

    [Fact]
    public void ADeviceIsRefusedWithoutReadingForever()
    {
        if (!File.Exists("/dev/zero")) return; // a Linux device; CI runs on Linux
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.Read("/dev/zero"));
        Assert.Equal("/dev/zero is empty or not a regular file", e.Message);
    }

    [Fact]
    public void APadOfNothingPassesItsInputOnAndRealPaddingIsRefused()
    {
        ImportTestProto Padded(params long[] pads) => Model(Graph(
            [Node("Relu", "first", ["x"], ["a"]), Node("Pad", "pad", ["a"], ["b"], Ints("pads", pads)), Node("Sigmoid", "last", ["b"], ["y"])], [],
            Value("x", null, 1, 4, 4), Value("y", null, 1, 4, 4)), opset: 10);

        var imported = OnnxImport.FromBytes(Padded(0, 0, 0, 0, 0, 0, 0, 0).ToArray());
        Assert.Equal(["ReLU", "Sigmoid"], imported.Layers.Select(l => l.Kind));

        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Padded(0, 0, 1, 1, 0, 0, 1, 1).ToArray()));
        Assert.Equal("node 1 'pad' (Pad) is not supported: constant padding by [0, 0, 1, 1, 0, 0, 1, 1]; CnnGen pads only inside a convolution or pool", e.Message);
    }

    [Theory]
    [InlineData("Foo")]
    [InlineData("Einsum")]
    [InlineData("ReduceMax")]
    public void AnUnsupportedOpIsNamedWithItsIndex(string op)
    {
        var graph = Graph(
            [Node("Relu", "first", ["x"], ["a"]), Node(op, "odd", ["a"], ["y"])], [],
            Value("x", null, 1, 4, 4), Value("y", null, 16));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal($"node 1 'odd' ({op}) is not supported: CnnGen has no layer for it", e.Message);
    }

    [Theory]
    [InlineData(1, "channel count")]
    [InlineData(2, "height")]
    [InlineData(3, "width")]
    public void ADynamicImageSizeIsRefused(int dynamic, string what)
    {
        var dims = new long?[] { null, 1, 8, 8 };
        dims[dynamic] = null;
        var graph = Graph([Node("Relu", "r", ["x"], ["y"])], [], Value("x", dims), Value("y", null, 64));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Contains($"has a dynamic {what}", e.Message);
        Assert.Contains("a dynamic batch is fine", e.Message);
    }

    [Fact]
    public void ACycleIsRefused()
    {
        var graph = Graph(
            [Node("Add", "join", ["x", "b"], ["a"]), Node("Relu", "loop", ["a"], ["b"]), Node("Relu", "out", ["a"], ["y"])], [],
            Value("x", null, 1, 4, 4), Value("y", null, 16));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("the graph has a cycle: node 0 'join' (Add) depends on its own output", e.Message);
    }

    [Fact]
    public void ATensorWhoseBytesDisagreeWithItsDimsIsNamed()
    {
        var graph = Graph(
            [Node("Conv", "c", ["x", "w"], ["y"])], [FloatTensor("w", [2, 1, 3, 3], 70)],
            Value("x", null, 1, 4, 4), Value("y", null, 2, 2, 2));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("not a valid ONNX file: tensor w of shape [2, 1, 3, 3] needs 18 float32 values (72 bytes) but holds 70 bytes", e.Message);
    }

    [Fact]
    public void ADilatedConvolutionImportsAndADilatedPoolIsRefused()
    {
        var conv = Graph(
            [Node("Conv", "c", ["x", "w"], ["y"], Ints("dilations", 2, 2))], [FloatTensor("w", [2, 1, 3, 3], 72)],
            Value("x", null, 1, 8, 8), Value("y", null, 2, 4, 4));
        var layer = Assert.Single(OnnxImport.FromBytes(Model(conv).ToArray()).Layers);
        Assert.Equal(("Conv", 3, 2, 4, 4), (layer.Kind, layer.Kernel, layer.Dilation, layer.OutputHeight, layer.OutputWidth));

        var tooWide = Graph(
            [Node("Conv", "c", ["x", "w"], ["y"], Ints("dilations", 4, 4))], [FloatTensor("w", [2, 1, 3, 3], 72)],
            Value("x", null, 1, 8, 8), Value("y", null, 2, 4, 4));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(tooWide).ToArray()));
        Assert.Equal("node 0 'c' (Conv) is not supported: its 3x3 kernel (spanning 9x9) does not fit its 8x8 input padded by 0", e.Message);

        var pool = Graph(
            [Node("MaxPool", "p", ["x"], ["y"], Ints("kernel_shape", 2, 2), Ints("dilations", 2, 2))], [],
            Value("x", null, 1, 8, 8), Value("y", null, 1, 4, 4));
        e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(pool).ToArray()));
        Assert.Equal("node 0 'p' (MaxPool) is not supported: dilations [2, 2]: CnnGen's pooling windows are not dilated", e.Message);
    }

    [Fact]
    public void AnInputThatNothingDefinesIsNamed()
    {
        var graph = Graph([Node("Relu", "r", ["ghost"], ["y"])], [], Value("x", null, 1, 4, 4), Value("y", null, 16));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("not a valid ONNX file: node 0 'r' (Relu) reads 'ghost', which no initializer, graph input or node defines", e.Message);
    }

    [Fact]
    public void TwoLayersReadingTheNetworkInputAreRefused()
    {
        var graph = Graph(
            [Node("Relu", "a", ["x"], ["p"]), Node("Sigmoid", "b", ["x"], ["q"]), Node("Add", "sum", ["p", "q"], ["y"])], [],
            Value("x", null, 1, 4, 4), Value("y", null, 1, 4, 4));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Contains("reads the network input, which only the first layer can read", e.Message);
    }

    [Fact]
    public void AClipOtherThanReLU6IsRefused()
    {
        var graph = Graph(
            [Node("Constant", "lo", [], ["min"], new ImportTestProto().String(1, "value").Message(5, FloatTensor("", [], 4)).Varint(20, 4)),
             Node("Clip", "clip", ["x", "min", "min"], ["y"])], [],
            Value("x", null, 1, 4, 4), Value("y", null, 16));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("node 1 'clip' (Clip) is not supported: Clip(0, 0); CnnGen has Clip(0, 6) as ReLU6 and Clip(0, none) as ReLU", e.Message);
    }
}
