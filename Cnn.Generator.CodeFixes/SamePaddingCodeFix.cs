using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace CnnGen.Generator.CodeFixes;

/// <summary>
/// CNN0010 (a convolution kernel larger than its padded input) and CNN0012 (padding that reaches the kernel size):
/// sets the convolution's padding to dilation * (kernel - 1) / 2, the padding that keeps the output the size of the input.
/// Offered for odd kernels only, the ones such a padding exists for; pools get no fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SamePaddingCodeFix)), Shared]
public sealed class SamePaddingCodeFix : CodeFixProvider
{
    private const string ConvAttribute = "CnnGen.ConvAttribute";
    private const string PaddingProperty = "Padding";
    private const string DilationProperty = "Dilation";

    public override ImmutableArray<string> FixableDiagnosticIds =>
        ImmutableArray.Create(DiagnosticIds.KernelDoesNotFit, DiagnosticIds.PaddingReachesKernel);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var attribute = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true)
                .AncestorsAndSelf().OfType<AttributeSyntax>().FirstOrDefault();
            if (attribute is null || !IsConvolution(attribute, model, context.CancellationToken)) continue;
            if (KernelOf(attribute, model, context.CancellationToken) is not int kernel || kernel < 1 || kernel % 2 == 0) continue;
            if (DilationOf(attribute, model, context.CancellationToken) is not int dilation || dilation < 1) continue;
            int padding = dilation * (kernel - 1) / 2;
            context.RegisterCodeFix(
                CodeAction.Create($"Set Padding = {padding}, which keeps the input size",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(attribute, WithPadding(attribute, padding)))),
                    equivalenceKey: nameof(SamePaddingCodeFix)),
                diagnostic);
        }
    }

    private static bool IsConvolution(AttributeSyntax attribute, SemanticModel model, CancellationToken cancellation) =>
        model.GetSymbolInfo(attribute, cancellation).Symbol?.ContainingType?.ToDisplayString() == ConvAttribute;

    /// <summary>The kernel size: the first positional argument, when it is a constant.</summary>
    private static int? KernelOf(AttributeSyntax attribute, SemanticModel model, CancellationToken cancellation)
    {
        var first = attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)
                    ?? attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == "kernel");
        if (first is null) return null;
        var value = model.GetConstantValue(first.Expression, cancellation);
        return value.HasValue && value.Value is int kernel ? kernel : null;
    }

    /// <summary>The dilation: 1 unless a constant <c>Dilation = d</c> is given; null when it is not a constant.</summary>
    private static int? DilationOf(AttributeSyntax attribute, SemanticModel model, CancellationToken cancellation)
    {
        var named = attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == DilationProperty);
        if (named is null) return 1;
        var value = model.GetConstantValue(named.Expression, cancellation);
        return value.HasValue && value.Value is int dilation ? dilation : null;
    }

    /// <summary>The attribute with <c>Padding = padding</c>: the existing named argument's value replaced, or one added.</summary>
    private static AttributeSyntax WithPadding(AttributeSyntax attribute, int padding)
    {
        var value = SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(padding));
        var arguments = attribute.ArgumentList!;
        var existing = arguments.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == PaddingProperty);
        if (existing is not null)
            return attribute.ReplaceNode(existing.Expression, value.WithTriviaFrom(existing.Expression));
        var named = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(PaddingProperty)), null, value);
        return attribute.WithArgumentList(arguments.AddArguments(named)).WithAdditionalAnnotations(Formatter.Annotation);
    }
}
