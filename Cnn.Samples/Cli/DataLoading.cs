using System.Globalization;
using CnnGen.Checkpoints;
using CnnGen.Data;

namespace CnnGen.Samples.Cli;

/// <summary>Loads the datasets and applies seed 002's preprocessing: the training set's mean pixel is subtracted from
/// training and test images alike, and recorded in checkpoints so evaluation and prediction subtract the same value.</summary>
internal static class DataLoading
{
    public const string MeanKey = "input_mean";

    /// <summary>Loads both sets, or prints what is wrong (missing files with the install command, a bad file) and returns null.</summary>
    public static (Dataset Train, Dataset Test)? Load(string directory)
    {
        try
        {
            return FashionMnist.Load(directory);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or DatasetException)
        {
            Console.Error.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>Whether <paramref name="data"/>'s images have the network's shape; prints the mismatch when not.</summary>
    public static bool Fits(INetwork network, Dataset data, string which)
    {
        if (data.Channels == network.InputChannels && data.Height == network.InputHeight && data.Width == network.InputWidth) return true;
        Console.Error.WriteLine($"{network.Name} takes {network.InputChannels}x{network.InputHeight}x{network.InputWidth} images, " +
                                $"but the {which} images are {data.Channels}x{data.Height}x{data.Width}.");
        return false;
    }

    public static string Format(float mean) => mean.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The mean recorded in a checkpoint (0 when it has none: the network was trained on raw [0, 1] pixels).</summary>
    /// <exception cref="CheckpointException">The recorded mean is not a finite number.</exception>
    public static float MeanOf(CheckpointInfo info)
    {
        if (!info.Metadata.TryGetValue(MeanKey, out var text)) return 0f;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var mean) || !float.IsFinite(mean))
            throw new CheckpointException(info.Path, $"metadata {MeanKey} is '{text}', not a finite number");
        return mean;
    }
}
