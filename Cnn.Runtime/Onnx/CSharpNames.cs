namespace CnnGen.Onnx;

/// <summary>Checks the class and namespace names an import writes into C#.</summary>
public static class CSharpNames
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while", "record", "var", "dynamic",
    };

    /// <summary>An ASCII identifier: a letter or '_', then letters, digits and '_'; not a keyword.</summary>
    public static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !Keywords.Contains(name);

    public static void CheckClass(string name)
    {
        if (!IsIdentifier(name))
            throw new ArgumentException($"class name '{name}' is not a C# identifier (letters, digits and '_', not starting with a digit, not a keyword)");
    }

    public static void CheckNamespace(string name)
    {
        if (string.IsNullOrEmpty(name) || !name.Split('.').All(IsIdentifier))
            throw new ArgumentException($"namespace '{name}' is not a C# namespace (identifiers joined by dots, as in MyApp.Networks)");
    }
}
