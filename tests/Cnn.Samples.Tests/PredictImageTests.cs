using System.CommandLine;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Commands;
using CnnGen.Samples.Networks;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary><c>predict</c> on picture files: the classes of a good picture, a one-line error for a bad one.</summary>
[Collection("Console")]
public sealed class PredictImageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-predict").FullName;
    private readonly string _checkpoint;
    private readonly LeNet5 _network = new(seed: 5);

    public PredictImageTests()
    {
        _checkpoint = Path.Combine(_dir, "lenet5.safetensors");
        Checkpoint.Save(_checkpoint, _network, training: new TrainingState { Extra = new Dictionary<string, string> { [DataLoading.MeanKey] = "0.25" } });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Error) Run(params string[] args) => CommandRunner.Run(args);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void APictureGetsTheNetworksTopClasses()
    {
        // A 56x56 BMP of a bright vertical bar: resized to 28x28 and the mean subtracted, as in training.
        var colours = new byte[56, 56, 3];
        for (int y = 0; y < 56; y++)
            for (int x = 22; x < 34; x++)
                for (int c = 0; c < 3; c++) colours[y, x, c] = 255;
        var (exit, output, error) = Run("predict", Write("bar.bmp", TestImages.Bmp(colours)), "--checkpoint", _checkpoint, "--top", "1");
        Assert.True(exit == 0, error);

        var input = new float[784];
        for (int i = 0; i < 784; i++) input[i] = (i % 28 is >= 11 and < 17 ? 1f : 0f) - 0.25f;
        var probabilities = new float[10];
        _network.Forward(input, probabilities, 1);
        int best = Array.IndexOf(probabilities, probabilities.Max());
        Assert.StartsWith($"{best,3}  {FashionMnist.ClassNames[best]}", output);
        Assert.Contains((100 * probabilities[best]).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "%", output);
    }

    [Fact]
    public void AnOversizedOrMalformedPictureIsOneLineAndExitCode1()
    {
        var (exit, output, error) = Run("predict", Write("huge.png", TestImages.PngClaiming(60000, 60000)), "--checkpoint", _checkpoint);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("Cannot read " + Path.Combine(_dir, "huge.png") + ": PNG image is 60000x60000", error);
        Assert.Single(error.TrimEnd().Split('\n'));

        (exit, _, error) = Run("predict", Write("bad.pgm", "P5\n28 x8\n255\n"u8.ToArray()), "--checkpoint", _checkpoint);
        Assert.Equal(1, exit);
        Assert.Contains("PGM/PPM height 'x8' is not a whole number", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}
