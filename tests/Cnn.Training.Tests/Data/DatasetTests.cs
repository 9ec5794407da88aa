using CnnGen.Data;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Data;

public class DatasetTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadIdxReadsImagesAndLabels(bool gzip)
    {
        using var dir = new TempDirectory();
        IdxFiles.WriteImages(dir.File("img"), 3, 2, 2, i => (byte)(i * 10), gzip);
        IdxFiles.WriteLabels(dir.File("lbl"), [2, 0, 1], gzip);

        var data = Dataset.LoadIdx(dir.File("img"), dir.File("lbl"), classCount: 3);

        Assert.Equal(3, data.Count);
        Assert.Equal((1, 2, 2), (data.Channels, data.Height, data.Width));
        Assert.Equal(4, data.ImageLength);
        Assert.Equal(3, data.ClassCount);
        Assert.Equal([2, 0, 1], data.Labels);
        Assert.Equal([80 / 255f, 90 / 255f, 100 / 255f, 110 / 255f], data.Image(2).ToArray());
    }

    [Fact]
    public void FourDimensionalImagesHaveChannels()
    {
        using var dir = new TempDirectory();
        IdxFiles.Write(dir.File("img"), IdxFiles.Bytes(0x08, [2, 3, 2, 2], new byte[24]), gzip: false);
        IdxFiles.WriteLabels(dir.File("lbl"), [0, 1]);
        var data = Dataset.LoadIdx(dir.File("img"), dir.File("lbl"), 2);
        Assert.Equal((3, 2, 2), (data.Channels, data.Height, data.Width));
    }

    [Fact]
    public void CountMismatchNamesBothCounts()
    {
        using var dir = new TempDirectory();
        IdxFiles.WriteImages(dir.File("img"), 3, 2, 2, _ => 0);
        IdxFiles.WriteLabels(dir.File("lbl"), [0, 1]);
        var e = Assert.Throws<DatasetException>(() => Dataset.LoadIdx(dir.File("img"), dir.File("lbl"), 3));
        Assert.Equal(dir.File("lbl"), e.FilePath);
        Assert.Contains("2 labels", e.Message);
        Assert.Contains("3 images", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeNamesFileIndexAndValue()
    {
        using var dir = new TempDirectory();
        IdxFiles.WriteImages(dir.File("img"), 4, 1, 1, _ => 0);
        IdxFiles.WriteLabels(dir.File("lbl"), [0, 1, 10, 12]);
        var e = Assert.Throws<DatasetException>(() => Dataset.LoadIdx(dir.File("img"), dir.File("lbl"), 10));
        Assert.Contains(dir.File("lbl"), e.Message);
        Assert.Contains("label 2 is 10", e.Message);
        Assert.Contains("[0, 10)", e.Message);
    }

    [Fact]
    public void SubsetCopiesTheFirstImages()
    {
        var data = Numbered(5, classes: 3);
        var subset = data.Subset(2);
        Assert.Equal(2, subset.Count);
        Assert.Equal(data.Labels[..2], subset.Labels);
        Assert.Equal(data.Image(1).ToArray(), subset.Image(1).ToArray());
        subset.Images[0] = 99;
        Assert.NotEqual(99, data.Images[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset(6));
    }

    [Fact]
    public void WhereKeepsOrderAndRelabelsInListedOrder()
    {
        var data = Numbered(9, classes: 3); // labels 0,1,2,0,1,2,...
        var picked = data.Where(2, 0);
        Assert.Equal(2, picked.ClassCount);
        Assert.Equal(6, picked.Count);
        Assert.Equal([1, 0, 1, 0, 1, 0], picked.Labels);
        // Image i of the original has every pixel equal to i.
        Assert.Equal([0f, 2f, 3f, 5f, 6f, 8f], Enumerable.Range(0, 6).Select(i => picked.Image(i)[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Where(3));
        Assert.Throws<ArgumentException>(() => data.Where(1, 1));
    }

    [Fact]
    public void MeanIsOneScalarAndSubtractingItCentresTheData()
    {
        var data = new Dataset([0f, 0.5f, 1f, 0.5f, 0.25f, 0.75f], [0, 1], 1, 1, 3, 2);
        float mean = data.ComputeMean();
        Assert.Equal(0.5f, mean);
        data.SubtractMean(mean);
        Assert.Equal([-0.5f, 0f, 0.5f, 0f, -0.25f, 0.25f], data.Images);
        Assert.Equal(0f, data.ComputeMean(), 6);
    }

    [Fact]
    public void MissingFileNamesTheFileAndHowToInstall()
    {
        using var dir = new TempDirectory();
        IdxFiles.WriteImages(dir.File(DatasetFiles.TrainImagesName + ".gz"), 1, 1, 1, _ => 0, gzip: true);
        var e = Assert.Throws<FileNotFoundException>(() => DatasetFiles.Find(dir.Path));
        Assert.Contains(DatasetFiles.TrainLabelsName, e.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);

        var missingDir = Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadTest(dir.File("nowhere")));
        Assert.Contains("does not exist", missingDir.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", missingDir.Message);
    }

    [Fact]
    public void FindPrefersPlainFilesAndAcceptsGzipped()
    {
        using var dir = new TempDirectory();
        foreach (var name in new[] { DatasetFiles.TrainImagesName, DatasetFiles.TestImagesName, DatasetFiles.TestLabelsName })
            File.WriteAllBytes(dir.File(name + ".gz"), []);
        File.WriteAllBytes(dir.File(DatasetFiles.TrainLabelsName), []);
        File.WriteAllBytes(dir.File(DatasetFiles.TrainLabelsName + ".gz"), []);
        var files = DatasetFiles.Find(dir.Path);
        Assert.Equal(dir.File(DatasetFiles.TrainImagesName + ".gz"), files.TrainImages);
        Assert.Equal(dir.File(DatasetFiles.TrainLabelsName), files.TrainLabels);
    }

    /// <summary>Image i is 1x2x2 with every pixel i; label i % classes.</summary>
    internal static Dataset Numbered(int count, int classes, int height = 2, int width = 2)
    {
        int length = height * width;
        var images = new float[count * length];
        for (int i = 0; i < images.Length; i++) images[i] = i / length;
        return new Dataset(images, Enumerable.Range(0, count).Select(i => i % classes).ToArray(), 1, height, width, classes);
    }
}
