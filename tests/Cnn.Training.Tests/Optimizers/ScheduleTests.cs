using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Optimizers;

public class ScheduleTests
{
    [Fact]
    public void ConstantNeverChanges()
    {
        var s = new ConstantSchedule(0.05f);
        Assert.Equal(0.05f, s.At(0));
        Assert.Equal(0.05f, s.At(123.5));
    }

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(2.99, 0.1)]
    [InlineData(3.0, 0.01)]
    [InlineData(5.5, 0.01)]
    [InlineData(6.0, 0.001)]
    [InlineData(9.0, 0.0001)]
    public void StepMultipliesByGammaEveryStepEpochs(double epochs, double expected)
    {
        Assert.Equal(expected, new StepSchedule(0.1f, stepEpochs: 3, gamma: 0.1f).At(epochs), 1e-7);
    }

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(2.5, 0.0853553391)] // 0.1 * (1 + cos(pi/4)) / 2
    [InlineData(5.0, 0.05)]
    [InlineData(10.0, 0.0)]
    [InlineData(15.0, 0.0)]
    public void CosineAnnealsToZero(double epochs, double expected)
    {
        Assert.Equal(expected, new CosineSchedule(0.1f, totalEpochs: 10).At(epochs), 1e-7);
    }

    [Fact]
    public void CosineStopsAtItsMinimum()
    {
        var s = new CosineSchedule(0.1f, 10, minLearningRate: 0.01f);
        Assert.Equal(0.055, s.At(5), 1e-7);
        Assert.Equal(0.01, s.At(10), 1e-7);
        Assert.Equal(0.01, s.At(11), 1e-7);
    }

    [Fact]
    public void WarmupRisesLinearlyThenFollowsTheInnerSchedule()
    {
        var s = new ConstantSchedule(0.1f).WithWarmup(2, startFactor: 0.1f);
        Assert.Equal(0.01, s.At(0), 1e-7);
        Assert.Equal(0.055, s.At(1), 1e-7);
        Assert.Equal(0.1, s.At(2), 1e-7);
        Assert.Equal(0.1, s.At(7), 1e-7);
        Assert.Contains("constant", s.Description);
    }

    [Fact]
    public void StepWithinEpochAndGlobalStepAgree()
    {
        var s = new CosineSchedule(0.1f, 4);
        Assert.Equal(s.At(1.25), s.At(epoch: 1, step: 25, stepsPerEpoch: 100));
        Assert.Equal(s.At(1.25), s.AtStep(globalStep: 125, stepsPerEpoch: 100));
        Assert.Equal(0.1f * (1 + Math.Cos(Math.PI * 1.25 / 4)) / 2, s.At(1.25), 1e-7);
    }
}
