using System.Diagnostics;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;

namespace CnnGen.Training;

/// <summary>Settings of a <see cref="Trainer"/> run.</summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 64;
    /// <summary>Seeds the data order and mirroring (the network's initial weights come from its own seed).</summary>
    public int Seed { get; init; }
    /// <summary>Flip training images left-right with probability 0.5 (seed 002's mirroring).</summary>
    public bool Mirror { get; init; }
    /// <summary>When set, a checkpoint is written here after every epoch (atomically).</summary>
    public string? CheckpointPath { get; init; }
    /// <summary>Extra metadata for every checkpoint, e.g. the preprocessing (<c>input_mean</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Mini-batch training of any <see cref="INetwork"/> (seed 002): sample a batch, forward, loss, backprop, update;
/// evaluation after each epoch. The same seed, data and thread count give the same numbers, and a run resumed from
/// a checkpoint continues exactly as the uninterrupted run would have.
/// </summary>
public sealed class Trainer(INetwork network, IOptimizer optimizer, ILearningRateSchedule schedule, TrainerOptions options)
{
    public INetwork Network { get; } = network ?? throw new ArgumentNullException(nameof(network));
    public IOptimizer Optimizer { get; } = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
    public ILearningRateSchedule Schedule { get; } = schedule ?? throw new ArgumentNullException(nameof(schedule));
    public TrainerOptions Options { get; } = CheckOptions(options);

    private static TrainerOptions CheckOptions(TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Epochs, nameof(options.Epochs));
        foreach (var key in options.Metadata.Keys)
            if (CheckpointKeys.IsReserved(key) || key is "train_loss" or "test_loss" or "test_accuracy")
                throw new ArgumentException($"Metadata key '{key}' is used by the checkpoints themselves; choose another name.", nameof(options));
        return options;
    }

    /// <summary>Epochs completed (set by <see cref="Resume"/>).</summary>
    public int CompletedEpochs { get; private set; }

    public IProgress<BatchProgress>? BatchProgress { get; set; }
    public IProgress<EpochReport>? EpochProgress { get; set; }

    /// <summary>Loads parameters, optimiser state and the epoch count from a checkpoint written by this trainer.</summary>
    /// <remarks>The checkpoint must come from a run with the same data seed (<see cref="TrainerOptions.Seed"/>), else the
    /// data order would differ from the interrupted run's; nothing is loaded when it does not.</remarks>
    public CheckpointInfo Resume(string path)
    {
        var recorded = Checkpoint.ReadInfo(path).Training.Seed;
        if (recorded is int seed && seed != Options.Seed)
            throw new ArgumentException($"{path} was trained with data seed {seed}, but this trainer uses {Options.Seed}; " +
                                        "resume with the same seed to continue the same run.", nameof(path));
        var info = Checkpoint.Load(path, Network, Optimizer);
        CompletedEpochs = info.Training.Epoch;
        return info;
    }

    /// <summary>Trains from <see cref="CompletedEpochs"/> up to <see cref="TrainerOptions.Epochs"/>.</summary>
    public IReadOnlyList<EpochReport> Fit(Dataset train, Dataset? test = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        Evaluation.CheckShape(Network, train, "the training set", nameof(train));
        if (test is not null) Evaluation.CheckShape(Network, test, "the test set", nameof(test));
        if (train.Count == 0)
            throw new ArgumentException("The training set is empty.", nameof(train));
        if (train.ClassCount > Network.OutputLength)
            throw new ArgumentException($"{Network.Name} has {Network.OutputLength} outputs, but the training set has {train.ClassCount} classes.", nameof(train));

        if (CompletedEpochs >= Options.Epochs) return [];
        // An unwritable checkpoint path is found now, not after the first epoch's work.
        if (Options.CheckpointPath is { } checkpointPath) AtomicFile.CheckWritable(checkpointPath);

        var batcher = new Batcher(train, Options.BatchSize, Options.Seed, shuffle: true, mirror: Options.Mirror);
        var frozen = FrozenParameters.Of(Network);
        var reports = new List<EpochReport>();
        int batches = batcher.BatchesPerEpoch;
        for (int epoch = CompletedEpochs; epoch < Options.Epochs; epoch++)
        {
            batcher.BeginEpoch(epoch);
            double lossSum = 0;
            long correct = 0, seen = 0;
            float rate = Schedule.At(epoch, 0, batches);
            var clock = Stopwatch.StartNew();
            for (int batch = 0; batcher.MoveNext(); batch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = batcher.CurrentCount;
                rate = Schedule.At(epoch, batch, batches);
                Optimizer.LearningRate = rate;
                Network.Training = true;
                Network.Step = Optimizer.StepCount;
                float loss = Network.ComputeGradients(batcher.Inputs.AsSpan(0, n * train.ImageLength), batcher.Labels.AsSpan(0, n), n);
                if (!float.IsFinite(loss))
                    throw new TrainingDivergedException(epoch + 1, batch + 1, loss, rate);
                frozen.Save(Network.Parameters);
                Optimizer.Step(Network.Parameters, Network.Gradients);
                frozen.Restore(Network.Parameters);
                lossSum += (double)loss * n;
                correct += Network.LastCorrect;
                seen += n;
                BatchProgress?.Report(new BatchProgress(epoch + 1, Options.Epochs, batch + 1, batches, lossSum / seen,
                    (double)correct / seen, seen / clock.Elapsed.TotalSeconds, rate));
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            var evalClock = Stopwatch.StartNew();
            Network.Training = false;
            var evaluation = test is null ? null : Evaluation.Run(Network, test);
            ThrowIfDiverged(epoch + 1, evaluation, rate);
            var report = new EpochReport(epoch + 1, lossSum / seen, (double)correct / seen, trainSeconds, seen / trainSeconds,
                rate, evaluation, evalClock.Elapsed.TotalSeconds);
            reports.Add(report);
            CompletedEpochs = epoch + 1;
            if (Options.CheckpointPath is { } path)
                Checkpoint.Save(path, Network, Optimizer, State(report));
            EpochProgress?.Report(report);
        }
        return reports;
    }

    /// <summary>Updates can blow up on an epoch's last batch, after its loss was computed: before anything is saved,
    /// every parameter and state value and the test loss must still be finite.</summary>
    private void ThrowIfDiverged(int epoch, Evaluation? evaluation, float rate)
    {
        if (FiniteCheck.FirstNonFinite(Network) is { } problem)
            throw new TrainingDivergedException(epoch, problem, evaluation?.Loss ?? double.NaN, rate);
        if (evaluation is { Loss: var loss } && !double.IsFinite(loss))
            throw new TrainingDivergedException(epoch, $"the test loss is {loss.ToString(System.Globalization.CultureInfo.InvariantCulture)}", loss, rate);
    }

    private TrainingState State(EpochReport report)
    {
        var extra = new Dictionary<string, string>(Options.Metadata)
        {
            ["train_loss"] = report.TrainLoss.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (report.Test is { } test)
        {
            extra["test_loss"] = test.Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            extra["test_accuracy"] = test.Accuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }
        return new TrainingState
        {
            Epoch = report.Epoch,
            Step = Optimizer.StepCount,
            LearningRate = report.LearningRate,
            Seed = Options.Seed,
            Schedule = Schedule.Description,
            Extra = extra,
        };
    }
}
