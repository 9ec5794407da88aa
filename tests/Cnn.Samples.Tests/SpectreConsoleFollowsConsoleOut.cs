using System.Runtime.CompilerServices;
using System.Text;
using Spectre.Console;

namespace CnnGen.Samples.Tests;

/// <summary>
/// Spectre.Console's <see cref="AnsiConsole"/> binds to <see cref="Console.Out"/> as it is when first used. The
/// command tests redirect <see cref="Console.Out"/> per test, so whichever test used it first would keep receiving
/// every later table. Pointing it once, before any test, at a writer that forwards to the current
/// <see cref="Console.Out"/> makes the tables land in the test that prints them, in any order.
/// </summary>
internal static class SpectreConsoleFollowsConsoleOut
{
#pragma warning disable CA2255 // a module initializer in a test assembly: it must run before any test touches AnsiConsole
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install() =>
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(new CurrentConsoleOut()) });

    /// <summary>Writes wherever <see cref="Console.Out"/> points at the moment of writing.</summary>
    private sealed class CurrentConsoleOut : TextWriter
    {
        public override Encoding Encoding => Console.Out.Encoding;

        public override void Write(char value) => Console.Out.Write(value);

        public override void Write(string? value) => Console.Out.Write(value);

        public override void WriteLine(string? value) => Console.Out.WriteLine(value);

        public override void Flush() => Console.Out.Flush();
    }
}
