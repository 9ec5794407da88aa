using CnnGen.Optimizers;
using CnnGen.Samples.Networks;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>
/// The <c>resnet</c> sample is a real small ResNet: three stages at 28x28, 14x14 and 7x7 with no pooling between them,
/// stride-2 convolutions where a stage starts, and projection shortcuts (stride-2 1x1 convolutions with BatchNorm).
/// </summary>
public sealed class SmallResNetTests
{
    private static LayerInfo Layer(string name) => SmallResNet.Layers.Single(l => l.Name == name);

    [Fact]
    public void StagesHalveTheMapWithStridedConvolutionsNotPools()
    {
        Assert.DoesNotContain(SmallResNet.Layers, l => l.Kind is "MaxPool" or "AvgPool");
        Assert.Equal((16, 28), (Layer("stage1.1.out").OutputChannels, Layer("stage1.1.out").OutputHeight));
        Assert.Equal((32, 14), (Layer("stage2.1.out").OutputChannels, Layer("stage2.1.out").OutputHeight));
        Assert.Equal((64, 7), (Layer("stage3.1.out").OutputChannels, Layer("stage3.1.out").OutputHeight));
        Assert.Equal(2, Layer("stage2.0.conv1").Stride);
        Assert.Equal(2, Layer("stage3.0.conv1").Stride);
        Assert.Equal("GlobalAvgPool", Layer("pool").Kind);
    }

    [Theory]
    [InlineData("stage2", "stage1.1.out", 32)]
    [InlineData("stage3", "stage2.1.out", 64)]
    public void StagesThatHalveTheMapHaveProjectionShortcuts(string stage, string blockInput, int channels)
    {
        var projection = Layer($"{stage}.0.shortcut.0");
        Assert.Equal(("Conv", 1, 2, blockInput, channels), (projection.Kind, projection.Kernel, projection.Stride, projection.Input, projection.OutputChannels));
        Assert.Equal("BatchNorm", Layer($"{stage}.0.shortcut.1").Kind);
        var add = Layer($"{stage}.0.add");
        Assert.Equal($"{stage}.0.shortcut.1", add.Input);
        Assert.Equal([$"{stage}.0.bn2"], add.Sources);
    }

    [Fact]
    public void ParameterCountIsTheSumOfItsTensors()
    {
        // Convolutions without bias, BatchNorm weight and bias per channel, the dense head with bias.
        long stem = 9 * 16 + 2 * 16;
        long stage1 = 4 * (9 * 16 * 16 + 2 * 16);
        long stage2 = 9 * 16 * 32 + 3 * 9 * 32 * 32 + 16 * 32 + 5 * 2 * 32;
        long stage3 = 9 * 32 * 64 + 3 * 9 * 64 * 64 + 32 * 64 + 5 * 2 * 64;
        long head = 64 * 10 + 10;
        long sum = stem + stage1 + stage2 + stage3 + head;
        Assert.Equal(174_970, sum);
        Assert.Equal(sum, SmallResNet.Tensors.Sum(t => (long)t.Length));
        Assert.Equal(sum, SmallResNet.Layers.Sum(l => l.Parameters));
    }

    [Fact]
    public void TrainingStepsLowerTheLossOnAFixedBatch()
    {
        var network = new SmallResNet(seed: 3) { Training = true };
        var random = new Random(5);
        const int batch = 16;
        var inputs = new float[batch * 28 * 28];
        var labels = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            labels[i] = i % 10;
            // Each class a different bright square on a noisy background: learnable in a few steps.
            for (int p = 0; p < 28 * 28; p++) inputs[i * 784 + p] = (float)(random.NextDouble() * 0.2);
            int row = 2 + 2 * labels[i], column = 4 + labels[i];
            for (int y = row; y < row + 6; y++)
                for (int x = column; x < column + 6; x++) inputs[i * 784 + y * 28 + x] = 1f;
        }
        var optimizer = new Sgd(0.05f, momentum: 0.9f);
        float first = network.ComputeGradients(inputs, labels, batch);
        optimizer.Step(network.Parameters, network.Gradients);
        float last = first;
        for (int step = 0; step < 15; step++)
        {
            last = network.ComputeGradients(inputs, labels, batch);
            optimizer.Step(network.Parameters, network.Gradients);
        }
        Assert.True(float.IsFinite(first) && first > 1.5f, $"first loss {first}");
        Assert.True(last < first / 4, $"loss went from {first} to {last}");
    }
}
