namespace CnnGen.Generator.Diagnostics;

/// <summary>Where a diagnostic is explained: its row of the README's diagnostics table, e.g. <c>README.md#cnn0001</c>.</summary>
internal static class HelpLink
{
    public const string Document = "README.md";

    /// <summary>The link for a diagnostic ID: the README's anchor named after the ID in lower case.</summary>
    public static string For(string id) => $"{Document}#{id.ToLowerInvariant()}";
}
