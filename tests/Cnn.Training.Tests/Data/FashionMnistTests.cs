using CnnGen.Data;
using Xunit;

namespace CnnGen.Training.Tests.Data;

/// <summary>A fact that is skipped, saying why, when the Fashion-MNIST files are not installed.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory))
            Skip = $"Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory}; {DatasetFiles.InstallHint}";
    }
}

public class FashionMnistTests
{
    [FashionMnistFact]
    public void TestSetHasTenThousand28x28ImagesAndAThousandPerClass()
    {
        var test = FashionMnist.LoadTest();
        Assert.Equal(FashionMnist.TestCount, test.Count);
        Assert.Equal((1, 28, 28), (test.Channels, test.Height, test.Width));
        Assert.Equal(10, test.ClassCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Labels.Count(l => l == c)));
        Assert.InRange(test.Images.Min(), 0f, 0f);
        Assert.InRange(test.Images.Max(), 1f, 1f);
        Assert.Equal(new[] { 9, 2, 1, 1, 6 }, test.Labels[..5]);
    }

    [FashionMnistFact]
    public void TrainingSetMeanPixelIsAbout0Point286()
    {
        var train = FashionMnist.LoadTrain();
        Assert.Equal(FashionMnist.TrainCount, train.Count);
        Assert.InRange(train.ComputeMean(), 0.285f, 0.287f);
    }
}
