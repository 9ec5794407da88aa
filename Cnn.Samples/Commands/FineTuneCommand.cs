using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Networks;
using CnnGen.Training;
using Spectre.Console;

namespace CnnGen.Samples.Commands;

/// <summary>
/// <c>finetune</c> (seed 002's fine-tuning): train LeNet-5 on Fashion-MNIST's first five classes, save it, load its
/// layers into a network with a new head for the other five classes, freeze the convolutions and train on a small
/// subset; compare with the same network trained from scratch on that subset.
/// </summary>
internal static class FineTuneCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs on the first five classes", DefaultValueFactory = _ => 8 };
        var subset = new Option<int>("--subset") { Description = "Training images of the other five classes", DefaultValueFactory = _ => 1000 };
        var tuneEpochs = new Option<int>("--tune-epochs") { Description = "Epochs on the subset", DefaultValueFactory = _ => 10 };
        var save = new Option<string>("--save") { Description = "Checkpoint of the first network", DefaultValueFactory = _ => Path.Combine("checkpoints", "lenet5-first-five.safetensors") };
        var command = new Command("finetune", "Fine-tune a network trained on five classes to the other five, with frozen convolutions, and compare with training from scratch.")
        {
            data, threads, epochs, subset, tuneEpochs, save,
        };
        command.SetAction(parse =>
        {
            if (!new OptionChecks().Threads("--threads", parse.GetValue(threads)).AtLeast("--epochs", parse.GetValue(epochs), 1)
                    .AtLeast("--subset", parse.GetValue(subset), 1).AtLeast("--tune-epochs", parse.GetValue(tuneEpochs), 1).Passed())
                return 2;
            var sets = DataLoading.Load(parse.GetValue(data)!);
            if (sets is null) return 1;
            var (train, test) = sets.Value;
            int threadCount = parse.GetValue(threads), subsetSize = parse.GetValue(subset), tune = parse.GetValue(tuneEpochs);
            string path = parse.GetValue(save)!;
            var source = new LeNet5FirstFive(seed: 0) { Threads = threadCount };
            if (!DataLoading.Fits(source, train, "training") || !DataLoading.Fits(source, test, "test")) return 1;
            if (!CheckpointLoading.CanWrite(path)) return 1;
            if (!train.Labels.Any(l => l < 5) || !train.Labels.Any(l => l >= 5))
            {
                Console.Error.WriteLine($"finetune needs training images of the first five classes and of the other five; those in {parse.GetValue(data)} have labels {train.Labels.Min()} to {train.Labels.Max()} only.");
                return 1;
            }
            float mean = train.ComputeMean();
            train.SubtractMean(mean);
            test.SubtractMean(mean);
            int[] first = [0, 1, 2, 3, 4], other = [5, 6, 7, 8, 9];

            // 1. The first five classes, all their training images.
            var clock = Stopwatch.StartNew();
            var firstReports = Fit(source, train.Where(first), test.Where(first), parse.GetValue(epochs), path, mean);
            Console.WriteLine($"First five classes: {Reports.Percent(firstReports[^1].Test!.Accuracy)} test accuracy after {firstReports.Count} epochs, {clock.Elapsed.TotalSeconds:F1} s; saved {path}.");

            // 2. The other five classes, a small subset: fine-tuned from the saved network, and from scratch.
            var small = train.Where(other).Subset(Math.Min(subsetSize, train.Where(other).Count));
            var otherTest = test.Where(other);
            var tuned = new LeNet5OtherFive(seed: 1) { Threads = threadCount };
            var report = Checkpoint.LoadMatching(path, tuned);
            Console.WriteLine($"Loaded {string.Join(", ", report.Loaded)}; kept the new {string.Join(", ", report.Missing)}; " +
                              $"frozen: {string.Join(", ", new[] { "conv1", "conv2" }.Where(tuned.IsFrozen))}.");
            clock.Restart();
            var tunedReports = Fit(tuned, small, otherTest, tune, null, mean);
            double tunedSeconds = clock.Elapsed.TotalSeconds;

            var scratch = new LeNet5OtherFive(seed: 1) { Threads = threadCount };
            scratch.Unfreeze("conv1");
            scratch.Unfreeze("conv2");
            clock.Restart();
            var scratchReports = Fit(scratch, small, otherTest, tune, null, mean);
            double scratchSeconds = clock.Elapsed.TotalSeconds;

            var table = new Table().Title($"Other five classes, {small.Count:N0} training images, {tune} epochs")
                .AddColumns("network", "test accuracy", "training time");
            table.AddRow("fine-tuned (convolutions frozen)", Reports.Percent(tunedReports[^1].Test!.Accuracy), tunedSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s");
            table.AddRow("from scratch", Reports.Percent(scratchReports[^1].Test!.Accuracy), scratchSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static IReadOnlyList<EpochReport> Fit(INetwork network, Dataset train, Dataset test, int epochs, string? save, float mean)
    {
        var trainer = new Trainer(network, new Sgd(0.05f, momentum: 0.9f, weightDecay: 5e-4f), new CosineSchedule(0.05f, epochs),
            new TrainerOptions
            {
                Epochs = epochs, BatchSize = 64, Mirror = true, CheckpointPath = save,
                Metadata = new Dictionary<string, string> { [DataLoading.MeanKey] = DataLoading.Format(mean) },
            });
        return trainer.Fit(train, test);
    }
}
