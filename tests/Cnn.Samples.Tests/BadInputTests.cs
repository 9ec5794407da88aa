using CnnGen.Checkpoints;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Networks;
using Xunit;
using static CnnGen.Samples.Tests.CommandRunner;

namespace CnnGen.Samples.Tests;

/// <summary>Plain user mistakes on the command line: each gets one line naming the problem and exit code 1 or 2, never a
/// stack trace, and nothing is lost.</summary>
[Collection("Console")]
public class BadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-badinput").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    /// <summary>Exactly one line on standard error, equal to <paramref name="expected"/> (or starting with it), no trace.</summary>
    private static void OneLine(string error, string expected, bool whole = true)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{error}");
        if (whole) Assert.Equal(expected, lines[0].TrimEnd('\r'));
        else Assert.StartsWith(expected, lines[0]);
        Assert.DoesNotContain("   at ", error);
    }

    [Theory]
    [InlineData("--lr", "nan", "--lr must be a finite number above 0, not NaN.")]
    [InlineData("--lr", "-1", "--lr must be a finite number above 0, not -1.")]
    [InlineData("--lr", "0", "--lr must be a finite number above 0, not 0.")]
    [InlineData("--lr", "Infinity", "--lr must be a finite number above 0, not Infinity.")]
    [InlineData("--momentum", "nan", "--momentum must be at least 0 and below 1, not NaN.")]
    [InlineData("--momentum", "1", "--momentum must be at least 0 and below 1, not 1.")]
    [InlineData("--weight-decay", "-0.5", "--weight-decay must be a finite number of at least 0, not -0.5.")]
    [InlineData("--weight-decay", "nan", "--weight-decay must be a finite number of at least 0, not NaN.")]
    [InlineData("--train-limit", "0", "--train-limit must be at least 1, not 0.")]
    [InlineData("--train-limit", "-1", "--train-limit must be at least 1, not -1.")]
    [InlineData("--test-limit", "-1", "--test-limit must be at least 1, not -1.")]
    [InlineData("--epochs", "0", "--epochs must be at least 1, not 0.")]
    [InlineData("--batch", "0", "--batch must be at least 1, not 0.")]
    [InlineData("--threads", "0", "--threads must be between 1 and 256, not 0.")]
    [InlineData("--threads", "100000", "--threads must be between 1 and 256, not 100000.")]
    public void TrainRefusesABadNumberBeforeLoadingData(string option, string value, string message)
    {
        var (exit, _, error) = Run("train", option, value, "--data", File("absent"), "--save", File("x.safetensors"));
        Assert.Equal(2, exit);
        OneLine(error, message);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void SeveralBadNumbersAreNamedTogetherOnOneLine()
    {
        var (exit, _, error) = Run("train", "--lr", "-1", "--epochs", "0", "--data", File("absent"));
        Assert.Equal(2, exit);
        OneLine(error, "--epochs must be at least 1, not 0. --lr must be a finite number above 0, not -1.");
    }

    [Theory]
    [InlineData("evaluate", "--threads", "0", "--threads must be between 1 and 256, not 0.")]
    [InlineData("finetune", "--threads", "0", "--threads must be between 1 and 256, not 0.")]
    [InlineData("finetune", "--epochs", "0", "--epochs must be at least 1, not 0.")]
    [InlineData("finetune", "--subset", "0", "--subset must be at least 1, not 0.")]
    [InlineData("finetune", "--tune-epochs", "-2", "--tune-epochs must be at least 1, not -2.")]
    [InlineData("bench", "--threads", "0", "--threads must be between 1 and 256, not 0.")]
    [InlineData("bench", "--repeats", "0", "--repeats must be at least 1, not 0.")]
    public void OtherCommandsRefuseBadNumbers(string command, string option, string value, string message)
    {
        string[] data = command == "bench" ? [] : ["--data", File("absent")];
        var (exit, _, error) = Run([command, option, value, .. data]);
        Assert.Equal(2, exit);
        OneLine(error, message);
    }

    [Fact]
    public void DataOfAnotherImageShapeIsNamedByEveryCommandThatReadsIt()
    {
        string data = File("small");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 20, testCount: 10, size: 8);
        string checkpoint = File("lenet5.safetensors");
        Checkpoint.Save(checkpoint, new LeNet5(seed: 1));

        var (exit, _, error) = Run("train", "--data", data, "--save", File("new.safetensors"));
        Assert.Equal(1, exit);
        OneLine(error, "LeNet5 takes 1x28x28 images, but the training images are 1x8x8.");
        Assert.False(System.IO.File.Exists(File("new.safetensors")));

        (exit, _, error) = Run("evaluate", "--data", data, "--checkpoint", checkpoint);
        Assert.Equal(1, exit);
        OneLine(error, "LeNet5 takes 1x28x28 images, but the test images are 1x8x8.");

        (exit, _, error) = Run("finetune", "--data", data, "--save", File("first.safetensors"));
        Assert.Equal(1, exit);
        OneLine(error, "LeNet5FirstFive takes 1x28x28 images, but the training images are 1x8x8.");

        (exit, _, error) = Run("visualize", "--data", data, "--checkpoint", checkpoint, "--out", File("pictures"));
        Assert.Equal(1, exit);
        OneLine(error, $"Cannot read the image: LeNet5 takes 1x28x28 images, but the test images in {data} are 1x8x8");
    }

    [Theory]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("visualize")]
    public void ACheckpointWithANaNWeightIsRefusedNamingTheTensor(string command)
    {
        var network = new LeNet5(seed: 1);
        network.Parameters[LeNet5.Tensors.Single(t => t.Name == "dense2.weight").Offset + 4] = float.NaN;
        string path = File("nan.safetensors");
        Checkpoint.Save(path, network);

        var (exit, _, error) = Run(Arguments(command, path));

        Assert.Equal(1, exit);
        OneLine(error, $"Cannot load {path} into LeNet5: dense2.weight holds NaN at index 4; a checkpoint must hold finite values (was it saved from a diverged run?)");
    }

    [Theory]
    [InlineData("evaluate", "NaN")]
    [InlineData("predict", "Infinity")]
    [InlineData("visualize", "-Infinity")]
    [InlineData("evaluate", "not a number")]
    public void ACheckpointWithANonFiniteInputMeanIsRefused(string command, string mean)
    {
        string path = File("mean.safetensors");
        Checkpoint.Save(path, new LeNet5(seed: 1), training: new TrainingState { Extra = new Dictionary<string, string> { [DataLoading.MeanKey] = mean } });

        var (exit, _, error) = Run(Arguments(command, path));

        Assert.Equal(1, exit);
        OneLine(error, $"Cannot load {path} into LeNet5: metadata input_mean is '{mean}', not a finite number");
    }

    [Theory]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("visualize")]
    public void ADeviceAsCheckpointIsRefusedWithoutReadingIt(string command)
    {
        if (!System.IO.File.Exists("/dev/zero")) return; // not a Unix machine
        var (exit, _, error) = Run(Arguments(command, "/dev/zero"));
        Assert.Equal(1, exit);
        OneLine(error, "Cannot load /dev/zero into LeNet5: truncated: 0 bytes, too short for the 8-byte header length (or not a regular file: a device or pipe has no length to check)");
    }

    [Fact]
    public void ADirectoryAsCheckpointIsNamedAsADirectory()
    {
        var (exit, _, error) = Run("evaluate", "--checkpoint", _dir);
        Assert.Equal(1, exit);
        OneLine(error, $"{_dir} is a directory; name a checkpoint file, e.g. {Path.Combine(_dir, "lenet5.safetensors")}.");
    }

    [Fact]
    public void ACheckpointWithInvalidUtf8IsRefusedEvenWhereTheModelIsLookedUp()
    {
        string path = File("utf8.safetensors");
        Checkpoint.Save(path, new LeNet5(seed: 1));
        var bytes = System.IO.File.ReadAllBytes(path);
        int at = System.Text.Encoding.ASCII.GetString(bytes).IndexOf("\"cnngen\"", StringComparison.Ordinal) + 1;
        bytes[at] = 0xC0;
        System.IO.File.WriteAllBytes(path, bytes);

        var (exit, _, error) = Run("evaluate", "--checkpoint", path);

        Assert.Equal(1, exit);
        OneLine(error, $"Cannot load {path} into LeNet5: header is not valid UTF-8 (byte {at} of the file, 0xc0); not a safetensors file?");
    }

    private static string[] Arguments(string command, string checkpoint) => command switch
    {
        "predict" => ["predict", "/nonexistent.png", "--checkpoint", checkpoint],
        "visualize" => ["visualize", "--checkpoint", checkpoint, "--out", Path.Combine(Path.GetTempPath(), "cnngen-never-written")],
        _ => [command, "--checkpoint", checkpoint],
    };

    [Fact]
    public void FineTuneOnDataWithoutTheOtherFiveClassesSaysSo()
    {
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 40, testCount: 10);
        // Relabel every training image into the first five classes.
        var labels = System.IO.File.ReadAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"));
        for (int i = 8; i < labels.Length; i++) labels[i] = (byte)(i % 5);
        System.IO.File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), labels);

        var (exit, _, error) = Run("finetune", "--data", data, "--epochs", "1", "--tune-epochs", "1", "--save", File("first.safetensors"));

        Assert.Equal(1, exit);
        OneLine(error, $"finetune needs training images of the first five classes and of the other five; those in {data} have labels 0 to 4 only.");
        Assert.False(System.IO.File.Exists(File("first.safetensors")));
    }

    [Fact]
    public void VisualizeOutNamingAFileIsRefused()
    {
        string checkpoint = File("lenet5.safetensors");
        Checkpoint.Save(checkpoint, new LeNet5(seed: 1));
        System.IO.File.WriteAllText(File("notes.txt"), "keep me");

        var (exit, _, error) = Run("visualize", "--checkpoint", checkpoint, "--image", "/nonexistent.png", "--out", File("notes.txt"));

        // The picture is read first; with a missing one, that is the error. With a test image, the --out check speaks.
        Assert.Equal(1, exit);
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 10, testCount: 10);
        (exit, _, error) = Run("visualize", "--checkpoint", checkpoint, "--data", data, "--out", File("notes.txt"));
        Assert.Equal(1, exit);
        OneLine(error, $"--out {File("notes.txt")} is a file; name a directory for the pictures.");
        Assert.Equal("keep me", System.IO.File.ReadAllText(File("notes.txt")));
    }

    [Fact]
    public void AnUnwritableSavePathIsFoundBeforeTraining()
    {
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 64, testCount: 16);
        System.IO.File.WriteAllText(File("a-file"), "keep me");

        var (exit, output, error) = Run("train", "--data", data, "--epochs", "1", "--save", Path.Combine(File("a-file"), "run.safetensors"));

        Assert.Equal(1, exit);
        OneLine(error, $"Cannot write the checkpoint: {Path.Combine(File("a-file"), "run.safetensors")} cannot be written: {File("a-file")} is a file, not a directory");
        Assert.DoesNotContain("epoch", output);
        Assert.Equal("keep me", System.IO.File.ReadAllText(File("a-file")));

        (exit, output, error) = Run("train", "--data", data, "--epochs", "1", "--save", _dir);
        Assert.Equal(1, exit);
        OneLine(error, $"Cannot write the checkpoint: {_dir} is a directory; name a file to write");
    }

    [Fact]
    public void ResumingAFinishedRunSaysSoAndWritesNothing()
    {
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 64, testCount: 16);
        string path = File("run.safetensors");
        var (exit, _, error) = Run("train", "--data", data, "--epochs", "1", "--save", path);
        Assert.True(exit == 0, error);
        var saved = System.IO.File.ReadAllBytes(path);
        var written = System.IO.File.GetLastWriteTimeUtc(path);

        (exit, var output, error) = Run("train", "--data", data, "--epochs", "1", "--resume", path, "--save", path);

        Assert.True(exit == 0, error);
        Assert.Contains("The run is already finished: 1 of --epochs 1 done. Nothing trained, nothing saved; give a larger --epochs to train further.", output);
        Assert.DoesNotContain("Saved", output);
        Assert.Equal(saved, System.IO.File.ReadAllBytes(path));
        Assert.Equal(written, System.IO.File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void ResumingWithAnotherSeedIsOneLineWithoutProgrammersNoise()
    {
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 64, testCount: 16);
        string path = File("run.safetensors");
        var (exit, _, error) = Run("train", "--data", data, "--epochs", "1", "--save", path);
        Assert.True(exit == 0, error);

        (exit, _, error) = Run("train", "--data", data, "--epochs", "2", "--seed", "3", "--resume", path, "--save", path);

        Assert.Equal(1, exit);
        OneLine(error, $"Cannot resume from {path}: {path} was trained with data seed 0, but this trainer uses 3; resume with the same seed to continue the same run.");
    }

    [Fact]
    public void ABatchLargerThanTheDataTrainsOnTheWholeData()
    {
        string data = File("data");
        Directory.CreateDirectory(data);
        WriteDataset(data, trainCount: 50, testCount: 10);

        var (exit, output, error) = Run("train", "--data", data, "--epochs", "1", "--batch", "3000000", "--save", File("run.safetensors"));

        Assert.True(exit == 0, error);
        Assert.Contains("batch 3000000", output);
        Assert.Equal(1, Checkpoint.ReadInfo(File("run.safetensors")).Training.Step); // one step: the whole data
    }

    [Fact]
    public void WeightsThatBlowUpOnTheLastBatchAreNotSavedOverTheCheckpoint()
    {
        string path = File("lenet5.safetensors");
        Checkpoint.Save(path, new LeNet5(seed: 1));
        var before = System.IO.File.ReadAllBytes(path);

        var (exit, output, error) = Run("train", "--lr", "1e30", "--epochs", "1", "--train-limit", "64", "--test-limit", "500", "--save", path);

        Assert.Equal(1, exit);
        OneLine(error, "Training diverged in epoch 1: after its last update ", whole: false);
        Assert.Contains("Epoch 1 was not saved; lower the learning rate.", error);
        Assert.DoesNotContain("Saved", output);
        Assert.Equal(before, System.IO.File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }
}
