using System.Globalization;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Runs the generator over marked-up source and checks the one diagnostic the marker points at.</summary>
internal static class DiagnosticAssert
{
    public const string Header = "using CnnGen;\nnamespace Tests;\n";

    /// <summary>
    /// Asserts that the generator reports <paramref name="id"/> exactly once, with <paramref name="severity"/>, at the marked
    /// span, with every one of <paramref name="messageParts"/> in its message; that it reports no other ID than
    /// <paramref name="alsoAllowed"/>; and that an error stops generation while a warning does not.
    /// </summary>
    public static Diagnostic Reports(string markup, string id, DiagnosticSeverity severity, string[] messageParts, params string[] alsoAllowed)
    {
        var m = Markup.Parse(Header + markup);
        var run = TestDriver.Run(m.Source);
        Assert.Null(run.Result.Exception);

        var unexpected = run.GeneratorDiagnostics.Where(d => d.Id != id && !alsoAllowed.Contains(d.Id)).ToList();
        Assert.True(unexpected.Count == 0, "Unexpected diagnostics: " + string.Join("; ", unexpected));

        var diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        // The generator keeps locations as plain values, so they come back as file locations, not tree locations.
        Assert.NotEqual(LocationKind.None, diagnostic.Location.Kind);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(m.Span, diagnostic.Location.SourceSpan);
        Assert.Equal(m.Start, diagnostic.Location.GetLineSpan().StartLinePosition);
        string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        foreach (var part in messageParts)
            Assert.True(message.Contains(part, StringComparison.Ordinal), $"Message of {id} lacks \"{part}\": {message}");

        if (severity == DiagnosticSeverity.Error)
        {
            // The build fails, and no half-checked network is emitted.
            Assert.Empty(run.Sources);
        }
        else
        {
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Single(run.Sources);
            Assert.Empty(run.OutputProblems);
        }
        return diagnostic;
    }

    public static Diagnostic Error(string markup, string id, params string[] messageParts) =>
        Reports(markup, id, DiagnosticSeverity.Error, messageParts);

    public static Diagnostic Warning(string markup, string id, params string[] messageParts) =>
        Reports(markup, id, DiagnosticSeverity.Warning, messageParts);
}
