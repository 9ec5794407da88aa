using System.Globalization;

namespace CnnGen.Optimizers;

/// <summary>PyTorch's <c>StepLR</c>: the rate is multiplied by <c>gamma</c> every <c>stepEpochs</c> whole epochs,
/// <c>lr = base * gamma^floor(epoch / stepEpochs)</c>.</summary>
public sealed class StepSchedule : ILearningRateSchedule
{
    public StepSchedule(float baseLearningRate, int stepEpochs, float gamma = 0.1f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(gamma);
        BaseLearningRate = baseLearningRate;
        StepEpochs = stepEpochs;
        Gamma = gamma;
    }

    public float BaseLearningRate { get; }
    public int StepEpochs { get; }
    public float Gamma { get; }

    public float At(double epochs)
    {
        int epoch = (int)Math.Floor(Math.Max(0, epochs));
        return (float)(BaseLearningRate * Math.Pow(Gamma, epoch / StepEpochs));
    }

    public string Description => string.Create(CultureInfo.InvariantCulture, $"step(lr={BaseLearningRate}, every={StepEpochs}, gamma={Gamma})");
}
