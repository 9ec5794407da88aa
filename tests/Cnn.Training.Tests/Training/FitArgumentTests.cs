using CnnGen.Data;
using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Training;

public class FitArgumentTests
{
    private static Trainer NewTrainer() =>
        new(new TrainLeNet(seed: 1), new Sgd(0.01f), new ConstantSchedule(0.01f), new TrainerOptions { Epochs = 1, BatchSize = 8 });

    [Fact]
    public void AnEmptyTrainingSetIsRefusedByName()
    {
        var trainer = NewTrainer();
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(new Dataset([], [], 1, 28, 28, 10)));
        Assert.Equal("train", e.ParamName);
        Assert.Contains("empty", e.Message);
        Assert.Equal(0, trainer.CompletedEpochs);
    }

    [Fact]
    public void ImagesOfTheWrongShapeAreRefused()
    {
        var trainer = NewTrainer();
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(SyntheticData.Make(8, 1, height: 14, width: 56)));
        Assert.Equal("train", e.ParamName);
        Assert.Contains("1x28x28", e.Message);
        Assert.Contains("1x14x56", e.Message);
        Assert.Equal(0, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void MoreClassesThanOutputsAreRefused()
    {
        var trainer = NewTrainer();
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(SyntheticData.Make(8, 1, classes: 11)));
        Assert.Contains("10 outputs", e.Message);
        Assert.Contains("11 classes", e.Message);
    }

    [Fact]
    public void ATestSetOfTheWrongShapeIsRefusedBeforeTraining()
    {
        var trainer = NewTrainer();
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(SyntheticData.Make(8, 1), SyntheticData.Make(4, 2, channels: 4, height: 14, width: 14)));
        Assert.Equal("test", e.ParamName);
        Assert.Contains("4x14x14", e.Message);
        Assert.Equal(0, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void EvaluationRefusesImagesWithTheRightLengthButTheWrongShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Evaluation.Run(new TrainLeNet(), SyntheticData.Make(3, 1, height: 56, width: 14)));
        Assert.Contains("1x56x14", e.Message);
    }
}
