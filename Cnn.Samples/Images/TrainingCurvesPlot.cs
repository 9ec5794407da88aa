using System.CommandLine.Parsing;
using CnnGen.Training;
using ScottPlot;

namespace CnnGen.Samples.Images;

/// <summary><c>train --plot FILE.png</c>: loss (left axis) and accuracy (right axis) per epoch, for the training and
/// the test set, drawn with ScottPlot.</summary>
internal static class TrainingCurvesPlot
{
    public const int Width = 900;
    public const int Height = 520;

    /// <summary>Refuses a <c>--plot</c> file name that does not end in .png, before any training.</summary>
    public static void Validate(OptionResult result)
    {
        string? path = result.GetValueOrDefault<string?>();
        if (path is not null && !path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            result.AddError($"--plot {path}: the curves are written as PNG; give a file name ending in .png.");
    }

    /// <summary>Writes the picture, or prints why it cannot and returns false.</summary>
    public static bool TryWrite(string path, IReadOnlyList<EpochReport> reports, string networkName)
    {
        if (reports.Count == 0)
        {
            Console.Error.WriteLine($"--plot {path}: no epoch was trained, so there is nothing to draw.");
            return false;
        }
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            Draw(reports, networkName).SavePng(path, Width, Height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Cannot write the plot {path}: {e.Message}");
            return false;
        }
        Console.WriteLine($"Training curves in {path}.");
        return true;
    }

    /// <summary>The plot: solid lines for the training set, dashed for the test set; loss in blue, accuracy in orange.</summary>
    public static Plot Draw(IReadOnlyList<EpochReport> reports, string networkName)
    {
        var plot = new Plot();
        double[] epochs = reports.Select(r => (double)r.Epoch).ToArray();
        var withTest = reports.Where(r => r.Test is not null).ToArray();
        double[] testEpochs = withTest.Select(r => (double)r.Epoch).ToArray();
        var lossColour = Colors.Blue;
        var accuracyColour = Colors.DarkOrange;

        var trainLoss = plot.Add.Scatter(epochs, reports.Select(r => r.TrainLoss).ToArray(), lossColour);
        trainLoss.LegendText = "train loss";
        var trainAccuracy = plot.Add.Scatter(epochs, reports.Select(r => 100 * r.TrainAccuracy).ToArray(), accuracyColour);
        trainAccuracy.LegendText = "train accuracy";
        trainAccuracy.Axes.YAxis = plot.Axes.Right;
        if (withTest.Length > 0)
        {
            var testLoss = plot.Add.Scatter(testEpochs, withTest.Select(r => r.Test!.Loss).ToArray(), lossColour);
            testLoss.LegendText = "test loss";
            testLoss.LinePattern = LinePattern.Dashed;
            var testAccuracy = plot.Add.Scatter(testEpochs, withTest.Select(r => 100 * r.Test!.Accuracy).ToArray(), accuracyColour);
            testAccuracy.LegendText = "test accuracy";
            testAccuracy.LinePattern = LinePattern.Dashed;
            testAccuracy.Axes.YAxis = plot.Axes.Right;
        }
        foreach (var line in plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>())
        {
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }

        plot.Title($"{networkName}: loss and accuracy per epoch");
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "loss (cross-entropy)";
        plot.Axes.Right.Label.Text = "accuracy (%)";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.MiddleRight);
        return plot;
    }
}
