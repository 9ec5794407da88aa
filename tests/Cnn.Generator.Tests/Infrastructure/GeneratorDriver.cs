using System.Collections.Immutable;
using CnnGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>What one in-memory generator run produced.</summary>
internal sealed record GeneratorRun(
    CSharpCompilation Input,
    Compilation Output,
    GeneratorDriver Driver,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<GeneratedSourceResult> Sources)
{
    public GeneratorRunResult Result => Driver.GetRunResult().Results[0];

    /// <summary>Diagnostics of the compilation that includes the generated code.</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics => Output.GetDiagnostics();

    /// <summary>Warnings and errors of the compilation with the generated code (hidden and info ignored).</summary>
    public List<Diagnostic> OutputProblems =>
        OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();

    public string SourceFor(string hintName) =>
        Sources.Single(s => s.HintName == hintName).SourceText.ToString();
}

/// <summary>Builds compilations from source text and runs <see cref="NetworkGenerator"/> over them in memory.</summary>
internal static class TestDriver
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                     || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(InputAttribute).Assembly.Location)
            .Distinct();
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static CSharpCompilation Compile(params string[] sources) =>
        Compile(sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")));

    public static CSharpCompilation Compile(IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create("Tests", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    public static GeneratorRun Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult().Results[0];
        return new GeneratorRun(compilation, output, driver, diagnostics, result.GeneratedSources);
    }
}
