using System.Collections.Immutable;
using System.Reflection;
using CnnGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CnnGen.Generator.CodeFixes.Tests;

/// <summary>
/// Reports what the generator reports, as an analyzer, so that the code fix tests see the generator's diagnostics the
/// way an IDE shows them, and the fixes are applied to them. The generated code itself is left out of the compilation.
/// The generator keeps locations as file path and span (it must not hold syntax trees); they are mapped back onto the
/// compilation's tree of that path, which an IDE does by the document's path.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GeneratorDiagnosticsAnalyzer : DiagnosticAnalyzer
{
    private static readonly ImmutableArray<DiagnosticDescriptor> Catalog = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToImmutableArray();

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Catalog;

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        // Per semantic model, reporting the diagnostics in its tree: local diagnostics, as code fixes expect.
        context.RegisterSemanticModelAction(model =>
        {
            var compilation = model.SemanticModel.Compilation;
            var tree = model.SemanticModel.SyntaxTree;
            var driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: tree.Options as CSharpParseOptions)
                .RunGenerators(compilation, model.CancellationToken);
            foreach (var diagnostic in driver.GetRunResult().Diagnostics)
                if (diagnostic.Location.GetLineSpan().Path == tree.FilePath)
                    model.ReportDiagnostic(InSource(diagnostic, tree));
        });
    }

    private static Diagnostic InSource(Diagnostic diagnostic, SyntaxTree tree)
    {
        var location = diagnostic.Location;
        if (location.IsInSource) return diagnostic;
        var descriptor = diagnostic.Descriptor;
        // The message is already formatted: it is passed as the only argument of a "{0}" format with the same ID.
        var asReported = new DiagnosticDescriptor(descriptor.Id, descriptor.Title, "{0}", descriptor.Category,
            descriptor.DefaultSeverity, descriptor.IsEnabledByDefault, helpLinkUri: descriptor.HelpLinkUri);
        return Diagnostic.Create(asReported, Location.Create(tree, location.SourceSpan), diagnostic.GetMessage());
    }
}
