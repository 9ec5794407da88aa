namespace CnnGen.Data;

/// <summary>A data file that cannot be used: its message names the file and the problem.</summary>
public sealed class DatasetException : IOException
{
    public DatasetException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
