using CnnGen.Initialization;
using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Training;

/// <summary>Seed 002's weight initialisations: the default, He, Xavier, small Gaussian, and why never all zeros.</summary>
public class InitializationTests
{
    private static double Std(ReadOnlySpan<float> values)
    {
        double mean = 0, squares = 0;
        foreach (float v in values) mean += v;
        mean /= values.Length;
        foreach (float v in values) squares += (v - mean) * (v - mean);
        return Math.Sqrt(squares / values.Length);
    }

    [Fact]
    public void TheConstructorDrawsTheDefaultScheme()
    {
        var constructed = new TrainLeNet(seed: 5);
        var drawn = new TrainLeNet(seed: 1);
        drawn.InitializeParameters(5, WeightInitialization.Default);
        Assert.Equal(Bits.Of(constructed.Parameters), Bits.Of(drawn.Parameters));
    }

    [Theory]
    // dense1.weight: 48,000 values, fan_in 400, followed by a ReLU; dense3.weight: the last layer, fan_in 84.
    [InlineData(WeightInitialization.Default, 0.0707106781, 0.1091089451)]
    [InlineData(WeightInitialization.He, 0.0707106781, 0.15430334996)]
    [InlineData(WeightInitialization.Xavier, 0.05, 0.1091089451)]
    [InlineData(WeightInitialization.SmallGaussian, 0.01, 0.01)]
    public void SchemesDrawTheirStandardDeviations(WeightInitialization scheme, double dense1, double dense3)
    {
        var net = new TrainLeNet(seed: 1);
        net.InitializeParameters(3, scheme);
        Assert.Equal(dense1, WeightInit.Std(scheme, 400, reluFollows: true), 7);
        Assert.Equal(dense3, WeightInit.Std(scheme, 84, reluFollows: false), 7);
        Assert.InRange(Std(net.Parameter("dense1.weight")), dense1 * 0.98, dense1 * 1.02);
        Assert.InRange(Std(net.Parameter("dense3.weight")), dense3 * 0.9, dense3 * 1.1);
        Assert.All(net.Parameter("dense1.bias").ToArray(), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void AllZeroWeightsNeverLearnAnythingButTheLastBias()
    {
        // With every weight zero each unit computes the same (zero) and gets the same (zero) gradient: symmetry is never broken.
        var net = new TrainLeNet(seed: 1);
        net.InitializeParameters(1, WeightInitialization.Zeros);
        var data = SyntheticData.Make(128, seed: 4);
        var trainer = new Trainer(net, new Sgd(0.05f, momentum: 0.9f), new ConstantSchedule(0.05f),
            new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 1 });
        trainer.Fit(data);
        foreach (var t in TrainLeNet.Tensors)
        {
            var values = net.Parameters.Slice(t.Offset, t.Length).ToArray();
            if (t.Name == "dense3.bias") Assert.Contains(values, v => v != 0f);
            else Assert.All(values, v => Assert.Equal(0f, v));
        }
    }
}
