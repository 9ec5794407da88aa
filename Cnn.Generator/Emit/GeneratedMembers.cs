using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Emit;

/// <summary>A member the generated half of a network class declares: its name, what it is, and for a method or
/// constructor its parameter types (written without <c>global::</c>, as <see cref="GeneratedMembers.TypeKey"/> does).</summary>
internal sealed record GeneratedMember(string Name, string Kind, IReadOnlyList<string>? ParameterTypes, int Arity)
{
    public bool IsMethodLike => ParameterTypes is not null;

    /// <summary>How a message names it, e.g. <c>method Forward(ReadOnlySpan&lt;float&gt;, Span&lt;float&gt;)</c>.</summary>
    public string Describe() => IsMethodLike ? $"{Kind} {Name}({string.Join(", ", ParameterTypes!.Select(Short))})" : $"{Kind} {Name}";

    private static string Short(string type) => type.Replace("System.", "").Replace("CnnGen.", "");
}

/// <summary>
/// The members of a generated network class, read back from the emitted source, so the list can never fall behind
/// what the emitters write. Explicit interface implementations are left out: no member of the user's can clash with them.
/// </summary>
internal static class GeneratedMembers
{
    public static List<GeneratedMember> Of(string source, string className)
    {
        var root = CSharpSyntaxTree.ParseText(source).GetRoot();
        var members = new List<GeneratedMember>();
        var cls = root.DescendantNodes().OfType<ClassDeclarationSyntax>().FirstOrDefault(c => c.Identifier.ValueText == className);
        if (cls is null) return members;
        foreach (var member in cls.Members)
        {
            switch (member)
            {
                case FieldDeclarationSyntax field:
                    string kind = field.Modifiers.Any(SyntaxKind.ConstKeyword) ? "constant" : "field";
                    foreach (var v in field.Declaration.Variables) members.Add(new GeneratedMember(v.Identifier.ValueText, kind, null, 0));
                    break;
                case PropertyDeclarationSyntax property when property.ExplicitInterfaceSpecifier is null:
                    members.Add(new GeneratedMember(property.Identifier.ValueText, "property", null, 0));
                    break;
                case MethodDeclarationSyntax method when method.ExplicitInterfaceSpecifier is null:
                    members.Add(new GeneratedMember(method.Identifier.ValueText, "method", Parameters(method.ParameterList), method.Arity));
                    break;
                case ConstructorDeclarationSyntax ctor when !ctor.Modifiers.Any(SyntaxKind.StaticKeyword):
                    members.Add(new GeneratedMember(ctor.Identifier.ValueText, "constructor", Parameters(ctor.ParameterList), 0));
                    break;
                case BaseTypeDeclarationSyntax type:
                    members.Add(new GeneratedMember(type.Identifier.ValueText, "nested type", null, 0));
                    break;
                case EventFieldDeclarationSyntax events:
                    foreach (var v in events.Declaration.Variables) members.Add(new GeneratedMember(v.Identifier.ValueText, "event", null, 0));
                    break;
            }
        }
        return members;
    }

    private static List<string> Parameters(ParameterListSyntax list) =>
        list.Parameters.Select(p => TypeKey(p.Type?.ToString() ?? "", p.Modifiers.Any(SyntaxKind.RefKeyword) || p.Modifiers.Any(SyntaxKind.OutKeyword))).ToList();

    /// <summary>A parameter type as overloads compare them: without <c>global::</c> or spaces, <c>ref</c> (and <c>out</c>) marked.</summary>
    public static string TypeKey(string type, bool byReference) =>
        (byReference ? "ref " : "") + type.Replace("global::", "").Replace(" ", "");
}
