using System.CommandLine;
using CnnGen.Samples.Commands;

namespace CnnGen.Samples.Cli;

/// <summary>
/// The command line: every command under one root, and the last line of defence. An exception that escapes a
/// command (every expected mistake is reported by the command itself) becomes one line naming its message, exit code
/// 1; <c>--verbose</c> or the environment variable <see cref="VerboseVariable"/>=1 prints the whole exception instead.
/// </summary>
internal static class EntryPoint
{
    public const string VerboseVariable = "CNNGEN_VERBOSE";

    public static RootCommand CreateRoot() =>
        new("CnnGen samples: convolutional networks declared with attributes and compiled by a source generator.")
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
            ImportCommand.Create(),
        };

    public static int Run(RootCommand root, string[] args)
    {
        var verbose = new Option<bool>("--verbose") { Description = "On an unexpected error, print the whole exception (stack trace included)", Recursive = true };
        root.Options.Add(verbose);
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine(parse.GetValue(verbose) || IsSet(Environment.GetEnvironmentVariable(VerboseVariable)) ? e.ToString() : OneLine(e));
            return 1;
        }
    }

    /// <summary>"Unexpected error: MESSAGE (TYPE); ...": the innermost useful message, on one line.</summary>
    public static string OneLine(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is { } inner) e = inner;
        return $"Unexpected error: {ErrorText.Of(e)} ({e.GetType().Name}). Run with --verbose or {VerboseVariable}=1 for the stack trace.";
    }

    private static bool IsSet(string? value) => value is not null && value.Trim() is "1" or "true" or "yes";
}
