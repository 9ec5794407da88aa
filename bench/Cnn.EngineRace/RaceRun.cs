namespace CnnGen.EngineRace;

/// <summary>What one engine process measured on one network.</summary>
internal sealed record RaceResult(
    string Engine,
    string Model,
    int Threads,
    long ForwardMacs,
    int Repeats,
    float[] CheckLogits,
    float[] CheckLogitsAgain,
    int InferenceBatch,
    Timings? Training,
    float? FinalLoss,
    double? TrainingPeakMiB,
    Timings Latency,
    Timings Inference);

/// <summary>Times one engine on one network, in an order that keeps the memory figure honest: the check batch first,
/// twice (before training changes the weights), then training steps (the process's peak memory is read right after them),
/// then single-image latency and batch inference. Training is skipped for an inference-only model.</summary>
internal static class RaceRun
{
    public static RaceResult Run(IEngine engine, INetwork network, RaceModel model, int threads, int repeats)
    {
        int inputLength = network.InputLength, classes = network.OutputLength, batch = model.InferenceBatch;

        var checkInputs = RaceData.Images(RaceData.CheckBatch, inputLength);
        var checkLogits = new float[classes * RaceData.CheckBatch];
        engine.Inference(checkInputs, checkLogits, RaceData.CheckBatch)();
        // The same batch once more: an engine whose first call computes something else than its later ones shows it.
        var checkLogitsAgain = new float[classes * RaceData.CheckBatch];
        engine.Inference(checkInputs, checkLogitsAgain, RaceData.CheckBatch)();

        Timings? training = null;
        float? finalLoss = null;
        double? peak = null;
        var step = model.Trains
            ? engine.Training(RaceData.Images(RaceData.TrainingBatch, inputLength), RaceData.Labels(RaceData.TrainingBatch, classes), RaceData.TrainingBatch)
            : null;
        if (step is not null)
        {
            float loss = 0;
            training = Timings.Measure(repeats, () => loss = step()).PerSecond(RaceData.TrainingBatch);
            finalLoss = loss;
            peak = PeakMemory.MiB();
        }

        var oneImage = RaceData.Images(1, inputLength);
        var latency = Timings.Measure(repeats, engine.Inference(oneImage, new float[classes], 1)).Scaled(1e6);
        var batchInputs = RaceData.Images(batch, inputLength);
        var inference = Timings.Measure(repeats, engine.Inference(batchInputs, new float[classes * batch], batch)).PerSecond(batch);

        long macs = network.Layers.Sum(l => l.Macs);
        return new RaceResult(engine.Description, model.Name, threads, macs, repeats, checkLogits, checkLogitsAgain, batch, training, finalLoss, peak, latency, inference);
    }
}
