using System.CommandLine;
using CnnGen.Data;
using CnnGen.Samples.Networks;

namespace CnnGen.Samples.Cli;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<string> Model(bool trainableOnly) => new("--model", "-m")
    {
        Description = "Sample network: " + string.Join(", ", SampleNetworks.All.Where(e => e.Trainable || !trainableOnly).Select(e => e.Name)),
        DefaultValueFactory = _ => "lenet5",
    };

    public static Option<string> Data() => new("--data", "-d")
    {
        Description = "Directory with the four IDX files of Fashion-MNIST or MNIST (gzipped or not)",
        DefaultValueFactory = _ => FashionMnist.DefaultDirectory,
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Worker threads (results are deterministic for a given count)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<string?> Checkpoint(string description) => new("--checkpoint", "-c") { Description = description };

    public static string DefaultCheckpoint(string model) => Path.Combine("checkpoints", model + ".safetensors");

    /// <summary>The sample network, or null after printing the known names.</summary>
    public static SampleNetworks.Entry? FindModel(string name, bool trainableOnly)
    {
        var entry = SampleNetworks.Find(name);
        if (entry is not null && (entry.Trainable || !trainableOnly)) return entry;
        var known = SampleNetworks.All.Where(e => e.Trainable || !trainableOnly).Select(e => e.Name);
        Console.Error.WriteLine($"Unknown model '{name}'. Choose one of: {string.Join(", ", known)}.");
        return null;
    }
}
