using CnnGen.Data;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Data;

public class DataDirectoryTests
{
    [Fact]
    public void AFileGivenAsTheDataDirectoryIsNamedAsAFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("notes"), "not a dataset");

        var e = Assert.Throws<FileNotFoundException>(() => DatasetFiles.Find(dir.File("notes")));

        Assert.Equal($"train-images-idx3-ubyte(.gz) not found because {dir.File("notes")} is a file, not a directory; {DatasetFiles.InstallHint}", e.Message);
    }

    [Fact]
    public void AMissingDirectoryIsNamedAsMissing()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => DatasetFiles.Find(dir.File("absent")));
        Assert.StartsWith($"train-images-idx3-ubyte(.gz) not found because {dir.File("absent")} does not exist; ", e.Message);
    }
}
