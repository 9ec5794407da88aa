using System.Globalization;

namespace CnnGen.Optimizers;

/// <summary>A linear warm-up in front of another schedule: over the first <c>warmupEpochs</c> the rate is the inner
/// schedule's times a factor rising linearly from <c>startFactor</c> to 1.</summary>
public sealed class WarmupSchedule : ILearningRateSchedule
{
    public WarmupSchedule(ILearningRateSchedule inner, double warmupEpochs, float startFactor = 0.1f)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!(warmupEpochs >= 0)) throw new ArgumentOutOfRangeException(nameof(warmupEpochs), "warm-up must not be negative");
        if (startFactor is < 0f or > 1f) throw new ArgumentOutOfRangeException(nameof(startFactor), "start factor must be in [0, 1]");
        Inner = inner;
        WarmupEpochs = warmupEpochs;
        StartFactor = startFactor;
    }

    public ILearningRateSchedule Inner { get; }
    public double WarmupEpochs { get; }
    public float StartFactor { get; }
    public float BaseLearningRate => Inner.BaseLearningRate;

    public float At(double epochs)
    {
        float rate = Inner.At(epochs);
        if (epochs >= WarmupEpochs) return rate;
        double progress = Math.Max(0, epochs) / WarmupEpochs;
        return (float)(rate * (StartFactor + (1 - StartFactor) * progress));
    }

    public string Description => string.Create(CultureInfo.InvariantCulture, $"warmup(epochs={WarmupEpochs}, start={StartFactor}) then {Inner.Description}");
}
