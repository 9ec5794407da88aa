using System.Globalization;

namespace CnnGen.Optimizers;

/// <summary>Cosine annealing from the base rate to <c>minLr</c> over <c>totalEpochs</c> (fractional progress allowed,
/// so it anneals per step): <c>lr = min + (base - min) * (1 + cos(pi * t / T)) / 2</c>, then <c>min</c> after T.</summary>
public sealed class CosineSchedule : ILearningRateSchedule
{
    public CosineSchedule(float baseLearningRate, double totalEpochs, float minLearningRate = 0f)
    {
        if (!(totalEpochs > 0)) throw new ArgumentOutOfRangeException(nameof(totalEpochs), "total epochs must be positive");
        BaseLearningRate = baseLearningRate;
        TotalEpochs = totalEpochs;
        MinLearningRate = minLearningRate;
    }

    public float BaseLearningRate { get; }
    public double TotalEpochs { get; }
    public float MinLearningRate { get; }

    public float At(double epochs)
    {
        double t = Math.Clamp(epochs, 0, TotalEpochs);
        return (float)(MinLearningRate + (BaseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * t / TotalEpochs)) / 2);
    }

    public string Description => string.Create(CultureInfo.InvariantCulture, $"cosine(lr={BaseLearningRate}, epochs={TotalEpochs}, min={MinLearningRate})");
}
