using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Source text with one <c>[|...|]</c> marker around the span a diagnostic must point at.</summary>
internal sealed record Markup(string Source, TextSpan Span, LinePosition Start)
{
    public static Markup Parse(string markup)
    {
        int open = markup.IndexOf("[|", StringComparison.Ordinal);
        int close = markup.IndexOf("|]", StringComparison.Ordinal);
        if (open < 0 || close < open || markup.IndexOf("[|", open + 2, StringComparison.Ordinal) >= 0)
            throw new ArgumentException("Markup needs exactly one [|...|] marker.", nameof(markup));
        string source = markup.Remove(close, 2).Remove(open, 2);
        var span = new TextSpan(open, close - open - 2);
        var start = SourceText.From(source).Lines.GetLinePosition(open);
        return new Markup(source, span, start);
    }
}
