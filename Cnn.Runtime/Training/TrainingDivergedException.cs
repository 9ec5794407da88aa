namespace CnnGen.Training;

/// <summary>The loss became NaN or infinite; the message names the epoch and batch.</summary>
public sealed class TrainingDivergedException(int epoch, int batch, float loss, float learningRate)
    : Exception($"Training diverged at epoch {epoch}, batch {batch}: the loss is {loss} (learning rate {learningRate}). " +
                "Lower the learning rate or check the inputs for NaN or infinite values.")
{
    public int Epoch { get; } = epoch;
    public int Batch { get; } = batch;
    public float Loss { get; } = loss;
}
