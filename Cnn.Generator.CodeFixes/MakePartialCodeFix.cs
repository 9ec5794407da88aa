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

namespace CnnGen.Generator.CodeFixes;

/// <summary>CNN0003: adds <c>partial</c> to every declaration of the network class that lacks it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create(DiagnosticIds.NotPartial);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var declaration = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?
                .AncestorsAndSelf().OfType<ClassDeclarationSyntax>().FirstOrDefault();
            if (declaration is null) continue;
            string name = declaration.Identifier.ValueText;
            context.RegisterCodeFix(
                CodeAction.Create($"Make '{name}' partial",
                    cancellation => MakePartialAsync(context.Document, declaration, cancellation),
                    equivalenceKey: nameof(MakePartialCodeFix)),
                diagnostic);
        }
    }

    private static async Task<Solution> MakePartialAsync(Document document, ClassDeclarationSyntax declaration, CancellationToken cancellation)
    {
        var solution = document.Project.Solution;
        var model = await document.GetSemanticModelAsync(cancellation).ConfigureAwait(false);
        var type = model?.GetDeclaredSymbol(declaration, cancellation);
        var declarations = type is null
            ? ImmutableArray.Create(declaration.GetReference())
            : type.DeclaringSyntaxReferences;
        foreach (var group in declarations.GroupBy(r => r.SyntaxTree))
        {
            var target = solution.GetDocument(group.Key);
            if (target is null) continue;
            var root = await group.Key.GetRootAsync(cancellation).ConfigureAwait(false);
            var nodes = group.Select(r => r.GetSyntax(cancellation)).OfType<ClassDeclarationSyntax>()
                .Where(c => !c.Modifiers.Any(SyntaxKind.PartialKeyword));
            root = root.ReplaceNodes(nodes, (original, _) => WithPartial(original));
            solution = solution.WithDocumentSyntaxRoot(target.Id, root);
        }
        return solution;
    }

    /// <summary>The declaration with <c>partial</c> last among its modifiers, just before <c>class</c>.</summary>
    private static ClassDeclarationSyntax WithPartial(ClassDeclarationSyntax declaration)
    {
        var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (declaration.Modifiers.Count > 0)
            return declaration.AddModifiers(partial);
        // With no modifiers, the keyword's leading trivia (indentation, a line break after attributes) moves to partial.
        var keyword = declaration.Keyword;
        return declaration
            .WithKeyword(keyword.WithLeadingTrivia(SyntaxTriviaList.Empty))
            .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(keyword.LeadingTrivia)));
    }
}
