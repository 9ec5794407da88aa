namespace CnnGen.Data;

/// <summary>Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, 60,000 for training and 10,000 for testing.</summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const int ClassCount = 10;
    public const int TrainCount = 60_000;
    public const int TestCount = 10_000;

    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Both sets, from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>).</summary>
    public static (Dataset Train, Dataset Test) Load(string? directory = null)
    {
        var files = DatasetFiles.Find(directory ?? DefaultDirectory);
        return (Dataset.LoadIdx(files.TrainImages, files.TrainLabels, ClassCount),
                Dataset.LoadIdx(files.TestImages, files.TestLabels, ClassCount));
    }

    public static Dataset LoadTrain(string? directory = null)
    {
        string dir = directory ?? DefaultDirectory;
        return Dataset.LoadIdx(DatasetFiles.Locate(dir, DatasetFiles.TrainImagesName), DatasetFiles.Locate(dir, DatasetFiles.TrainLabelsName), ClassCount);
    }

    public static Dataset LoadTest(string? directory = null)
    {
        string dir = directory ?? DefaultDirectory;
        return Dataset.LoadIdx(DatasetFiles.Locate(dir, DatasetFiles.TestImagesName), DatasetFiles.Locate(dir, DatasetFiles.TestLabelsName), ClassCount);
    }
}
