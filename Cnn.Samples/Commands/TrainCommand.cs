using System.CommandLine;
using CnnGen.Initialization;
using System.Diagnostics;
using System.Globalization;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Samples.Cli;
using CnnGen.Training;
using Spectre.Console;

namespace CnnGen.Samples.Commands;

/// <summary><c>train</c>: the main job. Defaults train LeNet-5 on Fashion-MNIST to about 91% in under a minute on two cores.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs to train", DefaultValueFactory = _ => 15 };
        var batch = new Option<int>("--batch", "-b") { Description = "Mini-batch size", DefaultValueFactory = _ => 64 };
        var optimizer = new Option<string>("--optimizer", "-o") { Description = "sgd, momentum, nesterov, adam or adamw", DefaultValueFactory = _ => "momentum" };
        var lr = new Option<float?>("--lr") { Description = "Learning rate (default 0.05 for the SGD family, 0.002 for Adam)" };
        var momentum = new Option<float>("--momentum") { Description = "Momentum of momentum and nesterov", DefaultValueFactory = _ => 0.9f };
        var weightDecay = new Option<float?>("--weight-decay") { Description = "L2 weight decay (default 5e-4 for the SGD family, 0 for adam, 0.01 for adamw)" };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: cosine, step or constant", DefaultValueFactory = _ => "cosine" };
        var mirror = new Option<bool>("--mirror") { Description = "Flip training images left-right at random (seed 002's mirroring)", DefaultValueFactory = _ => true };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights and the data order", DefaultValueFactory = _ => 0 };
        var init = new Option<string>("--init")
        {
            Description = "Weight initialisation (seed 002): default (He before ReLU, else Xavier), he, xavier, gaussian (std 0.01) or zeros",
            DefaultValueFactory = _ => "default",
        };
        var save = new Option<string?>("--save") { Description = "Checkpoint written after every epoch (default checkpoints/<model>.safetensors)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint" };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images" };
        var testLimit = new Option<int?>("--test-limit") { Description = "Use only the first N test images" };
        var plot = new Option<string?>("--plot") { Description = "Draw loss and accuracy per epoch, train and test, into this PNG file" };
        plot.Validators.Add(result => Images.TrainingCurvesPlot.Validate(result));

        var command = new Command("train", "Train a sample network on Fashion-MNIST (or MNIST with --data), evaluate it after every epoch, save checkpoints.")
        {
            model, data, epochs, batch, optimizer, lr, momentum, weightDecay, schedule, mirror, seed, init, threads, save, resume, trainLimit, testLimit, plot,
        };
        command.SetAction(parse =>
        {
            var entry = CommonOptions.FindModel(parse.GetValue(model)!, trainableOnly: true);
            if (entry is null) return 2;
            int epochCount = parse.GetValue(epochs), batchSize = parse.GetValue(batch), threadCount = parse.GetValue(threads);
            string optimizerName = parse.GetValue(optimizer)!.ToLowerInvariant();
            bool adam = optimizerName.StartsWith("adam", StringComparison.Ordinal);
            float rate = parse.GetValue(lr) ?? (adam ? 0.002f : 0.05f);
            float decay = parse.GetValue(weightDecay) ?? (optimizerName == "adamw" ? 0.01f : adam ? 0f : 5e-4f);
            if (!new OptionChecks()
                    .AtLeast("--epochs", epochCount, 1).AtLeast("--batch", batchSize, 1).Threads("--threads", threadCount)
                    .Positive("--lr", rate).Fraction("--momentum", parse.GetValue(momentum)).NonNegative("--weight-decay", decay)
                    .AtLeast("--train-limit", parse.GetValue(trainLimit), 1).AtLeast("--test-limit", parse.GetValue(testLimit), 1)
                    .Passed())
                return 2;
            IOptimizer? opt = optimizerName switch
            {
                "sgd" => new Sgd(rate, weightDecay: decay),
                "momentum" => new Sgd(rate, momentum: parse.GetValue(momentum), weightDecay: decay),
                "nesterov" => new Sgd(rate, momentum: parse.GetValue(momentum), weightDecay: decay, nesterov: true),
                "adam" => new Adam(rate, weightDecay: decay),
                "adamw" => new AdamW(rate, weightDecay: decay),
                _ => null,
            };
            ILearningRateSchedule? sched = parse.GetValue(schedule)!.ToLowerInvariant() switch
            {
                "cosine" => new CosineSchedule(rate, epochCount),
                "step" => new StepSchedule(rate, Math.Max(1, epochCount / 3)),
                "constant" => new ConstantSchedule(rate),
                _ => null,
            };
            if (opt is null || sched is null)
            {
                Console.Error.WriteLine("Unknown --optimizer or --schedule. Optimizers: sgd, momentum, nesterov, adam, adamw. Schedules: cosine, step, constant.");
                return 2;
            }
            WeightInitialization? scheme = parse.GetValue(init)!.ToLowerInvariant() switch
            {
                "default" => WeightInitialization.Default,
                "he" => WeightInitialization.He,
                "xavier" => WeightInitialization.Xavier,
                "gaussian" => WeightInitialization.SmallGaussian,
                "zeros" => WeightInitialization.Zeros,
                _ => null,
            };
            if (scheme is null)
            {
                Console.Error.WriteLine($"Unknown --init '{parse.GetValue(init)}'. Choose one of: default, he, xavier, gaussian, zeros.");
                return 2;
            }

            var wall = Stopwatch.StartNew();
            var sets = DataLoading.Load(parse.GetValue(data)!);
            if (sets is null) return 1;
            var (train, test) = sets.Value;
            if (parse.GetValue(trainLimit) is int tl) train = train.Subset(Math.Min(tl, train.Count));
            if (parse.GetValue(testLimit) is int vl) test = test.Subset(Math.Min(vl, test.Count));
            float mean = train.ComputeMean();
            train.SubtractMean(mean);
            test.SubtractMean(mean);

            var network = entry.Create(parse.GetValue(seed));
            if (!DataLoading.Fits(network, train, "training") || !DataLoading.Fits(network, test, "test")) return 1;
            if (scheme != WeightInitialization.Default) network.InitializeParameters(parse.GetValue(seed), scheme.Value);
            network.Threads = threadCount;
            string savePath = parse.GetValue(save) ?? CommonOptions.DefaultCheckpoint(entry.Name);
            if (!CheckpointLoading.CanWrite(savePath)) return 1;
            var trainer = new Trainer(network, opt, sched, new TrainerOptions
            {
                Epochs = epochCount,
                BatchSize = batchSize,
                Seed = parse.GetValue(seed),
                Mirror = parse.GetValue(mirror),
                CheckpointPath = savePath,
                Metadata = new Dictionary<string, string> { [DataLoading.MeanKey] = DataLoading.Format(mean) },
            });
            if (parse.GetValue(resume) is { } resumePath)
            {
                try
                {
                    var info = trainer.Resume(resumePath);
                    Console.WriteLine($"Resumed {resumePath}: {info.Training.Epoch} epoch(s) done, {opt.StepCount:N0} steps.");
                    if (trainer.CompletedEpochs >= epochCount)
                    {
                        Console.WriteLine($"The run is already finished: {info.Training.Epoch} of --epochs {epochCount} done. Nothing trained, nothing saved; give a larger --epochs to train further.");
                        return 0;
                    }
                }
                catch (Exception e) when (e is IOException or ArgumentException)
                {
                    Console.Error.WriteLine($"Cannot resume from {resumePath}: {ErrorText.Of(e)}");
                    return 1;
                }
            }

            Console.WriteLine($"{network.Name}: {network.ParameterCount:N0} parameters; {train.Count:N0} training and {test.Count:N0} test images " +
                              $"(mean pixel {mean.ToString("F4", CultureInfo.InvariantCulture)} subtracted); {threadCount} thread(s)");
            Console.WriteLine($"{opt.Name} {string.Join(", ", opt.HyperParameters.Select(p => p.Key + " " + p.Value))}, {sched.Description}, batch {batchSize}" +
                              (parse.GetValue(mirror) ? ", mirroring" : "") + (scheme != WeightInitialization.Default ? $", {scheme} weights" : ""));

            IReadOnlyList<EpochReport> reports;
            try
            {
                reports = Run(trainer, train, test);
            }
            catch (TrainingDivergedException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Cannot write the checkpoint {savePath}: {e.Message}");
                return 1;
            }
            Reports.Epochs(reports);
            if (parse.GetValue(plot) is { } plotPath && !Images.TrainingCurvesPlot.TryWrite(plotPath, reports, network.Name)) return 1;
            if (reports.Count > 0 && reports[^1].Test is { } final) Reports.Evaluation(final, FashionMnist.ClassNames);
            Console.WriteLine($"Saved {savePath}. Wall time {wall.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s (data loading included).");
            return 0;
        });
        return command;
    }

    /// <summary>Runs the trainer under a live progress bar when the console is interactive, one line per epoch otherwise.</summary>
    private static IReadOnlyList<EpochReport> Run(Trainer trainer, Dataset train, Dataset test)
    {
        void PrintEpoch(EpochReport r) => AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch,2}/{trainer.Options.Epochs}: train loss {r.TrainLoss:F4} acc {Reports.Percent(r.TrainAccuracy)}, " +
            $"test loss {r.Test?.Loss:F4} acc {(r.Test is null ? "-" : Reports.Percent(r.Test.Accuracy))}, " +
            $"{r.TrainSeconds:F2} s ({r.ImagesPerSecond:N0} images/s)"));

        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            trainer.EpochProgress = new Callback<EpochReport>(PrintEpoch);
            return trainer.Fit(train, test);
        }
        IReadOnlyList<EpochReport> reports = [];
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                trainer.BatchProgress = new Callback<BatchProgress>(p =>
                {
                    task ??= ctx.AddTask($"epoch {p.Epoch}", maxValue: p.Batches);
                    if (p.Batch % 20 != 0 && p.Batch != p.Batches) return;
                    task.Description = $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.Loss:F4} acc {Reports.Percent(p.Accuracy)} {p.ImagesPerSecond:N0} img/s";
                    task.Value = p.Batch;
                });
                trainer.EpochProgress = new Callback<EpochReport>(r =>
                {
                    task?.StopTask();
                    task = null;
                    PrintEpoch(r);
                });
                reports = trainer.Fit(train, test);
            });
        return reports;
    }

    /// <summary>Reports on the training thread itself (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
