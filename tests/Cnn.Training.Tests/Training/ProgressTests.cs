using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Training;

public class ProgressTests
{
    // 500 images in batches of 64: 7 full batches and a last one of 52.
    private static readonly Dataset Train = SyntheticData.Make(500, seed: 31);
    private static readonly Dataset Test = SyntheticData.Make(90, seed: 32);

    [Fact]
    public void BatchProgressComesOncePerBatchAndEpochProgressOncePerEpoch()
    {
        using var dir = new TempDirectory();
        string path = dir.File("p.safetensors");
        var schedule = new CosineSchedule(0.05f, 2);
        var trainer = new Trainer(new TrainLeNet(seed: 3), new Sgd(0.05f, momentum: 0.9f), schedule,
            new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 8, CheckpointPath = path });
        var steps = new List<long>();
        var batches = new Recorder<BatchProgress> { OnReport = _ => steps.Add(trainer.Optimizer.StepCount) };
        var savedEpochs = new List<int>();
        var epochs = new Recorder<EpochReport> { OnReport = _ => savedEpochs.Add(Checkpoint.ReadInfo(path).Training.Epoch) };
        trainer.BatchProgress = batches;
        trainer.EpochProgress = epochs;

        var reports = trainer.Fit(Train, Test);

        var b = batches.Items;
        Assert.Equal(16, b.Count);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (i / 8 + 1, i % 8 + 1)), b.Select(p => (p.Epoch, p.Batch)));
        Assert.All(b, p => Assert.Equal((2, 8), (p.Epochs, p.Batches)));
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), steps); // reported after each update
        for (int i = 0; i < b.Count; i++)
        {
            var p = b[i];
            Assert.InRange(p.Loss, 0.5, 10);
            Assert.InRange(p.Accuracy, 0, 1);
            Assert.True(double.IsFinite(p.ImagesPerSecond) && p.ImagesPerSecond > 0, $"images/s {p.ImagesPerSecond}");
            Assert.Equal(schedule.At(p.Epoch - 1, p.Batch - 1, 8), p.LearningRate);
        }
        Assert.True(b[15].LearningRate < b[0].LearningRate);

        // The first report is the first batch's loss exactly: replay it.
        var batcher = new Batcher(Train, 64, seed: 8);
        Assert.True(batcher.MoveNext());
        float firstLoss = new TrainLeNet(seed: 3).ComputeGradients(batcher.Inputs, batcher.Labels, 64);
        Assert.Equal((double)firstLoss, b[0].Loss);

        // Epoch reports: once per epoch, after the checkpoint, matching the last batch report and the returned list.
        Assert.Equal(reports, epochs.Items);
        Assert.Equal([1, 2], epochs.Items.Select(r => r.Epoch));
        Assert.Equal([1, 2], savedEpochs);
        for (int e = 0; e < 2; e++)
        {
            var last = b[8 * e + 7];
            var r = reports[e];
            Assert.Equal(last.Loss, r.TrainLoss);
            Assert.Equal(last.Accuracy, r.TrainAccuracy);
            Assert.Equal(last.LearningRate, r.LearningRate);
            Assert.True(r.TrainSeconds > 0 && r.ImagesPerSecond > 0 && r.EvaluationSeconds >= 0);
            Assert.Equal(90, r.Test!.Count);
        }
        var now = Evaluation.Run(trainer.Network, Test);
        Assert.Equal(now.Confusion, reports[1].Test!.Confusion);
        Assert.Equal(now.Loss, reports[1].Test!.Loss);
    }

    [Fact]
    public void WithoutATestSetEpochReportsHaveNoEvaluation()
    {
        var trainer = new Trainer(new TrainLeNet(seed: 3), new Sgd(0.05f), new ConstantSchedule(0.05f),
            new TrainerOptions { Epochs = 1, BatchSize = 100 });
        var report = Assert.Single(trainer.Fit(Train));
        Assert.Null(report.Test);
        Assert.Equal(5, trainer.Optimizer.StepCount);
    }
}
