using System.Globalization;

namespace CnnGen.Samples.Cli;

/// <summary>
/// Checks numeric options before a command does any work, shared by all commands: each check that fails adds a
/// sentence naming the option, the value given and what it must be; <see cref="Passed"/> prints them on one line.
/// </summary>
/// <example><c>if (!new OptionChecks().AtLeast("--epochs", epochs, 1).Positive("--lr", rate).Passed()) return 2;</c></example>
internal sealed class OptionChecks
{
    /// <summary>More worker threads than this is a typo, not a plan.</summary>
    public const int MaxThreads = 256;

    private readonly List<string> _problems = [];

    public OptionChecks AtLeast(string option, int value, int minimum)
    {
        if (value < minimum) _problems.Add($"{option} must be at least {minimum}, not {value}.");
        return this;
    }

    public OptionChecks AtLeast(string option, int? value, int minimum) => value is int given ? AtLeast(option, given, minimum) : this;

    public OptionChecks Threads(string option, int value)
    {
        if (value < 1 || value > MaxThreads) _problems.Add($"{option} must be between 1 and {MaxThreads}, not {value}.");
        return this;
    }

    /// <summary>A finite number above zero (a learning rate).</summary>
    public OptionChecks Positive(string option, float value)
    {
        if (!float.IsFinite(value) || value <= 0) _problems.Add($"{option} must be a finite number above 0, not {Text(value)}.");
        return this;
    }

    /// <summary>A finite number of at least zero (weight decay).</summary>
    public OptionChecks NonNegative(string option, float value)
    {
        if (!float.IsFinite(value) || value < 0) _problems.Add($"{option} must be a finite number of at least 0, not {Text(value)}.");
        return this;
    }

    /// <summary>A number in [0, 1) (momentum).</summary>
    public OptionChecks Fraction(string option, float value)
    {
        if (!(value >= 0 && value < 1)) _problems.Add($"{option} must be at least 0 and below 1, not {Text(value)}.");
        return this;
    }

    /// <summary>True when every check passed; otherwise prints the problems on one line to standard error.</summary>
    public bool Passed()
    {
        if (_problems.Count == 0) return true;
        Console.Error.WriteLine(string.Join(" ", _problems));
        return false;
    }

    private static string Text(float value) => value.ToString(CultureInfo.InvariantCulture);
}
