using System.Globalization;
using CnnGen.Training;
using Spectre.Console;

namespace CnnGen.Samples.Cli;

/// <summary>The tables printed after training and evaluation.</summary>
internal static class Reports
{
    public static string Percent(double value) => (100 * value).ToString("F2", CultureInfo.InvariantCulture) + "%";

    public static void Epochs(IReadOnlyList<EpochReport> reports)
    {
        var table = new Table().Title("Epochs").AddColumns("epoch", "lr", "train loss", "train acc", "test loss", "test acc", "train s", "images/s");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var r in reports)
            table.AddRow(r.Epoch.ToString(CultureInfo.InvariantCulture), r.LearningRate.ToString("G3", CultureInfo.InvariantCulture),
                r.TrainLoss.ToString("F4", CultureInfo.InvariantCulture), Percent(r.TrainAccuracy),
                r.Test?.Loss.ToString("F4", CultureInfo.InvariantCulture) ?? "-", r.Test is null ? "-" : Percent(r.Test.Accuracy),
                r.TrainSeconds.ToString("F2", CultureInfo.InvariantCulture), r.ImagesPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }

    public static void Evaluation(Evaluation evaluation, IReadOnlyList<string> classNames)
    {
        AnsiConsole.MarkupLine($"Test accuracy [bold]{Percent(evaluation.Accuracy)}[/], loss {evaluation.Loss.ToString("F4", CultureInfo.InvariantCulture)} ({evaluation.Count:N0} images)");
        var perClass = evaluation.PerClassAccuracy;
        int classes = perClass.Length;
        var table = new Table().Title("Per class (rows: actual, columns: predicted)").AddColumn("class").AddColumn(new TableColumn("accuracy").RightAligned());
        for (int p = 0; p < classes; p++) table.AddColumn(new TableColumn(p.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int c = 0; c < classes; c++)
        {
            var cells = new List<string> { Markup.Escape($"{c} {Name(classNames, c)}"), double.IsNaN(perClass[c]) ? "-" : Percent(perClass[c]) };
            for (int p = 0; p < classes; p++)
            {
                int n = evaluation.Confusion[c, p];
                cells.Add(p == c ? $"[green]{n}[/]" : n == 0 ? "[grey]0[/]" : n.ToString(CultureInfo.InvariantCulture));
            }
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }

    public static string Name(IReadOnlyList<string> classNames, int index) => index < classNames.Count ? classNames[index] : $"class {index}";
}
