using CnnGen.Onnx;
using Xunit;
using Xunit.Abstractions;
using static CnnGen.Tests.Onnx.ImportTestProto;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// A linear layer written as MatMul by an [in, units] weight and an Add of the bias (as exporters write Linear on
/// inputs of more than two dimensions) imports as one dense layer with the weight transposed to PyTorch's [units, in];
/// the bias read from float_data rather than raw_data. Built in memory, it agrees with ONNX Runtime.
/// </summary>
public sealed class ImportMatMulTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cnngen-import-matmul-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void MatMulAndAddBecomeOneDenseLayer()
    {
        var weight = Enumerable.Range(0, 6 * 4).Select(i => (float)Math.Sin(i + 1)).ToArray(); // [in 6, units 4]
        float[] bias = [0.5f, -0.25f, 0.125f, 1f];
        var graph = Graph(
            [Node("Flatten", "flat", ["x"], ["f"]), Node("MatMul", "/head/MatMul", ["f", "head_w"], ["m"]),
             Node("Add", "/head/Add", ["m", "head_b"], ["a"]), Node("Tanh", "act", ["a"], ["y"])],
            [FloatTensor("head_w", [6, 4], weight), FloatTensor("head_b", [4], bias, asFloatData: true)],
            Value("x", null, 1, 2, 3), Value("y", null, 4));
        byte[] model = Model(graph).ToArray();

        var imported = OnnxImport.FromBytes(model, "matmul.onnx");

        Assert.Equal(["[Dense(4, Name = \"head\")]", "[Tanh(Name = \"act\")]"], imported.Layers.Select(DeclarationWriter.Attribute));
        var transposed = imported.Tensors.Single(t => t.Name == "head.weight");
        Assert.Equal([4, 6], transposed.Shape);
        Assert.Equal(weight[1 * 4 + 2], transposed.Values.Span[2 * 6 + 1]); // weight[in 1, unit 2] is [unit 2, in 1]
        Assert.Equal(bias, imported.Tensors.Single(t => t.Name == "head.bias").Values.ToArray());

        var network = ImportCompiler.Build(imported, "MatMulNet", _directory);
        ImportComparison.AgreesWithOnnxRuntime(network, model, log, "MatMul + Add");
    }

    [Fact]
    public void AConstantAddedAnywhereElseIsRefused()
    {
        var graph = Graph(
            [Node("Relu", "r", ["x"], ["a"]), Node("Add", "shift", ["a", "c"], ["y"])],
            [FloatTensor("c", [1], [1f])],
            Value("x", null, 1, 2, 3), Value("y", null, 1, 2, 3));
        var e = Assert.Throws<OnnxImportException>(() => OnnxImport.FromBytes(Model(graph).ToArray()));
        Assert.Equal("node 1 'shift' (Add) is not supported: it adds a constant, which CnnGen declares only as the bias of a MatMul it follows", e.Message);
    }
}
