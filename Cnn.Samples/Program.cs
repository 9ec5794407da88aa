using CnnGen.Samples.Cli;
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

return EntryPoint.Run(EntryPoint.CreateRoot(), args);
