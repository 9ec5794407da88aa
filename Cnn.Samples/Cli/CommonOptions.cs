using System.CommandLine;
using CnnGen.Checkpoints;
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
    /// <summary>The <c>--model</c> given; when none is given, the sample network the checkpoint was saved from
    /// (its metadata names the class), else the default.</summary>
    public static SampleNetworks.Entry? ModelFor(ParseResult parse, Option<string> model, string? checkpoint, bool trainableOnly)
    {
        bool given = parse.GetResult(model) is { Implicit: false };
        if (!given && checkpoint is not null && File.Exists(checkpoint))
        {
            try
            {
                string? network = Checkpoints.Checkpoint.ReadInfo(checkpoint).Network;
                var saved = SampleNetworks.All.FirstOrDefault(e => e.ClassName == network && (e.Trainable || !trainableOnly));
                if (saved is not null) return saved;
            }
            catch (CheckpointException)
            {
                // Loading the checkpoint reports what is wrong with it.
            }
        }
        return FindModel(parse.GetValue(model)!, trainableOnly);
    }

    public static SampleNetworks.Entry? FindModel(string name, bool trainableOnly)
    {
        var entry = SampleNetworks.Find(name);
        if (entry is not null && (entry.Trainable || !trainableOnly)) return entry;
        var known = SampleNetworks.All.Where(e => e.Trainable || !trainableOnly).Select(e => e.Name);
        Console.Error.WriteLine($"Unknown model '{name}'. Choose one of: {string.Join(", ", known)}.");
        return null;
    }
}
