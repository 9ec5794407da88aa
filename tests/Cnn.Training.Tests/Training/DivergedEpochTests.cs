using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Training;

/// <summary>Updates that blow up on an epoch's last batch, unwritable checkpoint paths and finished runs: the trainer
/// says so before saving or training, and the previous checkpoint is kept.</summary>
public class DivergedEpochTests
{
    /// <summary>A sane rate for the first epoch, an absurd one from the second on.</summary>
    private sealed class BlowUpAfterFirstEpoch : ILearningRateSchedule
    {
        public float BaseLearningRate => 0.01f;
        public float At(double epochs) => epochs < 1 ? 0.01f : 1e30f;
        public string Description => "0.01, then 1e30";
    }

    [Fact]
    public void AnEpochWhoseOnlyBatchBlowsUpTheWeightsIsNotSaved()
    {
        using var dir = new TempDirectory();
        string path = dir.File("run.safetensors");
        // One batch per epoch: its loss is computed on the weights before the update, so the loss check never fires.
        var train = SyntheticData.Make(64, seed: 3);
        var test = SyntheticData.Make(100, seed: 4);
        var trainer = new Trainer(new TrainLeNet(seed: 1), new Sgd(0.01f, momentum: 0.9f), new BlowUpAfterFirstEpoch(),
            new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1, CheckpointPath = path });

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train, test));

        Assert.Equal(2, e.Epoch);
        Assert.Equal(0, e.Batch);
        Assert.StartsWith("Training diverged in epoch 2: after its last update ", e.Message);
        Assert.Contains("(learning rate 1E+30). Epoch 2 was not saved; lower the learning rate.", e.Message);
        Assert.Equal(1, trainer.CompletedEpochs);
        // The checkpoint of epoch 1 is still there, and loads: its weights are finite.
        var info = Checkpoint.Load(path, new TrainLeNet(seed: 9));
        Assert.Equal(1, info.Training.Epoch);
        Assert.Equal(["run.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AParameterThatIsNoLongerFiniteIsNamedEvenWithoutATestSet()
    {
        var network = new PickLargest();
        var train = new Dataset([10f, 0f, 0f, 0f, 10f, 0f], [0, 1], 1, 1, 3, 3);
        // float.MaxValue times a gradient of a few units overflows the weights the first step touches.
        var trainer = new Trainer(network, new Sgd(float.MaxValue), new ConstantSchedule(float.MaxValue),
            new TrainerOptions { Epochs = 1, BatchSize = 2 });

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train));

        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(e.Message, @"^Training diverged in epoch 1: after its last update dense1\.weight holds [+-]infinity at index \d+ "), e.Message);
        Assert.Equal(0, trainer.CompletedEpochs);
    }

    [Fact]
    public void AnUnwritableCheckpointPathIsFoundBeforeTheFirstStep()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a-file"), "not a directory");
        var sgd = new Sgd(0.01f);
        var trainer = new Trainer(new TrainLeNet(seed: 1), sgd, new ConstantSchedule(0.01f),
            new TrainerOptions { Epochs = 1, BatchSize = 32, CheckpointPath = Path.Combine(dir.File("a-file"), "run.safetensors") });

        var e = Assert.Throws<IOException>(() => trainer.Fit(SyntheticData.Make(64, seed: 3)));

        Assert.Equal($"{Path.Combine(dir.File("a-file"), "run.safetensors")} cannot be written: {dir.File("a-file")} is a file, not a directory", e.Message);
        Assert.Equal(0, sgd.StepCount);
        Assert.Equal("not a directory", File.ReadAllText(dir.File("a-file")));
    }

    [Fact]
    public void ACheckpointPathThatIsADirectoryIsRefusedBeforeTheFirstStep()
    {
        using var dir = new TempDirectory();
        var sgd = new Sgd(0.01f);
        var trainer = new Trainer(new TrainLeNet(seed: 1), sgd, new ConstantSchedule(0.01f),
            new TrainerOptions { Epochs = 1, BatchSize = 32, CheckpointPath = dir.Path });

        var e = Assert.Throws<IOException>(() => trainer.Fit(SyntheticData.Make(64, seed: 3)));

        Assert.Equal($"{dir.Path} is a directory; name a file to write", e.Message);
        Assert.Equal(0, sgd.StepCount);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ResumingAFinishedRunTrainsNothingAndWritesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("run.safetensors");
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 2, CheckpointPath = path };
        new Trainer(new TrainLeNet(seed: 1), new Sgd(0.01f), new ConstantSchedule(0.01f), options).Fit(SyntheticData.Make(64, seed: 3));
        var saved = File.ReadAllBytes(path);
        var written = File.GetLastWriteTimeUtc(path);

        var resumed = new Trainer(new TrainLeNet(seed: 1), new Sgd(0.01f), new ConstantSchedule(0.01f), options);
        resumed.Resume(path);
        var reports = resumed.Fit(SyntheticData.Make(64, seed: 3));

        Assert.Empty(reports);
        Assert.Equal(1, resumed.CompletedEpochs);
        Assert.Equal(saved, File.ReadAllBytes(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void ABatchLargerThanTheDataTrainsAsTheWholeData()
    {
        var data = SyntheticData.Make(40, seed: 5);
        float[] Train(int batchSize)
        {
            var network = new TrainLeNet(seed: 1);
            new Trainer(network, new Sgd(0.01f, momentum: 0.9f), new ConstantSchedule(0.01f),
                new TrainerOptions { Epochs = 2, BatchSize = batchSize, Seed = 3 }).Fit(data);
            return network.Parameters.ToArray();
        }

        Assert.Equal(Bits.Of(Train(40)), Bits.Of(Train(3_000_000)));
    }
}
