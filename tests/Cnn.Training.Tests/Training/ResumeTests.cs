using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Training;

/// <summary>A run stopped after K epochs and resumed from its checkpoint ends exactly where the uninterrupted run does.</summary>
public class ResumeTests
{
    private const int Epochs = 3;
    // 500 images in batches of 64: 7 full batches and a last one of 52.
    private static readonly Dataset Train = SyntheticData.Make(500, seed: 21);
    private static readonly Dataset Test = SyntheticData.Make(100, seed: 22);

    public static TheoryData<string, int> Cases => new()
    {
        { "momentum", 1 }, { "momentum", 2 }, { "adam", 1 }, { "adam", 2 },
    };

    private static IOptimizer Make(string optimizer) => optimizer switch
    {
        "momentum" => new Sgd(0.02f, momentum: 0.9f, weightDecay: 5e-4f),
        "adam" => new Adam(0.002f),
        _ => throw new ArgumentException(optimizer),
    };

    private static Trainer NewTrainer(string optimizer, int networkSeed, string checkpoint) =>
        new(new TrainLeNet(networkSeed) { Threads = 2 }, Make(optimizer), new CosineSchedule(optimizer == "adam" ? 0.002f : 0.02f, Epochs),
            new TrainerOptions { Epochs = Epochs, BatchSize = 64, Seed = 5, Mirror = true, CheckpointPath = checkpoint });

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResumedRunIsBitIdenticalToTheUninterruptedRun(string optimizer, int stopAfter)
    {
        using var dir = new TempDirectory();
        var full = NewTrainer(optimizer, networkSeed: 1, dir.File("full.safetensors"));
        var fullReports = full.Fit(Train, Test);

        // The interrupted run: same settings, stopped after `stopAfter` epochs.
        string path = dir.File("part.safetensors");
        var part = new Trainer(new TrainLeNet(1) { Threads = 2 }, Make(optimizer), full.Schedule, full.Options with { Epochs = stopAfter, CheckpointPath = path });
        part.Fit(Train, Test);
        Assert.Equal(stopAfter, Checkpoint.ReadInfo(path).Training.Epoch);

        // A fresh network (other initial weights) and optimiser pick it up.
        var resumed = NewTrainer(optimizer, networkSeed: 99, path);
        var info = resumed.Resume(path);
        Assert.Equal(stopAfter, info.Training.Epoch);
        Assert.Equal(stopAfter, resumed.CompletedEpochs);
        Assert.Equal(part.Optimizer.StepCount, resumed.Optimizer.StepCount);
        Assert.Equal(part.Optimizer.StepCount, info.Training.Step);
        var resumedReports = resumed.Fit(Train, Test);

        Assert.Equal(Enumerable.Range(stopAfter + 1, Epochs - stopAfter), resumedReports.Select(r => r.Epoch));
        Assert.Equal(Bits.Of(full.Network.Parameters), Bits.Of(resumed.Network.Parameters));
        Assert.Equal(full.Optimizer.StepCount, resumed.Optimizer.StepCount);
        Assert.Equal(Epochs * 8L, resumed.Optimizer.StepCount);
        foreach (var (slot, values) in full.Optimizer.State)
            Assert.Equal(Bits.Of(values), Bits.Of(resumed.Optimizer.State[slot]));
        Assert.Equal(full.Optimizer.State.Keys.Order(), resumed.Optimizer.State.Keys.Order());
        Assert.Equal(full.Optimizer.LearningRate, resumed.Optimizer.LearningRate);
        // The resumed epochs report what the uninterrupted run reported for them.
        var expected = fullReports.Skip(stopAfter).ToList();
        Assert.Equal(expected.Select(r => r.TrainLoss), resumedReports.Select(r => r.TrainLoss));
        Assert.Equal(expected.Select(r => r.Test!.Loss), resumedReports.Select(r => r.Test!.Loss));

        // Both final checkpoints record the same epoch and step and hold the same tensors.
        var fullInfo = Checkpoint.ReadInfo(dir.File("full.safetensors"));
        var resumedInfo = Checkpoint.ReadInfo(path);
        Assert.Equal((Epochs, Epochs * 8L), (fullInfo.Training.Epoch, fullInfo.Training.Step));
        Assert.Equal((Epochs, Epochs * 8L), (resumedInfo.Training.Epoch, resumedInfo.Training.Step));
        var reloaded = new TrainLeNet(3);
        Checkpoint.Load(path, reloaded);
        Assert.Equal(Bits.Of(full.Network.Parameters), Bits.Of(reloaded.Parameters));
    }

    [Fact]
    public void ResumingAFinishedRunTrainsNoFurther()
    {
        using var dir = new TempDirectory();
        string path = dir.File("done.safetensors");
        var first = NewTrainer("momentum", 1, path);
        first.Fit(Train);
        var again = NewTrainer("momentum", 2, path);
        again.Resume(path);
        Assert.Empty(again.Fit(Train));
        Assert.Equal(Bits.Of(first.Network.Parameters), Bits.Of(again.Network.Parameters));
        Assert.Equal(first.Optimizer.StepCount, again.Optimizer.StepCount);
    }

    [Fact]
    public void ResumingWithAnotherOptimizerFailsAndChangesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("sgd.safetensors");
        var sgd = NewTrainer("momentum", 1, path);
        new Trainer(sgd.Network, sgd.Optimizer, sgd.Schedule, sgd.Options with { Epochs = 1 }).Fit(Train);
        var other = NewTrainer("adam", 2, dir.File("other.safetensors"));
        var before = Bits.Of(other.Network.Parameters);
        var e = Assert.Throws<CheckpointException>(() => other.Resume(path));
        Assert.Contains("SGD", e.Message);
        Assert.Equal(0, other.CompletedEpochs);
        Assert.Equal(0, other.Optimizer.StepCount);
        Assert.Equal(before, Bits.Of(other.Network.Parameters));
    }

    [Fact]
    public void ResumingWithAnotherDataSeedIsRefusedAndLoadsNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("seed5.safetensors");
        var first = NewTrainer("momentum", networkSeed: 1, path);
        Assert.Equal(5, first.Options.Seed);
        first.Fit(Train, Test);
        var other = new Trainer(new TrainLeNet(7) { Threads = 2 }, Make("momentum"), new ConstantSchedule(0.02f),
            new TrainerOptions { Epochs = Epochs, Seed = 6 });
        var before = Bits.Of(other.Network.Parameters);
        var e = Assert.Throws<ArgumentException>(() => other.Resume(path));
        Assert.Contains("data seed 5, but this trainer uses 6", e.Message);
        Assert.Equal(before, Bits.Of(other.Network.Parameters));
        Assert.Equal(0, other.CompletedEpochs);
    }

    [Fact]
    public void MetadataKeysOfTheCheckpointFormatAreRefusedUpFront()
    {
        var e = Assert.Throws<ArgumentException>(() => new Trainer(new TrainLeNet(1), Make("momentum"), new ConstantSchedule(0.02f),
            new TrainerOptions { Metadata = new Dictionary<string, string> { ["epoch"] = "3" } }));
        Assert.Contains("'epoch'", e.Message);
    }
}
