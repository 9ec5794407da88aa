using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Emit;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing;

/// <summary>
/// Finds the user's members that the generated half of a network class would clash with (CS0102, CS0111, CS8862):
/// a member named like a generated one (a method only with the same parameter types: other overloads are fine), a
/// constructor taking one <c>int</c> like the generated <c>(int seed = 0)</c>, and a primary constructor, which the
/// generated constructor could not call. Each becomes CNN0032 on the user's member. Only the diagnostics enter the
/// model, so adding or editing a member that clashes with nothing leaves the network's pipeline cached.
/// </summary>
internal static class MemberCollisions
{
    public static void Check(INamedTypeSymbol type, NetworkSpec spec, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var userMembers = type.GetMembers().Where(IsDeclaredByUser).ToList();
        var primary = PrimaryConstructors(type, cancellationToken);
        if (userMembers.Count == 0 && primary.Count == 0) return; // the usual case: an empty class body, nothing to compare

        var generated = GeneratedMembers.Of(NetworkEmitter.Emit(spec), spec.ClassName);
        var constructor = generated.FirstOrDefault(g => g.Kind == "constructor");
        string constructorText = $"constructor {type.Name}(int seed = 0)";
        foreach (var parameters in primary)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberCollision, LocationInfo.From(parameters.GetLocation()),
                type.Name, "the primary constructor", constructorText + ", which cannot call it"));

        var byName = generated.Where(g => g.Kind != "constructor").ToLookup(g => g.Name);
        foreach (var member in userMembers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var location = LocationInfo.From(member.Locations.FirstOrDefault());
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } ctor)
            {
                if (constructor is not null && SameParameters(ctor, constructor))
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberCollision, location,
                        type.Name, $"the constructor {Describe(ctor)}", constructorText));
                continue;
            }
            foreach (var g in byName[member.Name])
            {
                // Methods clash only with methods of the same parameter types; anything else clashes by name.
                if (g.IsMethodLike && member is IMethodSymbol method && !(method.Arity == g.Arity && SameParameters(method, g)))
                    continue;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberCollision, location,
                    type.Name, $"the {KindOf(member)} {(member is IMethodSymbol m ? Describe(m) : member.Name)}", g.Describe()));
                break;
            }
        }
    }

    /// <summary>Members written in the user's source: not implicit (a default constructor, a property's accessors, a
    /// primary constructor), not an explicit interface implementation.</summary>
    private static bool IsDeclaredByUser(ISymbol member) =>
        !member.IsImplicitlyDeclared && member.DeclaringSyntaxReferences.Length > 0 &&
        member switch
        {
            IMethodSymbol m => m.MethodKind is MethodKind.Ordinary or MethodKind.Constructor && m.ExplicitInterfaceImplementations.IsEmpty
                               && !IsPrimaryConstructor(m),
            IPropertySymbol p => p.ExplicitInterfaceImplementations.IsEmpty,
            IEventSymbol e => e.ExplicitInterfaceImplementations.IsEmpty,
            _ => true,
        };

    private static bool IsPrimaryConstructor(IMethodSymbol method) =>
        method.MethodKind == MethodKind.Constructor &&
        method.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is TypeDeclarationSyntax);

    private static List<ParameterListSyntax> PrimaryConstructors(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken))
            .OfType<TypeDeclarationSyntax>()
            .Where(t => t.ParameterList is not null)
            .Select(t => t.ParameterList!)
            .ToList();

    private static bool SameParameters(IMethodSymbol method, GeneratedMember generated) =>
        method.Parameters.Length == generated.ParameterTypes!.Count &&
        method.Parameters.Select(p => GeneratedMembers.TypeKey(
            p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), p.RefKind is RefKind.Ref or RefKind.Out))
            .SequenceEqual(generated.ParameterTypes);

    private static string Describe(IMethodSymbol method) =>
        $"{(method.MethodKind == MethodKind.Constructor ? method.ContainingType.Name : method.Name)}" +
        $"({string.Join(", ", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)))})";

    private static string KindOf(ISymbol member) => member switch
    {
        IFieldSymbol { IsConst: true } => "constant",
        IFieldSymbol => "field",
        IPropertySymbol => "property",
        IMethodSymbol => "method",
        IEventSymbol => "event",
        INamedTypeSymbol => "nested type",
        _ => "member",
    };
}
