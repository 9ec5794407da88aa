using CnnGen.Onnx;
using CnnGen.Tests.Networks;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// The ONNX writer checked by ONNX Runtime: a graph written by hand from a generated network's tensors must load
/// and compute what the network computes.
/// </summary>
public sealed class OnnxGraphTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void OnnxRuntimeComputesWhatTheNetworkComputes(int batch)
    {
        var net = new TinyLeNet(21);
        var g = new OnnxGraph("TinyLeNet");
        g.Input("input", null, 1, 12, 12);
        foreach (var tensor in TinyLeNet.Tensors)
            g.Initializer(tensor.Name, tensor.Shape.Select(d => (long)d).ToArray(), net.Parameter(tensor.Name));
        g.Node("Conv", "conv1", ["input", "conv1.weight", "conv1.bias"], ["conv1"],
            OnnxAttribute.Of("kernel_shape", 5L, 5L), OnnxAttribute.Of("pads", 2L, 2L, 2L, 2L), OnnxAttribute.Of("strides", 1L, 1L));
        g.Node("Relu", "relu1", ["conv1"], ["relu1"]);
        g.Node("MaxPool", "pool1", ["relu1"], ["pool1"], OnnxAttribute.Of("kernel_shape", 2L, 2L), OnnxAttribute.Of("strides", 2L, 2L));
        g.Node("Conv", "conv2", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"],
            OnnxAttribute.Of("kernel_shape", 3L, 3L), OnnxAttribute.Of("strides", 2L, 2L));
        g.Node("Relu", "relu2", ["conv2"], ["relu2"]);
        g.Node("MaxPool", "pool2", ["relu2"], ["pool2"], OnnxAttribute.Of("kernel_shape", 2L, 2L), OnnxAttribute.Of("strides", 2L, 2L));
        g.Node("Flatten", "flatten", ["pool2"], ["flat"], OnnxAttribute.Of("axis", 1L));
        g.Node("Gemm", "dense1", ["flat", "dense1.weight", "dense1.bias"], ["dense1"], OnnxAttribute.Of("transB", 1L));
        g.Node("Relu", "relu3", ["dense1"], ["relu3"]);
        g.Node("Gemm", "dense2", ["relu3", "dense2.weight", "dense2.bias"], ["dense2"], OnnxAttribute.Of("transB", 1L));
        g.Node("Softmax", "softmax1", ["dense2"], ["probabilities"], OnnxAttribute.Of("axis", 1L));
        g.Output("probabilities", null, 4);
        g.Metadata("network", "TinyLeNet");

        var random = new Random(batch);
        var input = new float[batch * TinyLeNet.InputLength];
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        var expected = new float[batch * TinyLeNet.OutputLength];
        net.Forward(input, expected, batch);

        using var session = new InferenceSession(g.ToBytes());
        Assert.Equal("input", session.InputMetadata.Keys.Single());
        Assert.Equal(new[] { -1, 1, 12, 12 }, session.InputMetadata["input"].Dimensions);
        Assert.Equal("TinyLeNet", session.ModelMetadata.CustomMetadataMap["network"]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, [batch, 1, 12, 12]))]);
        var actual = results.Single().AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])), $"output {i}: CnnGen {expected[i]}, ONNX Runtime {actual[i]}");
    }

    [Fact]
    public void MistakesInTheGraphAreRefusedWhereTheyAreMade()
    {
        var g = new OnnxGraph("Broken");
        g.Input("x", null, 3);
        var e = Assert.Throws<InvalidOperationException>(() => g.Node("Relu", "r", ["y"], ["z"]));
        Assert.Equal("ONNX graph Broken: node r (Relu) reads y, which nothing defines before it.", e.Message);
        Assert.Throws<InvalidOperationException>(() => g.Input("x", 3));
        Assert.Throws<InvalidOperationException>(() => g.Output("nothing", 3));
        var shape = Assert.Throws<ArgumentException>(() => g.Initializer("w", [2, 3], new float[5]));
        Assert.Contains("[2, 3] needs 6 values, got 5", shape.Message);
    }
}
