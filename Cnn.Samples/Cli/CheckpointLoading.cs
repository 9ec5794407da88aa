using CnnGen.Checkpoints;
using CnnGen.Samples.Networks;

namespace CnnGen.Samples.Cli;

/// <summary>Creates a sample network and loads its trained parameters, or says what went wrong.</summary>
internal static class CheckpointLoading
{
    public static (INetwork Network, CheckpointInfo Info)? Load(SampleNetworks.Entry entry, string? path, int threads)
    {
        path ??= CommonOptions.DefaultCheckpoint(entry.Name);
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"No checkpoint at {path}. Train one first: dotnet run --project Cnn.Samples -c Release -- train --model {entry.Name}");
            return null;
        }
        var network = entry.Create(0);
        network.Threads = threads;
        try
        {
            return (network, Checkpoint.Load(path, network));
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            Console.Error.WriteLine($"Cannot load {path} into {network.Name}: {e.Message}");
            return null;
        }
    }
}
