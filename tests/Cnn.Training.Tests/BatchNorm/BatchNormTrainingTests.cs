using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using CnnGen.Training.Tests.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests.BatchNorm;

/// <summary>The trainer with BatchNorm: training mode while fitting, evaluation after; frozen BatchNorm; no allocation.</summary>
public class BatchNormTrainingTests(ITestOutputHelper output)
{
    private static readonly CnnGen.Data.Dataset Train = SyntheticData.Make(200, seed: 41);

    private static Trainer Make(INetwork network, int epochs = 2) =>
        new(network, new Sgd(0.05f, momentum: 0.9f, weightDecay: 5e-4f), new ConstantSchedule(0.05f),
            new TrainerOptions { Epochs = epochs, BatchSize = 32, Seed = 3 });

    [Fact]
    public void FittingUsesBatchStatisticsAndLeavesTheNetworkInEvaluationMode()
    {
        var network = new TrainLeNetBatchNorm(seed: 1) { Threads = 2 };
        Make(network).Fit(Train);
        Assert.False(network.Training);
        // 200 images in batches of 32: 7 steps per epoch, each one running-statistics update per BatchNorm.
        Assert.Equal(14f, network.State[12]);
        Assert.Equal(14f, network.State[TrainLeNetBatchNorm.StateTensors.Single(t => t.Name == "bn4.num_batches_tracked").Offset]);
        var runningVar = network.State.Slice(6, 6).ToArray();
        Assert.DoesNotContain(1f, runningVar);
        Assert.All(runningVar, v => Assert.True(v > 0));
    }

    [Fact]
    public void FrozenBatchNormKeepsItsParametersBitForBit()
    {
        var network = new FrozenBatchNormLeNet(seed: 2) { Threads = 2 };
        Assert.True(network.IsFrozen("bn1"));
        var bn1 = Bits.Of(network.Parameter("bn1.weight"));
        var bn1Bias = Bits.Of(network.Parameter("bn1.bias"));
        var bn2 = Bits.Of(network.Parameter("bn2.weight"));
        Make(network).Fit(Train);
        Assert.Equal(bn1, Bits.Of(network.Parameter("bn1.weight")));
        Assert.Equal(bn1Bias, Bits.Of(network.Parameter("bn1.bias")));
        Assert.NotEqual(bn2, Bits.Of(network.Parameter("bn2.weight")));
    }

    [Fact]
    public void TwoThreadTrainingIsRepeatable()
    {
        float[] Run()
        {
            var network = new TrainLeNetBatchNorm(seed: 3) { Threads = 2 };
            Make(network, epochs: 1).Fit(Train);
            return [.. network.Parameters.ToArray(), .. network.State.ToArray()];
        }
        Assert.Equal(Bits.Of(Run()), Bits.Of(Run()));
    }

    [Fact]
    public void TrainingModePassesAllocateNothingAfterTheFirstCall()
    {
        var network = new TrainLeNetBatchNorm(seed: 1) { Threads = 2, Training = true };
        var data = SyntheticData.Make(64, seed: 5);
        var outputs = new float[64 * 10];
        network.ComputeGradients(data.Images, data.Labels, 64);
        network.Forward(data.Images, outputs, 64);
        long training = Allocations.Steady(() =>
        {
            network.ComputeGradients(data.Images, data.Labels, 64);
            network.Forward(data.Images, outputs, 64);
        });
        network.Training = false;
        network.Forward(data.Images, outputs, 64); // first evaluation pass: folding, buffers
        long evaluation = Allocations.Steady(() => network.Forward(data.Images, outputs, 64));
        network.Training = true;
        output.WriteLine($"training passes {training} bytes, evaluation passes {evaluation} bytes");
        Assert.Equal(0L, evaluation);
        Assert.Equal(0L, training);
    }
}

/// <summary>A BatchNorm run stopped after an epoch and resumed from its checkpoint (running statistics included) ends
/// bit-identical to the uninterrupted run.</summary>
public class BatchNormResumeTests
{
    [Fact]
    public void ResumedRunIsBitIdenticalIncludingRunningStatistics()
    {
        using var dir = new TempDirectory();
        var train = SyntheticData.Make(300, seed: 23);
        Trainer Make(int networkSeed, string path, int epochs) =>
            new(new TrainLeNetBatchNorm(networkSeed) { Threads = 2 }, new Sgd(0.02f, momentum: 0.9f, weightDecay: 5e-4f),
                new CosineSchedule(0.02f, 3), new TrainerOptions { Epochs = epochs, BatchSize = 64, Seed = 5, Mirror = true, CheckpointPath = path });

        var full = Make(1, dir.File("full.safetensors"), 3);
        full.Fit(train);
        Make(1, dir.File("part.safetensors"), 1).Fit(train);
        var resumed = Make(99, dir.File("part.safetensors"), 3);
        resumed.Resume(dir.File("part.safetensors"));
        resumed.Fit(train);

        Assert.Equal(Bits.Of(full.Network.Parameters), Bits.Of(resumed.Network.Parameters));
        Assert.Equal(Bits.Of(full.Network.State), Bits.Of(resumed.Network.State));
        Assert.Equal(15f, resumed.Network.State[12]); // 5 batches per epoch, 3 epochs
    }
}
