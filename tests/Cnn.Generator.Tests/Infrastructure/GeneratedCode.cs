using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Checks shared by the tests that compile generated networks.</summary>
internal static class GeneratedCode
{
    /// <summary>The one file the generator writes for <paramref name="source"/>.</summary>
    public static string Generated(string source) => Assert.Single(TestDriver.Run(source).Sources).SourceText.ToString();

    /// <summary>The generated file of a network <c>Net</c> declared by <paramref name="attributes"/>, checked by
    /// <see cref="AssertCompilesCleanly"/>.</summary>
    public static string CleanNetworkSource(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Fuse;\n" + attributes + "\npublic partial class Net { }").Sources[0].SourceText.ToString();

    /// <summary>Runs the generator on <paramref name="source"/>: no exception, no generator diagnostic, no warning in the
    /// input, <paramref name="expectedSources"/> generated files, and generated code that compiles without a problem.</summary>
    public static GeneratorRun AssertCompilesCleanly(string source, int expectedSources = 1)
    {
        var run = TestDriver.Run(source);
        Assert.Null(run.Result.Exception);
        Assert.True(run.GeneratorDiagnostics.IsEmpty, "Unexpected diagnostics: " + string.Join("; ", run.GeneratorDiagnostics));
        Assert.Empty(run.Input.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS0535"));
        Assert.Equal(expectedSources, run.Sources.Length);
        var problems = run.OutputProblems;
        Assert.True(problems.Count == 0, "Generated code has problems:\n" + string.Join("\n", problems.Take(20)));
        return run;
    }
}
