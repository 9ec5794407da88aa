using System.CommandLine;
using CnnGen.Samples.Commands;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The commands' exit codes and messages for good and bad arguments (no training: that is the main job).</summary>
[Collection("Console")]
public class CommandLineTests
{
    private static (int Exit, string Out, string Error) Run(Command command, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var root = new RootCommand { command };
            int exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    [Fact]
    public void SummaryPrintsTheCompileTimeTable()
    {
        var (exit, output, _) = Run(SummaryCommand.Create(), "summary", "--model", "lenet5");
        Assert.Equal(0, exit);
        Assert.Contains("LeNet5: input 1x28x28, 10 class probabilities", output);
        Assert.Contains("Parameters: 61,706; forward MACs per image: 416,520", output);
    }

    [Fact]
    public void SummaryOfEveryNetworkListsParametersSideBySide()
    {
        var (exit, output, _) = Run(SummaryCommand.Create(), "summary");
        Assert.Equal(0, exit);
        Assert.Contains("AlexNet", output);
        Assert.Matches(@"vgg16\s+138,357,544", output);
        Assert.Matches(@"mlp\s+669,706", output);
    }

    [Fact]
    public void UnknownModelIsNamedWithTheChoices()
    {
        var (exit, _, error) = Run(TrainCommand.Create(), "train", "--model", "googlenet");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown model 'googlenet'", error);
        Assert.Contains("lenet5", error);
    }

    [Fact]
    public void MissingDatasetGivesTheInstallCommand()
    {
        var missing = Path.Combine(Path.GetTempPath(), "cnngen-no-such-dataset");
        var (exit, _, error) = Run(TrainCommand.Create(), "train", "--data", missing, "--save", Path.Combine(missing, "x.safetensors"));
        Assert.Equal(1, exit);
        Assert.Contains("apt-get install dataset-fashion-mnist", error);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void MissingCheckpointTellsHowToTrainOne()
    {
        var (exit, _, error) = Run(EvaluateCommand.Create(), "evaluate", "--checkpoint", "/nonexistent/lenet5.safetensors");
        Assert.Equal(1, exit);
        Assert.Contains("No checkpoint at /nonexistent/lenet5.safetensors", error);
        Assert.Contains("-- train --model lenet5", error);
    }

    [Fact]
    public void BadOptimizerIsRefusedBeforeLoadingData()
    {
        var (exit, _, error) = Run(TrainCommand.Create(), "train", "--optimizer", "rmsprop", "--data", "/nonexistent");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown --optimizer or --schedule", error);
    }

    [Fact]
    public void FineTuneLoadsEverythingButTheHeadAndFreezesTheConvolutions()
    {
        var dir = Directory.CreateTempSubdirectory("cnngen-finetune").FullName;
        try
        {
            var (exit, output, error) = Run(FineTuneCommand.Create(), "finetune", "--epochs", "1", "--subset", "100", "--tune-epochs", "1",
                "--save", Path.Combine(dir, "first.safetensors"));
            Assert.True(exit == 0, error);
            Assert.Contains("Loaded conv1.weight, conv1.bias, conv2.weight, conv2.bias, dense1.weight, dense1.bias, dense2.weight, dense2.bias; " +
                            "kept the new head_b.weight, head_b.bias; frozen: conv1, conv2.", output);
            Assert.Contains("fine-tuned (convolutions frozen)", output);
            Assert.True(File.Exists(Path.Combine(dir, "first.safetensors")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EvaluateTakesTheNetworkFromTheCheckpointWhenNoModelIsGiven()
    {
        var dir = Directory.CreateTempSubdirectory("cnngen-evaluate").FullName;
        try
        {
            string path = Path.Combine(dir, "bn.safetensors");
            var (exit, _, error) = Run(TrainCommand.Create(), "train", "--model", "lenet5bn", "--epochs", "1",
                "--train-limit", "256", "--test-limit", "64", "--save", path);
            Assert.True(exit == 0, error);
            (exit, var output, error) = Run(EvaluateCommand.Create(), "evaluate", "--checkpoint", path);
            Assert.True(exit == 0, error);
            Assert.Contains("LeNet5BatchNorm from " + path, output);
            // An explicit --model still wins, and a mismatch is named.
            (exit, _, error) = Run(EvaluateCommand.Create(), "evaluate", "--checkpoint", path, "--model", "lenet5");
            Assert.Equal(1, exit);
            Assert.Contains("bn1.weight is in the checkpoint but not in LeNet5", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
