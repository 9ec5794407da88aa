using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Training;

[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2, Frozen = true)] [ReLU] [MaxPool(2)]
[Conv(5, 16, Frozen = true)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU] [Dense(10)] [Softmax]
public partial class FrozenConvLeNet { }

/// <summary>Frozen layers (fine-tuning): no gradients computed, parameters unchanged bit for bit, the rest trains as before.</summary>
public class FreezingTests
{
    private static readonly CnnGen.Data.Dataset Train = SyntheticData.Make(200, seed: 31);

    private static Trainer Make(INetwork network) =>
        new(network, new Sgd(0.05f, momentum: 0.9f, weightDecay: 5e-4f), new ConstantSchedule(0.05f),
            new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 3 });

    private static float[] TensorValues(INetwork network, string name) => network.Parameter(name).ToArray();

    [Fact]
    public void CompileTimeFrozenLayersKeepTheirParametersBitForBit()
    {
        var network = new FrozenConvLeNet(seed: 1) { Threads = 2 };
        Assert.True(network.IsFrozen("conv1"));
        Assert.False(network.IsFrozen("dense1"));
        var conv1 = TensorValues(network, "conv1.weight");
        var conv2Bias = TensorValues(network, "conv2.bias");
        var dense1 = TensorValues(network, "dense1.weight");
        Make(network).Fit(Train);
        Assert.Equal(Bits.Of(conv1), Bits.Of(network.Parameter("conv1.weight")));
        Assert.Equal(Bits.Of(conv2Bias), Bits.Of(network.Parameter("conv2.bias")));
        Assert.NotEqual(Bits.Of(dense1), Bits.Of(network.Parameter("dense1.weight")));
    }

    [Fact]
    public void FrozenLayersGetNoGradientAndTheOthersTheSameGradient()
    {
        var frozen = new TrainLeNet(seed: 2);
        var free = new TrainLeNet(seed: 2);
        frozen.Freeze("conv1");
        frozen.Freeze("dense2");
        var inputs = Train.Images.AsSpan(0, 16 * Train.ImageLength).ToArray();
        var labels = Train.Labels.AsSpan(0, 16).ToArray();
        Assert.Equal(free.ComputeGradients(inputs, labels, 16), frozen.ComputeGradients(inputs, labels, 16));
        foreach (var t in TrainLeNet.Tensors)
        {
            var g = frozen.Gradients.Slice(t.Offset, t.Length).ToArray();
            if (t.Name.StartsWith("conv1.") || t.Name.StartsWith("dense2."))
                Assert.All(g, v => Assert.Equal(0f, v));
            else
                Assert.Equal(Bits.Of(free.Gradients.Slice(t.Offset, t.Length)), Bits.Of(g));
        }
    }

    [Fact]
    public void RunTimeFreezingAndUnfreezing()
    {
        var network = new TrainLeNet(seed: 3);
        network.Freeze("conv1");
        network.Freeze("conv2");
        var conv2 = TensorValues(network, "conv2.weight");
        Make(network).Fit(Train);
        Assert.Equal(Bits.Of(conv2), Bits.Of(network.Parameter("conv2.weight")));

        network.Unfreeze("conv2");
        Assert.False(network.IsFrozen("conv2"));
        var trainer = Make(network);
        trainer.Fit(Train);
        Assert.NotEqual(Bits.Of(conv2), Bits.Of(network.Parameter("conv2.weight")));
    }

    [Fact]
    public void AllLayersFrozenStillGiveTheLossAndZeroGradients()
    {
        var network = new TrainLeNet(seed: 4);
        foreach (var layer in new[] { "conv1", "conv2", "dense1", "dense2", "dense3" }) network.Freeze(layer);
        var inputs = Train.Images.AsSpan(0, 4 * Train.ImageLength).ToArray();
        float loss = network.ComputeGradients(inputs, new[] { 0, 1, 2, 3 }, 4);
        Assert.True(loss > 0f);
        Assert.All(network.Gradients.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void FreezingNamesTheLayersThatCanBeFrozen()
    {
        var network = new TrainLeNet(seed: 5);
        var e = Assert.Throws<ArgumentException>(() => network.Freeze("relu1"));
        Assert.Contains("layer relu1 has no parameters to freeze", e.Message);
        e = Assert.Throws<ArgumentException>(() => network.Freeze("conv9"));
        Assert.Contains("no layer named 'conv9'; layers with parameters: conv1, conv2, dense1, dense2, dense3", e.Message);
    }
}
