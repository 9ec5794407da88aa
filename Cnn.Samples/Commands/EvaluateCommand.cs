using System.CommandLine;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Training;

namespace CnnGen.Samples.Commands;

/// <summary><c>evaluate</c>: accuracy, per-class accuracy and confusion matrix of a checkpoint on the test set.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var data = CommonOptions.Data();
        var checkpoint = CommonOptions.Checkpoint("Checkpoint to evaluate (default checkpoints/<model>.safetensors)");
        var threads = CommonOptions.Threads();
        var command = new Command("evaluate", "Evaluate a trained checkpoint on the test set.") { model, data, checkpoint, threads };
        command.SetAction(parse =>
        {
            if (!new OptionChecks().Threads("--threads", parse.GetValue(threads)).Passed()) return 2;
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            var loaded = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), parse.GetValue(threads));
            if (loaded is null) return 1;
            var (network, info) = loaded.Value;
            Dataset test;
            try
            {
                test = FashionMnist.LoadTest(parse.GetValue(data));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or DatasetException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            if (!DataLoading.Fits(network, test, "test")) return 1;
            test.SubtractMean(DataLoading.MeanOf(info));
            Console.WriteLine($"{network.Name} from {info.Path} (epoch {info.Training.Epoch})");
            Reports.Evaluation(Evaluation.Run(network, test), FashionMnist.ClassNames);
            return 0;
        });
        return command;
    }
}
