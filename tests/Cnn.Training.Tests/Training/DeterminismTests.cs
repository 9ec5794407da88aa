using CnnGen.Data;
using CnnGen.Optimizers;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests.Training;

public class DeterminismTests(ITestOutputHelper output)
{
    private static readonly Dataset Train = SyntheticData.Make(600, seed: 3);

    private static (float[] Parameters, IReadOnlyList<EpochReport> Reports) Run(int threads, int epochs = 2, bool mirror = true)
    {
        var network = new TrainLeNet(seed: 7) { Threads = threads };
        var trainer = new Trainer(network, new Sgd(0.02f, momentum: 0.9f, weightDecay: 5e-4f), new CosineSchedule(0.02f, epochs),
            new TrainerOptions { Epochs = epochs, BatchSize = 64, Seed = 11, Mirror = mirror });
        var reports = trainer.Fit(Train);
        return (network.Parameters.ToArray(), reports);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SameSeedsAndThreadCountGiveBitIdenticalParameters(int threads)
    {
        var a = Run(threads);
        var b = Run(threads);
        Assert.Equal(Bits.Of(a.Parameters), Bits.Of(b.Parameters));
        Assert.Equal(a.Reports.Select(r => r.TrainLoss), b.Reports.Select(r => r.TrainLoss));
        Assert.Equal(a.Reports.Select(r => r.TrainAccuracy), b.Reports.Select(r => r.TrainAccuracy));
        // Training moved the parameters away from the seed's initial values.
        Assert.NotEqual(Bits.Of(new TrainLeNet(seed: 7).Parameters), Bits.Of(a.Parameters));
    }

    [Fact]
    public void ADifferentDataSeedGivesDifferentParameters()
    {
        var network = new TrainLeNet(seed: 7);
        new Trainer(network, new Sgd(0.02f, momentum: 0.9f), new ConstantSchedule(0.02f),
            new TrainerOptions { Epochs = 1, BatchSize = 64, Seed = 12 }).Fit(Train);
        var other = new TrainLeNet(seed: 7);
        new Trainer(other, new Sgd(0.02f, momentum: 0.9f), new ConstantSchedule(0.02f),
            new TrainerOptions { Epochs = 1, BatchSize = 64, Seed = 11 }).Fit(Train);
        Assert.NotEqual(Bits.Of(network.Parameters), Bits.Of(other.Parameters));
    }

    [Fact]
    public void OneAndTwoThreadsGiveTheSameGradientsUpToRounding()
    {
        var one = new TrainLeNet(seed: 5) { Threads = 1 };
        var two = new TrainLeNet(seed: 5) { Threads = 2 };
        var x = Train.Images.AsSpan(0, 64 * Train.ImageLength);
        var y = Train.Labels.AsSpan(0, 64);
        float lossOne = one.ComputeGradients(x, y, 64);
        float lossTwo = two.ComputeGradients(x, y, 64);
        Assert.Equal(one.LastCorrect, two.LastCorrect);
        double scale = MaxAbs(one.Gradients);
        double diff = MaxAbsDifference(one.Gradients, two.Gradients);
        output.WriteLine($"loss {lossOne} vs {lossTwo}; gradients: max |g| {scale:G4}, max difference {diff:G4}");
        Assert.True(Math.Abs(lossOne - lossTwo) <= 1e-6 * Math.Abs(lossOne), $"loss {lossOne} vs {lossTwo}");
        Assert.True(scale > 0);
        Assert.True(diff <= 1e-5 * scale, $"max gradient difference {diff} against max |g| {scale}");
    }

    [Fact]
    public void OneAndTwoThreadsTrainToCloseParameters()
    {
        var one = Run(1);
        var two = Run(2);
        double diff = MaxAbsDifference(one.Parameters, two.Parameters);
        double moved = MaxAbsDifference(one.Parameters, new TrainLeNet(seed: 7).Parameters);
        output.WriteLine($"after 2 epochs: max parameter difference {diff:G4}, max change by training {moved:G4}; " +
                         $"losses {string.Join(", ", one.Reports.Select(r => r.TrainLoss))} vs {string.Join(", ", two.Reports.Select(r => r.TrainLoss))}");
        Assert.True(diff <= 1e-5, $"max parameter difference {diff}");
        Assert.True(moved > 1000 * diff, $"training moved the parameters by at most {moved}, the runs differ by {diff}");
        for (int e = 0; e < one.Reports.Count; e++)
            Assert.True(Math.Abs(one.Reports[e].TrainLoss - two.Reports[e].TrainLoss) <= 1e-4, $"epoch {e + 1}: {one.Reports[e].TrainLoss} vs {two.Reports[e].TrainLoss}");
    }

    internal static double MaxAbs(ReadOnlySpan<float> values)
    {
        double max = 0;
        foreach (var v in values) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    internal static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
