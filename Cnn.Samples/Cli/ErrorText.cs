namespace CnnGen.Samples.Cli;

/// <summary>An exception's message as a user should read it: one line, without the " (Parameter 'name')" that
/// <see cref="ArgumentException"/> appends for programmers.</summary>
internal static class ErrorText
{
    public static string Of(Exception e)
    {
        string message = e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
        return string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
