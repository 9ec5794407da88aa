using CnnGen.Checkpoints;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

/// <summary>A save killed mid-write leaves <c>.NAME.&lt;guid&gt;.tmp</c> beside the checkpoint; the next save of the same file removes it.</summary>
public class StaleTemporaryFileTests
{
    private const string Guid1 = "0123456789abcdef0123456789abcdef", Guid2 = "fedcba9876543210fedcba9876543210";

    [Fact]
    public void TheNextSaveRemovesTheTemporaryFilesOfThatNameOnly()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        string[] stale = [$".ckpt.safetensors.{Guid1}.tmp", $".ckpt.safetensors.{Guid2}.tmp"];
        string[] others =
        [
            $".other.safetensors.{Guid1}.tmp",          // another checkpoint's
            $".ckpt.safetensors.{Guid1[..31]}.tmp",      // 31 digits
            $".ckpt.safetensors.{Guid1.ToUpperInvariant()}.tmp", // not a name the writer makes
            $".ckpt.safetensors.{Guid1}.tmp.keep",
            $"ckpt.safetensors.{Guid1}.tmp",            // no leading dot
            $".ckpt.safetensors.{Guid1[..30]}xy.tmp",    // not hexadecimal
            $".x.ckpt.safetensors.{Guid1}.tmp",
        ];
        foreach (string name in stale.Concat(others)) File.WriteAllText(dir.File(name), "left by a killed run");

        Checkpoint.Save(path, CheckpointTests.Trained(1));

        var left = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(others.Append("ckpt.safetensors").Order(StringComparer.Ordinal), left);
        Assert.Equal("TinyNet", Checkpoint.ReadInfo(path).Network);
    }

    [Fact]
    public void ATemporaryFileAWriterStillHoldsIsLeftAlone()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        string live = dir.File($".ckpt.safetensors.{Guid1}.tmp");
        using (var writer = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            writer.WriteByte(1);
            Checkpoint.Save(path, CheckpointTests.Trained(1));
            Assert.True(File.Exists(live));
        }
        Checkpoint.Save(path, CheckpointTests.Trained(1));
        Assert.False(File.Exists(live));
    }

    [Fact]
    public void CheckingWritabilityLeavesTheExistingFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.safetensors");
        File.WriteAllText(path, "previous");

        AtomicFile.CheckWritable(path);
        AtomicFile.CheckWritable(dir.File(Path.Combine("new", "deeper", "ckpt.safetensors")));

        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Equal(["ckpt.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(dir.File("new"), "*", SearchOption.AllDirectories));
    }
}
