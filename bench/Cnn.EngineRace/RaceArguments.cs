using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CnnGen.EngineRace;

/// <summary>The command line: a mode, then <c>--name value</c> pairs.</summary>
internal sealed record RaceArguments(string Mode, string Directory, string? Engine, string? Model, int Threads, int Repeats)
{
    private static readonly string[] Engines = ["cnngen", "onnx", "libtorch"];

    public static bool TryParse(string[] args, [NotNullWhen(true)] out RaceArguments? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (args.Length == 0 || args[0] is not ("save" or "run" or "peak" or "state"))
        {
            error = args.Length == 0 ? "no mode given" : $"unknown mode '{args[0]}', expected save, run, peak or state";
            return false;
        }
        var options = new Dictionary<string, string>();
        for (int i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                error = $"expected '--option value', got '{args[i]}'";
                return false;
            }
            options[args[i][2..]] = args[i + 1];
        }
        error = Unknown(options, args[0] switch { "save" => ["dir"], "peak" => ["threads"], "state" => [], _ => ["dir", "engine", "model", "threads", "repeats"] });
        if (error is not null) return false;
        if (args[0] == "state")
        {
            parsed = new RaceArguments("state", "", null, null, 2, 1);
            return true;
        }
        if (args[0] == "peak")
        {
            if (TryPositive(options, "threads", 1, out int peakThreads, out error)) parsed = new RaceArguments("peak", "", null, null, peakThreads, 1);
            return parsed is not null;
        }
        if (!options.TryGetValue("dir", out var directory))
        {
            error = "--dir is required";
            return false;
        }
        if (args[0] == "save")
        {
            parsed = new RaceArguments("save", directory, null, null, 1, 1);
            return true;
        }
        string engine = options.GetValueOrDefault("engine", ""), model = options.GetValueOrDefault("model", "");
        if (!Engines.Contains(engine)) error = $"unknown engine '{engine}', expected {string.Join(", ", Engines)}";
        else if (RaceModel.Find(model) is null) error = $"unknown model '{model}', expected {string.Join(", ", RaceModel.All.Select(m => m.Name))}";
        else if (!TryPositive(options, "threads", 1, out int threads, out error)) { }
        else if (!TryPositive(options, "repeats", 5, out int repeats, out error)) { }
        else parsed = new RaceArguments("run", directory, engine, model, threads, repeats);
        return parsed is not null;
    }

    private static string? Unknown(Dictionary<string, string> options, string[] known) =>
        options.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown ? $"unknown option '--{unknown}'" : null;

    private static bool TryPositive(Dictionary<string, string> options, string name, int fallback, out int value, [NotNullWhen(false)] out string? error)
    {
        error = null;
        value = fallback;
        if (!options.TryGetValue(name, out var text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0) return true;
        error = $"--{name} must be a positive whole number, got '{text}'";
        return false;
    }
}
