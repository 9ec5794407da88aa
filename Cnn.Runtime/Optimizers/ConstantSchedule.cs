using System.Globalization;

namespace CnnGen.Optimizers;

/// <summary>The same learning rate throughout.</summary>
public sealed class ConstantSchedule(float learningRate) : ILearningRateSchedule
{
    public float BaseLearningRate { get; } = learningRate;
    public float At(double epochs) => BaseLearningRate;
    public string Description => string.Create(CultureInfo.InvariantCulture, $"constant(lr={BaseLearningRate})");
}
