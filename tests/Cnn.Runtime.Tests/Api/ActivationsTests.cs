using CnnGen.Tests.Gradients;
using CnnGen.Tests.Networks;
using Xunit;

namespace CnnGen.Tests.Api;

/// <summary><c>Activations</c>: every layer's own output for one image, consistent with <c>Forward</c>.</summary>
public class ActivationsTests
{
    [Fact]
    public void EveryLayerHasItsOwnOutputAndTheLastIsForwardsResult()
    {
        INetwork net = GradientCheckTests.WithRunningStatistics(new BatchNormNet(seed: 3), 3);
        var (inputs, _) = GradientCheckTests.Batch(net, 1, 4);
        var activations = net.Activations(inputs);
        Assert.Equal(net.Layers.Count, activations.Length);
        for (int i = 0; i < activations.Length; i++) Assert.Equal(net.Layers[i].OutputLength, activations[i].Length);

        // conv1's raw output (no fused ReLU, no folded BatchNorm) has negative values; relu1 is max(0, bn1).
        Assert.Contains(activations[0], v => v < 0);
        Assert.Equal(activations[1].Select(v => Math.Max(0f, v)), activations[2]);
        // bn1 in evaluation mode: (x - running_mean) / sqrt(running_var + eps) * weight + bias, channel by channel.
        var state = net.State;
        var weight = net.Parameter("bn1.weight");
        var bias = net.Parameter("bn1.bias");
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 42; p++)
            {
                double expected = (activations[0][c * 42 + p] - state[c]) / Math.Sqrt(state[4 + c] + 1e-5) * weight[c] + bias[c];
                Assert.Equal(expected, activations[1][c * 42 + p], 1e-5);
            }

        var outputs = new float[net.OutputLength];
        net.Forward(inputs, outputs, 1);
        Assert.Equal(1f, activations[^1].Sum(), 1e-6f);
        for (int k = 0; k < outputs.Length; k++) Assert.Equal(outputs[k], activations[^1][k], 1e-6f);
    }

    [Fact]
    public void ActivationsLeaveTrainingModeAndStatisticsAlone()
    {
        var net = new BatchNormNet(seed: 5) { Training = true };
        var state = net.State.ToArray();
        var (inputs, _) = GradientCheckTests.Batch(net, 1, 6);
        net.Activations(inputs);
        Assert.True(net.Training);
        Assert.Equal(state, net.State.ToArray());
        Assert.Throws<ArgumentException>(() => net.Activations(inputs.AsSpan(1).ToArray()));
    }

    [Theory]
    [InlineData("ResidualNet")]
    [InlineData("ShortcutSourceNet")]
    [InlineData("DenseConnectNet")]
    public void InferenceWithFusionAndFoldingEqualsTheUnfusedPassWithShortcuts(string name)
    {
        // A shortcut reads its source's own output: inference must not fuse or fold it away.
        INetwork net = name switch
        {
            "ResidualNet" => new ResidualNet(seed: 2),
            "ShortcutSourceNet" => new ShortcutSourceNet(seed: 2),
            _ => new DenseConnectNet(seed: 2),
        };
        GradientCheckTests.WithRunningStatistics(net, 2);
        var (inputs, _) = GradientCheckTests.Batch(net, 5, 3);
        var outputs = new float[5 * net.OutputLength];
        net.Forward(inputs, outputs, 5);
        for (int b = 0; b < 5; b++)
        {
            var unfused = net.Activations(inputs.AsSpan(b * net.InputLength, net.InputLength));
            for (int k = 0; k < net.OutputLength; k++)
                Assert.Equal(unfused[^1][k], outputs[b * net.OutputLength + k], 1e-5f);
        }
    }

    [Fact]
    public void AnAddLayerAddsItsSourcesOutput()
    {
        INetwork net = new ShortcutSourceNet(seed: 4);
        var (inputs, _) = GradientCheckTests.Batch(net, 1, 5);
        var a = net.Activations(inputs);
        // Layers: conv1, relu1, conv2, add1 (adds conv1), conv3, bn1, relu2, conv4, add2 (adds bn1), dense1.
        Assert.Equal(a[2].Zip(a[0], (x, s) => x + s), a[3]);
        Assert.Equal(a[7].Zip(a[5], (x, s) => x + s), a[8]);
    }

    [Fact]
    public void AConcatJoinsItsInputsChannelsThenItsSources()
    {
        INetwork net = new DenseConnectNet(seed: 4);
        var (inputs, _) = GradientCheckTests.Batch(net, 1, 5);
        var a = net.Activations(inputs);
        // Layers: conv1, relu1, conv2, concat1 (conv2's 2 channels, then conv1's 3), bn1, relu2, conv3, concat2, ...
        Assert.Equal(a[2].Concat(a[0]), a[3]);
        Assert.Equal(a[6].Concat(a[5]), a[7]);
        Assert.Equal(a[10].Concat(a[10]), a[11]); // tanh1 joined to itself
        Assert.Equal(new[] { 5, 7, 12 }, new[] { 3, 7, 11 }.Select(i => net.Layers[i].OutputChannels));
    }
}
