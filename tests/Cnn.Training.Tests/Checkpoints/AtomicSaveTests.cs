using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

public class AtomicSaveTests
{
    [Fact]
    public void FailureWhileWritingKeepsTheOldFileAndLeavesNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        File.WriteAllText(path, "previous checkpoint");

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            throw new IOException("disk full");
        }));

        Assert.Equal("previous checkpoint", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void FailedCheckpointSaveKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        var net = CheckpointTests.Trained(1);
        Checkpoint.Save(path, net);
        var good = File.ReadAllBytes(path);

        // An optimizer stepped on a buffer of another size cannot be saved with this network.
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        sgd.Step(new float[3], new float[3]);
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, CheckpointTests.Trained(2), sgd));

        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void SavingReplacesTheOldFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        Checkpoint.Save(path, CheckpointTests.Trained(1));
        var second = CheckpointTests.Trained(2);
        Checkpoint.Save(path, second);
        INetwork loaded = new TinyNet();
        Checkpoint.Load(path, loaded);
        Assert.Equal(second.Parameters.ToArray(), loaded.Parameters.ToArray());
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void TargetThatCannotBeReplacedLeavesNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("taken");
        Directory.CreateDirectory(path);
        Assert.ThrowsAny<IOException>(() => Checkpoint.Save(path, CheckpointTests.Trained(1)));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
