namespace CnnGen.Optimizers;

/// <summary>
/// A learning rate as a function of training progress, measured in epochs: <c>epoch + fraction of the epoch done</c>
/// (use <see cref="LearningRateSchedules.At"/> for epoch/step or a global step count).
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The rate the schedule starts from (after any warm-up).</summary>
    float BaseLearningRate { get; }

    /// <summary>The learning rate after <paramref name="epochs"/> epochs of training (fractional within an epoch).</summary>
    float At(double epochs);

    /// <summary>A one-line description for logs and checkpoint metadata.</summary>
    string Description { get; }
}

public static class LearningRateSchedules
{
    /// <summary>The rate at step <paramref name="step"/> of <paramref name="stepsPerEpoch"/> in epoch <paramref name="epoch"/>.</summary>
    public static float At(this ILearningRateSchedule schedule, int epoch, int step, int stepsPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        return schedule.At(epoch + (double)step / stepsPerEpoch);
    }

    /// <summary>The rate after <paramref name="globalStep"/> steps of <paramref name="stepsPerEpoch"/> per epoch.</summary>
    public static float AtStep(this ILearningRateSchedule schedule, long globalStep, int stepsPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        return schedule.At((double)globalStep / stepsPerEpoch);
    }

    /// <summary>This schedule with a linear warm-up over the first <paramref name="warmupEpochs"/> epochs.</summary>
    public static ILearningRateSchedule WithWarmup(this ILearningRateSchedule schedule, double warmupEpochs, float startFactor = 0.1f) =>
        new WarmupSchedule(schedule, warmupEpochs, startFactor);
}
