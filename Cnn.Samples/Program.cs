using System.CommandLine;
using CnnGen.Samples.Commands;
using Spectre.Console;

// Output sent to a file or pipe: plain text, wide enough for the tables.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(Console.Out),
    });
    AnsiConsole.Profile.Width = 120;
}

var root = new RootCommand("CnnGen samples: convolutional networks declared with attributes and compiled by a source generator.")
{
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    PredictCommand.Create(),
    SummaryCommand.Create(),
    BenchCommand.Create(),
    FineTuneCommand.Create(),
    VisualizeCommand.Create(),
    ServeCommand.Create(),
    ExportCommand.Create(),
};
return root.Parse(args).Invoke();
