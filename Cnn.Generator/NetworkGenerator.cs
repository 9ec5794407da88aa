using System.Collections.Immutable;
using System.Linq;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using CnnGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator;

/// <summary>
/// Finds classes marked <c>[Input]</c>, checks their layer attributes and emits the network's code.
/// Pipeline: <see cref="NetworkParser"/> (symbols to plain declarations, then <see cref="Analysis.ShapeAnalysis"/>)
/// produces a value-equal <see cref="NetworkResult"/>; <see cref="NetworkEmitter"/> turns its spec into source.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var networks = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeNames.Input,
                predicate: static (node, _) => IsClassOrRecord(node),
                transform: static (ctx, ct) =>
                {
                    // A partial class may carry [Input] on several declarations: parse it once, at the first.
                    var type = (INamedTypeSymbol)ctx.TargetSymbol;
                    var first = type.DeclaringSyntaxReferences
                        .Select(r => r.GetSyntax(ct))
                        .FirstOrDefault(s => type.GetAttributes().Any(a =>
                            a.AttributeClass?.ToDisplayString() == AttributeNames.Input &&
                            a.ApplicationSyntaxReference?.SyntaxTree == s.SyntaxTree &&
                            s.Span.Contains(a.ApplicationSyntaxReference.Span)));
                    return first == ctx.TargetNode ? NetworkParser.Parse(type, ct) : null;
                })
            .Where(static r => r is not null)
            .WithTrackingName(TrackingNames.Networks);

        context.RegisterSourceOutput(networks, static (spc, result) =>
        {
            foreach (var diagnostic in result!.Diagnostics)
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            if (result.Spec is { } spec)
                spc.AddSource(spec.HintName, NetworkEmitter.Emit(spec));
        });

        // Classes with layer attributes but no [Input] are never matched above: find them through each layer attribute.
        IncrementalValueProvider<ImmutableArray<MissingInput?>>? missing = null;
        foreach (var (name, _) in AttributeNames.Layers)
        {
            var provider = context.SyntaxProvider
                .ForAttributeWithMetadataName(name,
                    predicate: static (node, _) => IsClassOrRecord(node),
                    transform: static (ctx, _) => MissingInput.Find((INamedTypeSymbol)ctx.TargetSymbol))
                .Where(static m => m is not null)
                .Collect();
            missing = missing is null ? provider
                : missing.Value.Combine(provider).Select(static (pair, _) => pair.Left.AddRange(pair.Right));
        }
        context.RegisterSourceOutput(missing!.Value.WithTrackingName(TrackingNames.MissingInput), static (spc, items) =>
        {
            foreach (var item in items.Distinct())
                spc.ReportDiagnostic(DiagnosticInfo.Create(DiagnosticDescriptors.MissingInput, item!.Location, item.ClassName).ToDiagnostic());
        });
    }
}

public sealed partial class NetworkGenerator
{
    /// <summary>Classes and records (records are reported as unsupported rather than skipped in silence).</summary>
    private static bool IsClassOrRecord(SyntaxNode node) =>
        node is ClassDeclarationSyntax || node is RecordDeclarationSyntax { ClassOrStructKeyword.RawKind: not (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.StructKeyword };
}

/// <summary>Names of the incremental steps, so tests can check what stayed cached.</summary>
public static class TrackingNames
{
    public const string Networks = nameof(Networks);
    public const string MissingInput = nameof(MissingInput);
}

/// <summary>A class with layer attributes and no <c>[Input]</c>.</summary>
internal sealed record MissingInput(string ClassName, LocationInfo? Location)
{
    public static MissingInput? Find(INamedTypeSymbol type)
    {
        foreach (var a in type.GetAttributes())
            if (a.AttributeClass?.ToDisplayString() == AttributeNames.Input) return null;
        return new MissingInput(type.Name, LocationInfo.From(type.Locations.FirstOrDefault()));
    }
}
