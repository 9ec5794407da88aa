using System.CommandLine;
using CnnGen.Samples.Cli;
using Xunit;
using static CnnGen.Samples.Tests.CommandRunner;

namespace CnnGen.Samples.Tests;

/// <summary>The last line of defence: an exception that escapes a command is one line on standard error and exit
/// code 1, unless --verbose or the environment variable asks for the whole exception.</summary>
[Collection("Console")]
public class EntryPointTests
{
    [Fact]
    public void AnExceptionEscapingACommandBecomesOneLine()
    {
        RootCommand Root()
        {
            var boom = new Command("boom");
            boom.SetAction(int (_) => throw new InvalidOperationException("the first line\nand the second"));
            return new RootCommand { boom };
        }

        var (exit, _, error) = Run(Root(), "boom");
        Assert.Equal(1, exit);
        Assert.Equal("Unexpected error: the first line and the second (InvalidOperationException). Run with --verbose or CNNGEN_VERBOSE=1 for the stack trace." + Environment.NewLine, error);

        (exit, _, error) = Run(Root(), "boom", "--verbose");
        Assert.Equal(1, exit);
        Assert.StartsWith("System.InvalidOperationException: the first line", error);
        Assert.Contains("   at ", error);

        Environment.SetEnvironmentVariable(EntryPoint.VerboseVariable, "1");
        try
        {
            (exit, _, error) = Run(Root(), "boom");
        }
        finally
        {
            Environment.SetEnvironmentVariable(EntryPoint.VerboseVariable, null);
        }
        Assert.Equal(1, exit);
        Assert.Contains("   at ", error);
    }

    [Fact]
    public void AnAggregateOfOneExceptionIsNamedByItsInnerException()
    {
        var e = new AggregateException(new FileNotFoundException("gone"));
        Assert.Equal("Unexpected error: gone (FileNotFoundException). Run with --verbose or CNNGEN_VERBOSE=1 for the stack trace.", EntryPoint.OneLine(e));
    }

    [Fact]
    public void ACommandThatSucceedsKeepsItsExitCodeAndVerboseIsAcceptedEverywhere()
    {
        var (exit, output, error) = Run("summary", "--model", "lenet5", "--verbose");
        Assert.Equal(0, exit);
        Assert.Contains("LeNet5: input 1x28x28", output);
        Assert.Equal("", error);
    }
}
