using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Emits a generator run's output compilation and reads a network's static compile-time facts by reflection.</summary>
internal static class LoadedNetwork
{
    public static Type Load(GeneratorRun run, string typeName)
    {
        using var stream = new MemoryStream();
        var result = run.Output.Emit(stream);
        Assert.True(result.Success, "Emit failed: " + string.Join("; ", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        // A fresh collectible context per load; Cnn.Runtime resolves to the copy this test already loaded.
        var context = new AssemblyLoadContext(typeName, isCollectible: true);
        var assembly = context.LoadFromStream(stream);
        return assembly.GetType(typeName, throwOnError: true)!;
    }

    public static IReadOnlyList<LayerInfo> Layers(GeneratorRun run, string typeName) =>
        (IReadOnlyList<LayerInfo>)Load(run, typeName).GetProperty("Layers", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public static T Constant<T>(Type type, string name) =>
        (T)type.GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
}
