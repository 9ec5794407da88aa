using CnnGen.Checkpoints;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

public class LoadMatchingTests
{
    [Fact]
    public void LoadsMatchingTensorsAndReportsTheRest()
    {
        using var dir = new TempDirectory();
        INetwork source = CheckpointTests.Trained(1);
        Checkpoint.Save(dir.File("tiny.safetensors"), source);

        INetwork target = new TinyNetFiveClasses(7);
        var before = target.Parameters.ToArray();
        var report = Checkpoint.LoadMatching(dir.File("tiny.safetensors"), target);

        var sameShape = target.Tensors.Where(t => source.Tensors.Any(s => s.Name == t.Name && s.Shape.SequenceEqual(t.Shape))).ToList();
        Assert.Equal(sameShape.Select(t => t.Name), report.Loaded);
        Assert.Equal(target.Tensors.Select(t => t.Name).Except(report.Loaded), report.Skipped);
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unused);
        Assert.NotEmpty(report.Loaded);
        Assert.NotEmpty(report.Skipped);
        Assert.Contains("network expects [5", report.Mismatches[0].ToString());

        foreach (var t in target.Tensors)
        {
            var now = target.Parameters.Slice(t.Offset, t.Length).ToArray();
            if (report.Loaded.Contains(t.Name))
                Assert.Equal(source.Parameter(t.Name).ToArray(), now);
            else
                Assert.Equal(before.AsSpan(t.Offset, t.Length).ToArray(), now);
        }
    }

    [Fact]
    public void ReportsMissingAndUnusedTensors()
    {
        using var dir = new TempDirectory();
        INetwork source = CheckpointTests.Trained(1);
        var tensors = source.Tensors.Skip(1)
            .Select(t => new NamedTensor(t.Name, t.Shape, source.Parameters.Slice(t.Offset, t.Length).ToArray()))
            .Append(new NamedTensor("head.weight", [2, 2], new float[4]))
            .ToList();
        CheckpointTests.Write(dir.File("partial.safetensors"), tensors);

        INetwork target = new TinyNet(3);
        var report = Checkpoint.LoadMatching(dir.File("partial.safetensors"), target);
        Assert.Equal([source.Tensors[0].Name], report.Missing);
        Assert.Equal(["head.weight"], report.Unused);
        Assert.Equal(source.Tensors.Skip(1).Select(t => t.Name), report.Loaded);
        Assert.Empty(report.Skipped);
        Assert.Contains("missing 1", report.ToString());
    }

    [Fact]
    public void BrokenFileChangesNothing()
    {
        using var dir = new TempDirectory();
        Checkpoint.Save(dir.File("tiny.safetensors"), CheckpointTests.Trained(1));
        var bytes = File.ReadAllBytes(dir.File("tiny.safetensors"));
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..^10]);
        INetwork target = new TinyNet(3);
        var before = target.Parameters.ToArray();
        Assert.Throws<CheckpointException>(() => Checkpoint.LoadMatching(dir.File("cut.safetensors"), target));
        Assert.Equal(before, target.Parameters.ToArray());
    }
}
