using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Training;

public class DivergenceTests
{
    [Fact]
    public void AHugeLearningRateThrowsNamingTheEpochAndBatch()
    {
        var network = new TrainLeNet(seed: 1);
        var trainer = new Trainer(network, new Sgd(1e6f, momentum: 0.9f), new ConstantSchedule(1e6f),
            new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 1 });

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(SyntheticData.Make(320, seed: 1)));

        // The first batch runs on the initial weights, so its loss is finite; the blow-up comes after an update.
        Assert.Equal(1, e.Epoch);
        Assert.InRange(e.Batch, 2, 10);
        Assert.False(float.IsFinite(e.Loss));
        Assert.Contains($"epoch 1, batch {e.Batch}", e.Message);
        Assert.Contains("learning rate 1000000", e.Message);
        Assert.Equal(0, trainer.CompletedEpochs);
        Assert.Equal(e.Batch - 1, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void ANaNPixelStopsTrainingAtTheBatchThatHoldsItBeforeAnyUpdate()
    {
        using var dir = new TempDirectory();
        const int BatchSize = 32, Seed = 4;
        var train = SyntheticData.Make(300, seed: 2); // 10 batches per epoch, the last of 12
        var network = new TrainLeNet(seed: 1);
        var trainer = new Trainer(network, new Sgd(0.01f, momentum: 0.9f), new ConstantSchedule(0.01f),
            new TrainerOptions { Epochs = 1, BatchSize = BatchSize, Seed = Seed, CheckpointPath = dir.File("run.safetensors") });
        trainer.Fit(train);

        // Poison one image, then train a second epoch: the trainer continues from epoch 2.
        const int Poisoned = 123;
        train.Image(Poisoned)[400] = float.NaN;
        var batcher = new Batcher(train, BatchSize, Seed);
        batcher.BeginEpoch(1);
        int batch = batcher.Order.IndexOf(Poisoned) / BatchSize + 1;
        var before = Bits.Of(network.Parameters);
        var second = new Trainer(network, trainer.Optimizer, trainer.Schedule, trainer.Options with { Epochs = 2 });
        second.Resume(dir.File("run.safetensors"));
        Assert.Equal(before, Bits.Of(network.Parameters));

        var e = Assert.Throws<TrainingDivergedException>(() => second.Fit(train));

        Assert.Equal((2, batch), (e.Epoch, e.Batch));
        Assert.True(float.IsNaN(e.Loss));
        Assert.Contains($"epoch 2, batch {batch}", e.Message);
        // Updates ran for the clean batches only, so the parameters are finite.
        Assert.Equal(10 + batch - 1, second.Optimizer.StepCount);
        foreach (var p in network.Parameters) Assert.True(float.IsFinite(p));
        // No checkpoint was written for the failed epoch.
        Assert.Equal(1, Checkpoint.ReadInfo(dir.File("run.safetensors")).Training.Epoch);
        Assert.Equal(1, second.CompletedEpochs);
    }
}
