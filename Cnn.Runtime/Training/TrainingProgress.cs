namespace CnnGen.Training;

/// <summary>Reported after every mini-batch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Loss">Mean loss of this epoch's batches so far.</param>
/// <param name="Accuracy">Training accuracy of this epoch's batches so far (top logit equals the label).</param>
/// <param name="ImagesPerSecond">Training throughput of this epoch so far.</param>
public sealed record BatchProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy,
    double ImagesPerSecond, float LearningRate);

/// <summary>Reported after every epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainSeconds">Wall time of the epoch's training steps (evaluation excluded).</param>
/// <param name="Test">Evaluation on the validation set, when one was given.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double TrainAccuracy, double TrainSeconds,
    double ImagesPerSecond, float LearningRate, Evaluation? Test, double EvaluationSeconds);
