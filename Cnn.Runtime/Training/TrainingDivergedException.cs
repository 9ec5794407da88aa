namespace CnnGen.Training;

/// <summary>Training blew up: a batch's loss became NaN or infinite (the message names the epoch and batch), or after
/// an epoch's last update a parameter or the test loss is no longer finite (<see cref="Batch"/> is then 0). Either way
/// nothing was saved for that epoch, so the previous checkpoint is kept.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(int epoch, int batch, float loss, float learningRate)
        : base($"Training diverged at epoch {epoch}, batch {batch}: the loss is {loss} (learning rate {learningRate}). " +
               "Lower the learning rate or check the inputs for NaN or infinite values.")
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
    }

    /// <param name="epoch">The 1-based epoch whose updates diverged.</param>
    /// <param name="problem">What is no longer finite, e.g. "the test loss is NaN".</param>
    /// <param name="loss">The test loss, or NaN when it was not the problem.</param>
    public TrainingDivergedException(int epoch, string problem, double loss, float learningRate)
        : base($"Training diverged in epoch {epoch}: after its last update {problem} (learning rate {learningRate}). " +
               $"Epoch {epoch} was not saved; lower the learning rate.")
    {
        Epoch = epoch;
        Loss = (float)loss;
    }

    public int Epoch { get; }

    /// <summary>The 1-based batch whose loss was not finite; 0 when the divergence showed after the epoch's batches.</summary>
    public int Batch { get; }

    public float Loss { get; }
}
