namespace CnnGen.Data;

/// <summary>The four files of an MNIST-style dataset (training and test images and labels), gzipped or not.</summary>
public sealed record DatasetFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels)
{
    public const string TrainImagesName = "train-images-idx3-ubyte";
    public const string TrainLabelsName = "train-labels-idx1-ubyte";
    public const string TestImagesName = "t10k-images-idx3-ubyte";
    public const string TestLabelsName = "t10k-labels-idx1-ubyte";

    /// <summary>How to get the files when they are missing.</summary>
    public const string InstallHint = "install them with: apt-get install dataset-fashion-mnist";

    /// <summary>Finds the four standard files in <paramref name="directory"/>; throws
    /// <see cref="FileNotFoundException"/> naming the first missing one.</summary>
    public static DatasetFiles Find(string directory) => new(
        Locate(directory, TrainImagesName),
        Locate(directory, TrainLabelsName),
        Locate(directory, TestImagesName),
        Locate(directory, TestLabelsName));

    /// <summary>The path of <paramref name="baseName"/> or <paramref name="baseName"/>.gz in
    /// <paramref name="directory"/>, preferring the uncompressed file.</summary>
    public static string Locate(string directory, string baseName)
    {
        string plain = Path.Combine(directory, baseName);
        if (File.Exists(plain)) return plain;
        string gzipped = plain + ".gz";
        if (File.Exists(gzipped)) return gzipped;
        string where = Directory.Exists(directory) ? $"in {directory}"
            : File.Exists(directory) ? $"because {directory} is a file, not a directory"
            : $"because {directory} does not exist";
        throw new FileNotFoundException($"{baseName}(.gz) not found {where}; {InstallHint}", gzipped);
    }
}
