using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using CnnGen.Checkpoints;
using CnnGen.Generator;
using CnnGen.Onnx;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Builds an imported declaration the way a project would: CnnGen's generator runs over the written C# in memory
/// (Roslyn's CSharpGeneratorDriver), the result is compiled and loaded, and the written weights are loaded into an
/// instance with <see cref="Checkpoint.Load"/>, strictly (every tensor present, no other).
/// </summary>
internal static class ImportCompiler
{
    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                     || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(InputAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    /// <summary>The declaration compiled with the generator; fails the test on any generator diagnostic or compile error.</summary>
    public static Type Compile(string declaration, string typeName)
    {
        var tree = CSharpSyntaxTree.ParseText(declaration, ParseOptions, path: "Imported.cs");
        var compilation = CSharpCompilation.Create("Imported" + Guid.NewGuid().ToString("N"), [tree], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: ParseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        // CNN0011 (a stride that leaves the last rows or columns unread) describes the model as it is; this project
        // ignores it, as a project that builds an imported torchvision network would (NoWarn).
        var problems = generatorDiagnostics.Concat(output.GetDiagnostics())
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CNN0011").ToList();
        Assert.True(problems.Count == 0, "The imported declaration does not build cleanly:\n" + string.Join("\n", problems) + "\n" + declaration);
        using var stream = new MemoryStream();
        var emitted = output.Emit(stream);
        Assert.True(emitted.Success, "Emit failed: " + string.Join("; ", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        var context = new AssemblyLoadContext(typeName, isCollectible: true);
        return context.LoadFromStream(stream).GetType(typeName, throwOnError: true)!;
    }

    /// <summary>Writes, compiles and loads an imported network: the instance with the written weights loaded.</summary>
    public static INetwork Build(ImportedNetwork imported, string className, string directory)
    {
        var (declaration, weights) = OnnxImport.Save(imported, className, "Imported.Networks", directory);
        var type = Compile(File.ReadAllText(declaration), "Imported.Networks." + className);
        var network = (INetwork)Activator.CreateInstance(type, BindingFlags.Public | BindingFlags.Instance, null, [0], null)!;
        Checkpoint.Load(weights, network);
        return network;
    }
}
