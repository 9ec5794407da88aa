using CnnGen.Checkpoints;
using CnnGen.Samples.Networks;

namespace CnnGen.Samples.Cli;

/// <summary>Creates a sample network and loads its trained parameters, or says what went wrong.</summary>
internal static class CheckpointLoading
{
    public static (INetwork Network, CheckpointInfo Info)? Load(SampleNetworks.Entry entry, string? path, int threads)
    {
        path ??= CommonOptions.DefaultCheckpoint(entry.Name);
        if (Directory.Exists(path))
        {
            Console.Error.WriteLine($"{path} is a directory; name a checkpoint file, e.g. {Path.Combine(path, entry.Name + ".safetensors")}.");
            return null;
        }
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"No checkpoint at {path}. Train one first: dotnet run --project Cnn.Samples -c Release -- train --model {entry.Name}");
            return null;
        }
        var network = entry.Create(0);
        network.Threads = threads;
        try
        {
            var info = Checkpoint.Load(path, network);
            DataLoading.MeanOf(info); // a NaN or infinite mean would make every output NaN
            network.FixedWeights = true; // loaded to predict: the folds and transforms are prepared once, not checked per call
            return (network, info);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            Console.Error.WriteLine($"Cannot load {path} into {network.Name}: {(e is CheckpointException c ? c.Problem : ErrorText.Of(e))}");
            return null;
        }
    }

    /// <summary>Whether a checkpoint can be written at <paramref name="path"/> (checked before training, so a typo
    /// does not cost an epoch); prints why not.</summary>
    public static bool CanWrite(string path)
    {
        try
        {
            AtomicFile.CheckWritable(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Cannot write the checkpoint: {e.Message}");
            return false;
        }
    }
}
