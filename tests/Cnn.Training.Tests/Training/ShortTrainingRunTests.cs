using CnnGen.Optimizers;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Training.Tests.Training;

/// <summary>A real, short run: LeNet-5 on 4,000 Fashion-MNIST images for 3 epochs, tested on 1,000.</summary>
public class ShortTrainingRunTests(ITestOutputHelper output)
{
    [Data.FashionMnistFact]
    public void LeNetLearnsFashionMnistInThreeEpochs()
    {
        var (train, test) = FashionData.Load(4000, 1000);
        var network = new TrainLeNet(seed: 1) { Threads = 2 };
        var before = Evaluation.Run(network, test);
        var trainer = new Trainer(network, new Sgd(0.05f, momentum: 0.9f), new ConstantSchedule(0.05f),
            new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 1 });

        var reports = trainer.Fit(train, test);

        foreach (var r in reports)
            output.WriteLine($"epoch {r.Epoch}: train loss {r.TrainLoss:F4} acc {r.TrainAccuracy:P1}, test loss {r.Test!.Loss:F4} acc {r.Test.Accuracy:P1}, {r.TrainSeconds:F2} s");
        output.WriteLine($"before training: test loss {before.Loss:F4} acc {before.Accuracy:P1}");

        Assert.Equal([1, 2, 3], reports.Select(r => r.Epoch));
        Assert.Equal(3, trainer.CompletedEpochs);
        // Untrained: about chance (10 classes, loss near ln 10).
        Assert.InRange(before.Accuracy, 0.0, 0.25);
        Assert.InRange(before.Loss, 2.0, 2.6);
        // The training loss falls every epoch, and by a lot overall.
        for (int i = 1; i < reports.Count; i++)
            Assert.True(reports[i].TrainLoss < reports[i - 1].TrainLoss, $"epoch {i + 1} loss {reports[i].TrainLoss} is not below epoch {i}'s {reports[i - 1].TrainLoss}");
        Assert.True(reports[^1].TrainLoss < 0.6 * reports[0].TrainLoss, $"last loss {reports[^1].TrainLoss} vs first {reports[0].TrainLoss}");
        // Held-out accuracy well above chance. Measured: 74.6%, 78.3%, 83.8% after epochs 1-3 (test loss 0.496);
        // the floors leave room for other SIMD widths and summation orders.
        var final = reports[^1].Test!;
        Assert.Equal(1000, final.Count);
        Assert.True(final.Accuracy > 0.75, $"test accuracy {final.Accuracy}");
        Assert.True(final.Loss < 0.7, $"test loss {final.Loss}");
        Assert.True(reports[^1].TrainAccuracy > 0.70, $"train accuracy {reports[^1].TrainAccuracy}");
        Assert.Equal(3 * ((4000 + 63) / 64), trainer.Optimizer.StepCount);
    }
}
