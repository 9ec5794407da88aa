using CnnGen.Tests.CrossCheck;
using Xunit;

namespace CnnGen.Tests.Api;

/// <summary>The generated class's surface: tensors, initialisation, batch semantics and argument checks.</summary>
public class GeneratedApiTests
{
    [Fact]
    public void TensorsUsePyTorchNamesShapesAndOneContiguousLayout()
    {
        var names = LeNet5.Tensors.Select(t => $"{t.Name} {t.ShapeText}").ToArray();
        Assert.Equal(new[]
        {
            "conv1.weight [6, 1, 5, 5]", "conv1.bias [6]", "conv2.weight [16, 6, 5, 5]", "conv2.bias [16]",
            "dense1.weight [120, 400]", "dense1.bias [120]", "dense2.weight [84, 120]", "dense2.bias [84]",
            "dense3.weight [10, 84]", "dense3.bias [10]",
        }, names);
        int offset = 0;
        foreach (var t in LeNet5.Tensors)
        {
            Assert.Equal(offset, t.Offset);
            Assert.Equal(t.Shape.Aggregate(1, (a, b) => a * b), t.Length);
            offset += t.Length;
        }
        Assert.Equal(LeNet5.ParameterCount, offset);
        var net = new LeNet5();
        net.Parameter("dense2.bias")[3] = 42f;
        Assert.Equal(42f, net.Parameters[LeNet5.Tensors.Single(t => t.Name == "dense2.bias").Offset + 3]);
    }

    [Fact]
    public void InitialisationIsSeededHeOrXavierWithZeroBiases()
    {
        var a = new LeNet5(seed: 3);
        var b = new LeNet5(seed: 3);
        var c = new LeNet5(seed: 4);
        Assert.True(a.Parameters.SequenceEqual(b.Parameters));
        Assert.False(a.Parameters.SequenceEqual(c.Parameters));
        foreach (var t in LeNet5.Tensors.Where(t => t.Name.EndsWith(".bias")))
            Assert.All(a.Parameter(t.Name).ToArray(), v => Assert.Equal(0f, v));
        // He before ReLU: std sqrt(2 / fan_in); Xavier for the last layer: sqrt(1 / fan_in).
        AssertStd(a.Parameter("dense1.weight"), Math.Sqrt(2.0 / 400));
        AssertStd(a.Parameter("conv2.weight"), Math.Sqrt(2.0 / 150));
        AssertStd(a.Parameter("dense3.weight"), Math.Sqrt(1.0 / 84));
    }

    private static void AssertStd(Span<float> values, double expected)
    {
        double mean = 0, square = 0;
        foreach (var v in values) { mean += v; square += (double)v * v; }
        mean /= values.Length;
        double std = Math.Sqrt(square / values.Length - mean * mean);
        Assert.InRange(std / expected, 0.9, 1.1);
    }

    [Fact]
    public void BatchForwardEqualsImageByImageAndSoftmaxSumsToOne()
    {
        var net = new LeNet5(seed: 1);
        var random = new Random(5);
        const int batch = 7;
        var inputs = new float[LeNet5.InputLength * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble() - 0.3f;
        var batched = new float[LeNet5.OutputLength * batch];
        net.Forward(inputs, batched, batch);
        var single = new float[LeNet5.OutputLength];
        for (int b = 0; b < batch; b++)
        {
            net.Forward(inputs.AsSpan(b * LeNet5.InputLength, LeNet5.InputLength), single);
            Assert.Equal(single, batched.AsSpan(b * LeNet5.OutputLength, LeNet5.OutputLength).ToArray());
            Assert.Equal(1.0, single.Sum(), 5);
            Assert.Equal(Array.IndexOf(single, single.Max()), net.Predict(inputs.AsSpan(b * LeNet5.InputLength, LeNet5.InputLength)));
        }
    }

    [Fact]
    public void WrongLengthsThrowNamingTheExpectedSizeAndWriteNothing()
    {
        var net = new LeNet5();
        var outputs = Enumerable.Repeat(-7f, LeNet5.OutputLength * 2).ToArray();
        var e = Assert.Throws<ArgumentException>(() => net.Forward(new float[LeNet5.InputLength * 2 - 1], outputs, 2));
        Assert.Contains("1568", e.Message);
        Assert.Contains("1567", e.Message);
        Assert.All(outputs, v => Assert.Equal(-7f, v));

        e = Assert.Throws<ArgumentException>(() => net.Forward(new float[LeNet5.InputLength * 2], new float[19], 2));
        Assert.Contains("20", e.Message);

        var before = net.Gradients.ToArray();
        e = Assert.Throws<ArgumentException>(() => net.ComputeGradients(new float[LeNet5.InputLength * 2], new[] { 3, 10 }, 2));
        Assert.Contains("label 10 of image 1", e.Message);
        Assert.Equal(before, net.Gradients.ToArray());

        e = Assert.Throws<ArgumentException>(() => net.ComputeGradients(new float[LeNet5.InputLength * 2], new[] { 3 }, 2));
        Assert.Contains("expected 2 labels", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(ReadOnlySpan<float>.Empty, Span<float>.Empty, 0));
        e = Assert.Throws<ArgumentException>(() => net.Parameter("conv9.weight"));
        Assert.Contains("conv1.weight", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Threads = 0);
    }

    [Fact]
    public void ComputeGradientsReturnsTheMeanLossAndCountsCorrectPredictions()
    {
        var net = new LeNet5(seed: 2);
        var random = new Random(9);
        const int batch = 5;
        var inputs = new float[LeNet5.InputLength * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        var labels = new[] { 0, 3, 9, 3, 1 };
        var probabilities = new float[LeNet5.OutputLength * batch];
        net.Forward(inputs, probabilities, batch);
        double expected = 0;
        int correct = 0;
        for (int b = 0; b < batch; b++)
        {
            var row = probabilities.AsSpan(b * 10, 10);
            expected -= Math.Log(row[labels[b]]);
            if (row.IndexOf(row.ToArray().Max()) == labels[b]) correct++;
        }
        float loss = net.ComputeGradients(inputs, labels, batch);
        Assert.Equal(expected / batch, loss, 5);
        Assert.Equal(correct, net.LastCorrect);
    }

    [Fact]
    public void SoftmaxOnlyNetworkHandlesEveryMicroBatch()
    {
        // More images than one micro-batch, so later micro-batches must read their own inputs.
        int batch = 2 * CnnGen.Tests.Networks.SoftmaxOnlyNet.MicroBatch + 5;
        var net = new CnnGen.Tests.Networks.SoftmaxOnlyNet();
        var inputs = new float[3 * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (i % 7) - 3f;
        var outputs = new float[3 * batch];
        net.Forward(inputs, outputs, batch);
        var expected = new float[3];
        for (int b = 0; b < batch; b++)
        {
            CnnGen.Kernels.SoftmaxCrossEntropy.Softmax(inputs.AsSpan(3 * b, 3), expected);
            Assert.Equal(expected, outputs.AsSpan(3 * b, 3).ToArray());
        }
        var labels = Enumerable.Range(0, batch).Select(b => b % 3).ToArray();
        float loss = net.ComputeGradients(inputs, labels, batch);
        double sum = 0;
        for (int b = 0; b < batch; b++)
        {
            CnnGen.Kernels.SoftmaxCrossEntropy.Softmax(inputs.AsSpan(3 * b, 3), expected);
            sum -= Math.Log(expected[labels[b]]);
        }
        Assert.Equal(sum / batch, loss, 5);
    }
}
