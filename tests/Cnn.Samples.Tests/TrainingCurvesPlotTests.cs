using System.CommandLine;
using CnnGen.Samples.Commands;
using CnnGen.Samples.Images;
using CnnGen.Training;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary><c>train --plot</c>: a PNG of loss and accuracy per epoch that decodes at the promised size and shows both
/// colours of curves; bad file names are refused before training.</summary>
[Collection("Console")]
public sealed class TrainingCurvesPlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-plot").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static EpochReport Epoch(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy) =>
        new(epoch, trainLoss, trainAccuracy, 1.5, 40000, 0.05f, new Evaluation(testLoss, testAccuracy, 10000, new int[10, 10]), 0.2);

    private static (int Exit, string Out, string Error) Run(params string[] args) => CommandRunner.Run(args);

    /// <summary>Whether some pixel is within 40 levels of the colour in every channel.</summary>
    private static bool Shows(Picture picture, byte r, byte g, byte b)
    {
        int n = picture.Width * picture.Height;
        for (int p = 0; p < n; p++)
            if (Math.Abs(picture.Pixels[p] * 255 - r) < 40 && Math.Abs(picture.Pixels[n + p] * 255 - g) < 40 && Math.Abs(picture.Pixels[2 * n + p] * 255 - b) < 40)
                return true;
        return false;
    }

    [Fact]
    public void TheCurvesAreAPngOfThePromisedSizeWithBothColours()
    {
        var reports = new[] { Epoch(1, 0.51, 0.81, 0.40, 0.85), Epoch(2, 0.36, 0.87, 0.35, 0.87), Epoch(3, 0.32, 0.88, 0.34, 0.875) };
        string path = Path.Combine(_dir, "sub", "curves.png");
        var output = new StringWriter();
        var oldOut = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.True(TrainingCurvesPlot.TryWrite(path, reports, "LeNet5"));
        }
        finally
        {
            Console.SetOut(oldOut);
        }
        Assert.Equal($"Training curves in {path}.", output.ToString().Trim());
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(ImageFormat.Png, ImageFormats.Sniff(bytes));
        var picture = ImageDecoder.Decode(bytes, 3);
        Assert.Equal((TrainingCurvesPlot.Width, TrainingCurvesPlot.Height), (picture.Width, picture.Height));
        Assert.True(Shows(picture, 0, 0, 255), "no blue loss curve");
        Assert.True(Shows(picture, 255, 140, 0), "no orange accuracy curve");
        Assert.True(Shows(picture, 255, 255, 255), "no white background");
    }

    [Fact]
    public void AnUnwritablePlotIsOneLineAndFalse()
    {
        string blocker = Path.Combine(_dir, "file");
        File.WriteAllText(blocker, "not a directory");
        var error = new StringWriter();
        var oldError = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.False(TrainingCurvesPlot.TryWrite(Path.Combine(blocker, "curves.png"), [Epoch(1, 0.5, 0.8, 0.4, 0.85)], "LeNet5"));
            Assert.False(TrainingCurvesPlot.TryWrite(Path.Combine(_dir, "none.png"), [], "LeNet5"));
        }
        finally
        {
            Console.SetError(oldError);
        }
        var lines = error.ToString().TrimEnd().Split(Environment.NewLine);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"Cannot write the plot {Path.Combine(blocker, "curves.png")}:", lines[0]);
        Assert.Contains("no epoch was trained", lines[1]);
    }

    [Fact]
    public void ANameNotEndingInPngIsRefusedBeforeTraining()
    {
        var (exit, _, error) = Run("train", "--plot", Path.Combine(_dir, "curves.jpg"), "--data", "/nonexistent");
        Assert.NotEqual(0, exit);
        Assert.Contains("give a file name ending in .png", error);
        Assert.DoesNotContain("dataset", error);
    }

    [Fact]
    public void TrainWritesThePlotAfterTraining()
    {
        string plot = Path.Combine(_dir, "curves.png");
        var (exit, output, error) = Run("train", "--epochs", "2", "--train-limit", "256", "--test-limit", "64",
            "--save", Path.Combine(_dir, "lenet5.safetensors"), "--plot", plot);
        Assert.True(exit == 0, error);
        Assert.Contains($"Training curves in {plot}.", output);
        var picture = ImageDecoder.Decode(File.ReadAllBytes(plot), 1);
        Assert.Equal((900, 520), (picture.Width, picture.Height));
    }
}
