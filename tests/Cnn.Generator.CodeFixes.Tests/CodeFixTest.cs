using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace CnnGen.Generator.CodeFixes.Tests;

/// <summary>
/// A code fix test over the generator's own diagnostics: they are expected where the markup says, the fix is applied
/// (alone, and as fix-all), and the fixed source must match and have no diagnostic left but those its markup names.
/// References are this process's platform assemblies and Cnn.Runtime (nothing is downloaded).
/// </summary>
internal sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<GeneratorDiagnosticsAnalyzer, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                     || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(InputAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    public CodeFixTest(string source, string fixedSource)
    {
        TestCode = source;
        FixedCode = fixedSource;
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(References.Value);
        // The check that '#pragma warning disable' silences every diagnostic does not apply: most of the generator's
        // diagnostics are errors, which no pragma disables.
        TestBehaviors |= TestBehaviors.SkipSuppressionCheck;
    }
}
