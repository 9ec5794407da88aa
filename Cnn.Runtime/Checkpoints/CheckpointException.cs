namespace CnnGen.Checkpoints;

/// <summary>A checkpoint that cannot be read or does not fit the network: the message names the file and the problem.</summary>
public sealed class CheckpointException : IOException
{
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
