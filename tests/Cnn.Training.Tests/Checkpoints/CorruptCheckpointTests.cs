using System.Buffers.Binary;
using System.Text;
using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

/// <summary>Broken files fail with a clear error and leave network and optimizer exactly as they were.</summary>
public class CorruptCheckpointTests
{
    private static (TempDirectory Dir, byte[] Bytes, long HeaderLength) SavedFile()
    {
        var dir = new TempDirectory();
        Checkpoint.Save(dir.File("good.safetensors"), CheckpointTests.Trained(1));
        var bytes = File.ReadAllBytes(dir.File("good.safetensors"));
        return (dir, bytes, (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
    }

    private static CheckpointException LoadFails(string path, string because)
    {
        INetwork net = CheckpointTests.Trained(2);
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, net, sgd));
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(0, sgd.StepCount);
        Assert.Contains(path, e.Message);
        Assert.True(e.Problem.Contains(because, StringComparison.Ordinal), $"expected '{because}' in: {e.Problem}");
        return e;
    }

    [Fact]
    public void TruncatedAnywhereFailsAndLeavesTheNetworkUntouched()
    {
        var (dir, bytes, header) = SavedFile();
        using var _ = dir;
        long[] cuts = [0, 3, 8, 9, 8 + header / 2, 8 + header, 8 + header + 5, bytes.Length / 2 + header / 2, bytes.Length - 1];
        foreach (long cut in cuts)
        {
            string path = dir.File($"cut{cut}.safetensors");
            File.WriteAllBytes(path, bytes[..(int)cut]);
            string expected = cut < 8 ? "truncated" : cut < 8 + header ? "truncated: header length" : "";
            LoadFails(path, expected);
        }
    }

    [Fact]
    public void TruncatedDataSaysSo()
    {
        var (dir, bytes, _) = SavedFile();
        using var __ = dir;
        string path = dir.File("short.safetensors");
        File.WriteAllBytes(path, bytes[..^4]);
        LoadFails(path, "truncated: tensor");
    }

    [Fact]
    public void HeaderThatIsNotJsonFails()
    {
        var (dir, bytes, _) = SavedFile();
        using var __ = dir;
        var broken = (byte[])bytes.Clone();
        broken[8] = (byte)'x';
        File.WriteAllBytes(dir.File("json.safetensors"), broken);
        LoadFails(dir.File("json.safetensors"), "header is not valid JSON");
    }

    [Fact]
    public void ImplausibleHeaderLengthFails()
    {
        var (dir, bytes, _) = SavedFile();
        using var __ = dir;
        var broken = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(broken, ulong.MaxValue - 3);
        File.WriteAllBytes(dir.File("len.safetensors"), broken);
        LoadFails(dir.File("len.safetensors"), "header length");
    }

    [Fact]
    public void ShiftedOffsetsAreCaught()
    {
        var (dir, bytes, header) = SavedFile();
        using var __ = dir;
        string json = Encoding.UTF8.GetString(bytes, 8, (int)header);
        // The first tensor's offsets [0, n] shifted to [4, n + 4]: right length, but a gap before it and an overlap after.
        int at = json.IndexOf("\"data_offsets\":[0,", StringComparison.Ordinal);
        Assert.True(at >= 0, json);
        string shifted = json.Remove(at, "\"data_offsets\":[0,".Length).Insert(at, "\"data_offsets\":[4,");
        int close = shifted.IndexOf(']', at);
        int end = int.Parse(shifted[(at + "\"data_offsets\":[4,".Length)..close]);
        shifted = shifted.Remove(at + "\"data_offsets\":[4,".Length, close - at - "\"data_offsets\":[4,".Length).Insert(at + "\"data_offsets\":[4,".Length, (end + 4).ToString());
        while (shifted.Length < json.Length) shifted += " ";
        Assert.Equal(json.Length, shifted.Length);
        var broken = (byte[])bytes.Clone();
        Encoding.UTF8.GetBytes(shifted).CopyTo(broken, 8);
        File.WriteAllBytes(dir.File("offsets.safetensors"), broken);
        LoadFails(dir.File("offsets.safetensors"), "leaving a gap after 0");
    }

    [Fact]
    public void FlippedDataByteFailsTheChecksum()
    {
        var (dir, bytes, _) = SavedFile();
        using var __ = dir;
        var broken = (byte[])bytes.Clone();
        broken[^7] ^= 0x40;
        File.WriteAllBytes(dir.File("flip.safetensors"), broken);
        LoadFails(dir.File("flip.safetensors"), "corrupted: tensor data has SHA-256");
    }

    [Fact]
    public void WrongDtypeFails()
    {
        var (dir, bytes, header) = SavedFile();
        using var __ = dir;
        string json = Encoding.UTF8.GetString(bytes, 8, (int)header).Replace("\"F32\"", "\"I32\"");
        var broken = (byte[])bytes.Clone();
        Encoding.UTF8.GetBytes(json).CopyTo(broken, 8);
        File.WriteAllBytes(dir.File("dtype.safetensors"), broken);
        LoadFails(dir.File("dtype.safetensors"), "has dtype I32; only F32 (and I64 for counters) is supported");
    }

    [Fact]
    public void GarbageFileFails()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.safetensors"), "this is not a checkpoint at all, just some text");
        LoadFails(dir.File("text.safetensors"), "header length");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("absent.safetensors"), new TinyNet()));
        Assert.Contains("cannot be read", e.Message);
    }
}
