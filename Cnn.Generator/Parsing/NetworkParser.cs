using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CnnGen.Generator.Parsing;

/// <summary>
/// Reads a network class's attributes into plain declarations. This is the only step that sees symbols and syntax;
/// everything it returns is value-equal data.
/// </summary>
internal static class NetworkParser
{
    public static NetworkResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        try
        {
            return ParseCore(type, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // The generator never throws: anything unexpected becomes a diagnostic on the class.
            var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError,
                LocationInfo.From(type.Locations.FirstOrDefault()), type.Name, e.GetType().Name + ": " + e.Message);
            return new NetworkResult(null, ImmutableArray.Create(diagnostic).ToEquatableArray());
        }
    }

    private static NetworkResult ParseCore(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var classLocation = LocationInfo.From(type.Locations.FirstOrDefault());

        CheckDeclaration(type, classLocation, diagnostics, out var containingTypes);

        // Attributes in source order: by declaration, then by position in the file.
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).ToList();
        var attributes = new List<(AttributeData Data, int Declaration, int Position, Location? Location)>();
        foreach (var data in type.GetAttributes())
        {
            if (data.AttributeClass is not { } cls || cls.ContainingNamespace?.ToDisplayString() != AttributeNames.Namespace)
                continue;
            var syntax = data.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
            int declaration = syntax is null ? -1 : declarations.FindIndex(d => d.SyntaxTree == syntax.SyntaxTree && d.Span.Contains(syntax.Span));
            attributes.Add((data, declaration, syntax?.SpanStart ?? 0, syntax?.GetLocation()));
        }
        attributes.Sort((a, b) => a.Declaration != b.Declaration ? a.Declaration.CompareTo(b.Declaration) : a.Position.CompareTo(b.Position));

        InputDeclaration? input = null;
        var layers = new List<LayerDeclaration>();
        int layerDeclaration = int.MinValue;
        bool reportedSeveral = false;
        bool unreadableInput = false, unreadableLayer = false;
        foreach (var (data, declaration, _, location) in attributes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var metadataName = data.AttributeClass!.ToDisplayString();
            var where = LocationInfo.From(location);
            bool isInput = metadataName == AttributeNames.Input;
            if (!isInput && !AttributeNames.TryGetLayerKind(metadataName, out _))
                continue;

            if (HasErrors(data))
            {
                string attribute = data.AttributeClass!.Name.Replace("Attribute", "");
                // Only [Add] and [Concat] take a string (the source), the one argument that can be null.
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidArgument, where, attribute,
                    data.AttributeConstructor is not null && data.ConstructorArguments.Any(a => a.Kind != TypedConstantKind.Error
                        && (a.IsNull || a.Kind == TypedConstantKind.Array && a.Values.Any(v => v.IsNull && v.Kind != TypedConstantKind.Error)))
                        ? $"is null; name an earlier layer, e.g. [{attribute}(\"relu1\")]"
                        : "could not be read as a constant; use literal numbers or constants"));
                unreadableInput |= isInput;
                unreadableLayer |= !isInput;
                continue;
            }

            if (isInput)
            {
                var args = data.ConstructorArguments;
                var parsed = new InputDeclaration(ToInt(args[0]), ToInt(args[1]), ToInt(args[2]), where);
                if (input is null) input = parsed;
                else diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateInput, where, type.Name, Describe(input.Location)));
                continue;
            }

            if (layerDeclaration == int.MinValue) layerDeclaration = declaration;
            else if (declaration != layerDeclaration && !reportedSeveral)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersOnSeveralDeclarations, where, type.Name));
                reportedSeveral = true;
            }
            AttributeNames.TryGetLayerKind(metadataName, out var kind);
            layers.Add(ReadLayer(kind, data, where));
        }

        if (input is null)
        {
            // An [Input] whose arguments could not be read already has CNN0006: it is not missing.
            if (!unreadableInput) diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MissingInput, classLocation, type.Name));
            return new NetworkResult(null, diagnostics.ToEquatableArray());
        }

        var spec = ShapeAnalysis.Analyze(
            hintName: HintName(type),
            @namespace: type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null,
            className: type.Name,
            containingTypes: containingTypes,
            input: input,
            layers: layers,
            classLocation: classLocation,
            diagnostics: diagnostics);

        // A layer whose arguments could not be read already has CNN0006: the network is not empty.
        if (unreadableLayer) diagnostics.RemoveAll(d => d.Descriptor == DiagnosticDescriptors.NoLayers);

        bool hasErrors = diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        // A sound network whose class already has a member the generated code declares would not compile: say which.
        if (!hasErrors)
        {
            MemberCollisions.Check(type, spec, diagnostics, cancellationToken);
            hasErrors = diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        }
        return new NetworkResult(hasErrors ? null : spec, diagnostics.ToEquatableArray());
    }

    /// <summary>Reports a class the generator cannot extend: not partial, generic, or nested in a generic or non-partial type.</summary>
    private static void CheckDeclaration(INamedTypeSymbol type, LocationInfo? location, List<DiagnosticInfo> diagnostics,
        out EquatableArray<ContainingType> containingTypes)
    {
        if (!IsPartial(type))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, location, type.Name));
        // Arity, not IsGenericType: the latter is also true for a non-generic class nested in a generic one.
        if (type.Arity > 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, location, type.Name, "is generic; declare the network on a non-generic class"));
        if (type.IsRecord)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, location, type.Name, "is a record; declare the network on a class"));
        if (type.IsStatic)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, location, type.Name, "is static; a network needs instances that hold its parameters"));

        var chain = new List<ContainingType>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.Arity > 0)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, location, type.Name, $"is nested in the generic type '{outer.Name}'"));
            else if (!IsPartial(outer))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedContainer, location, type.Name, $"is nested in '{outer.Name}', which is not partial"));
            string keyword = outer.IsRecord ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : outer.TypeKind == TypeKind.Struct ? "struct" : outer.TypeKind == TypeKind.Interface ? "interface" : "class";
            chain.Insert(0, new ContainingType(keyword, outer.Name));
        }
        containingTypes = chain.ToEquatableArray();
    }

    private static bool IsPartial(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.All(r => r.GetSyntax() is TypeDeclarationSyntax t && t.Modifiers.Any(SyntaxKind.PartialKeyword));

    private static bool HasErrors(AttributeData data)
    {
        if (data.AttributeConstructor is null) return true;
        foreach (var arg in data.ConstructorArguments)
        {
            if (arg.Kind == TypedConstantKind.Error || arg.IsNull) return true;
            // [Add("a", "b", null)]: a null among the further sources.
            if (arg.Kind == TypedConstantKind.Array && arg.Values.Any(v => v.Kind == TypedConstantKind.Error || v.IsNull)) return true;
        }
        foreach (var arg in data.NamedArguments)
            if (arg.Value.Kind == TypedConstantKind.Error) return true;
        return false;
    }

    private static LayerDeclaration ReadLayer(LayerKind kind, AttributeData data, LocationInfo? location)
    {
        var args = data.ConstructorArguments;
        int kernel = 0, filters = 0, stride = 0, padding = 0;
        bool strideGiven = false;
        float slope = 0;
        string? name = null;
        bool frozen = false;
        var sources = new List<string>();
        string? from = null;
        bool bias = true;
        int groups = 1;
        int dilation = 1;
        bool ceilMode = false;
        float epsilon = 1e-5f, momentum = 0.1f;
        switch (kind)
        {
            case LayerKind.Conv:
                kernel = ToInt(args[0]); filters = ToInt(args[1]); stride = 1;
                break;
            case LayerKind.MaxPool:
            case LayerKind.AvgPool:
                kernel = ToInt(args[0]); stride = kernel;
                break;
            case LayerKind.Dense:
                filters = ToInt(args[0]);
                break;
            case LayerKind.LeakyReLU:
                slope = args.Length > 0 ? ToFloat(args[0]) : 0.01f;
                break;
            case LayerKind.ELU:
                slope = args.Length > 0 ? ToFloat(args[0]) : 1f;
                break;
            case LayerKind.Maxout:
                filters = ToInt(args[0]);
                break;
            case LayerKind.Dropout:
                slope = ToFloat(args[0]);
                break;
            case LayerKind.Add:
            case LayerKind.Concat:
                sources.Add(args[0].Value as string ?? "");
                if (args.Length > 1 && args[1].Kind == TypedConstantKind.Array)
                    foreach (var more in args[1].Values) sources.Add(more.Value as string ?? "");
                break;
        }
        foreach (var named in data.NamedArguments)
        {
            switch (named.Key)
            {
                case "Name": name = named.Value.Value as string; break;
                case "From": from = named.Value.Value as string; break;
                case "Bias": bias = named.Value.Value is not false; break;
                case "Groups": groups = ToInt(named.Value); break;
                case "Dilation": dilation = ToInt(named.Value); break;
                case "CeilMode": ceilMode = named.Value.Value is true; break;
                case "Epsilon": epsilon = ToFloat(named.Value); break;
                case "Momentum": momentum = ToFloat(named.Value); break;
                case "Frozen": frozen = named.Value.Value is true; break;
                case "Padding": padding = ToInt(named.Value); break;
                case "Stride":
                    stride = ToInt(named.Value);
                    // A pool's Stride = 0 means "the window size", as the attribute documents.
                    strideGiven = !(kind.IsPool() && stride == 0);
                    if (!strideGiven) stride = kernel;
                    break;
            }
        }
        return new LayerDeclaration(kind, name, kernel, filters, stride, strideGiven, padding, slope, frozen, location) { Sources = sources.ToEquatableArray(), From = from, Bias = bias, Groups = groups, Dilation = dilation, CeilMode = ceilMode, Epsilon = epsilon, Momentum = momentum };
    }

    private static int ToInt(TypedConstant c) => c.Value switch
    {
        int i => i,
        null => 0,
        var v => Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static float ToFloat(TypedConstant c) => c.Value switch
    {
        float f => f,
        null => 0,
        var v => Convert.ToSingle(v, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string Describe(LocationInfo? location) =>
        location is null ? "elsewhere" : $"at line {location.LineSpan.Start.Line + 1}";

    private static string HintName(INamedTypeSymbol type)
    {
        var name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");
        var chars = name.Select(c => char.IsLetterOrDigit(c) || c == '.' || c == '_' ? c : '_').ToArray();
        return new string(chars) + ".g.cs";
    }
}
