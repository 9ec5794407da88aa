using System.Buffers.Binary;
using System.Text;
using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

/// <summary>Files a user may pass by mistake or that a broken run left behind: each is refused with a
/// <see cref="CheckpointException"/> naming the problem, on every path that reads a checkpoint, and nothing changes.</summary>
public class HostileCheckpointTests
{
    /// <summary>Every public way of reading a checkpoint; each must fail the same way and leave the network untouched.</summary>
    private static void EveryReaderRefuses(string path, string because)
    {
        INetwork net = CheckpointTests.Trained(7);
        var before = net.Parameters.ToArray();
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        Action[] readers =
        [
            () => SafeTensorsFile.Read(path),
            () => Checkpoint.ReadInfo(path),
            () => Checkpoint.Load(path, net),
            () => Checkpoint.Load(path, net, sgd),
            () => Checkpoint.LoadMatching(path, net),
        ];
        foreach (var read in readers)
        {
            var e = Assert.Throws<CheckpointException>(read);
            Assert.True(e.Problem.Contains(because, StringComparison.Ordinal), $"expected '{because}' in: {e.Problem}");
            Assert.StartsWith(path + ": ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(0, sgd.StepCount);
    }

    /// <summary>A safetensors file with the given JSON header (padded to 8 bytes) and data.</summary>
    private static byte[] RawFile(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header).ToList();
        while (json.Count % 8 != 0) json.Add((byte)' ');
        var bytes = new byte[8 + json.Count + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Count);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Count);
        return bytes;
    }

    [Fact]
    public void AHeaderWithInvalidUtf8IsNamedAsSuchNotAsATranscoderFailure()
    {
        using var dir = new TempDirectory();
        string path = dir.File("utf8.safetensors");
        Checkpoint.Save(path, CheckpointTests.Trained(1));
        var bytes = File.ReadAllBytes(path);
        // Inside the string "cnngen" (the format's value): still well-formed JSON, no longer UTF-8.
        int at = Encoding.ASCII.GetString(bytes).IndexOf("\"cnngen\"", StringComparison.Ordinal) + 1;
        bytes[at] = 0xFF;
        File.WriteAllBytes(path, bytes);

        EveryReaderRefuses(path, $"header is not valid UTF-8 (byte {at} of the file, 0xff)");
    }

    [Fact]
    public void AHeaderWithATruncatedUtf8SequenceIsRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("cut.safetensors");
        // "é" is C3 A9; C3 followed by a quote is an incomplete sequence.
        var bytes = RawFile("{\"__metadata__\":{\"a\":\"x\u00e9\"}}", []);
        int at = Array.IndexOf(bytes, (byte)0xC3);
        bytes[at + 1] = (byte)'"';
        bytes[at + 2] = (byte)' ';
        File.WriteAllBytes(path, bytes);

        EveryReaderRefuses(path, "header is not valid UTF-8");
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    public void ADeviceIsRefusedWithoutReadingIt(string device)
    {
        if (!File.Exists(device)) return; // not a Unix machine
        EveryReaderRefuses(device, "not a regular file");
    }

    [Fact]
    public void ADirectoryIsRefused()
    {
        using var dir = new TempDirectory();
        EveryReaderRefuses(dir.Path, "is a directory");
    }

    [Fact]
    public void AHeaderLengthBeyondTheFileIsRefusedBeforeAllocatingIt()
    {
        using var dir = new TempDirectory();
        string path = dir.File("long.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 90_000_000); // under the 100 MB limit, far beyond the file
        File.WriteAllBytes(path, bytes);

        long allocated = Allocations.Of(() => Assert.Throws<CheckpointException>(() => SafeTensorsFile.Read(path)));
        Assert.InRange(allocated, 0, 1_000_000);
        EveryReaderRefuses(path, "truncated: header length 90000000 but only 56 bytes follow");
    }

    [Fact]
    public void AShapeWhoseElementCountOverflowsIsTooLarge()
    {
        using var dir = new TempDirectory();
        string path = dir.File("overflow.safetensors");
        // 2 * 2^62 = 2^63 wraps to a negative count, and 4 times that to 0 bytes: it used to pass as an empty tensor.
        File.WriteAllBytes(path, RawFile("{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[2,4611686018427387904],\"data_offsets\":[0,0]}}", []));

        EveryReaderRefuses(path, "tensor conv1.weight shape [2, 4611686018427387904] is too large");
    }

    [Fact]
    public void AnEmptyShapeWithHugeDimensionsIsStillEmpty()
    {
        using var dir = new TempDirectory();
        string path = dir.File("empty.safetensors");
        File.WriteAllBytes(path, RawFile("{\"extra\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,0,4611686018427387904],\"data_offsets\":[0,0]}}", []));

        var file = SafeTensorsFile.Read(path);
        Assert.Equal(0, file.Tensors.Single().ElementCount);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "-infinity")]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(float value, string named)
    {
        using var dir = new TempDirectory();
        string path = dir.File("diverged.safetensors");
        var saved = CheckpointTests.Trained(1);
        var dense = saved.Tensors.Single(t => t.Name == "dense1.weight");
        saved.Parameters[dense.Offset + 5] = value;
        Checkpoint.Save(path, saved);

        EveryReaderRefusesAfterTheHeader(path, $"dense1.weight holds {named} at index 5; a checkpoint must hold finite values");
    }

    [Fact]
    public void NonFiniteOptimizerStateIsRefusedNamingTheTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("state.safetensors");
        var saved = CheckpointTests.Trained(1);
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        var gradients = new float[saved.ParameterCount];
        gradients[3] = float.PositiveInfinity;
        var parameters = saved.Parameters.ToArray();
        sgd.Step(parameters, gradients); // the momentum buffer takes the infinity; the network's own parameters stay finite
        Checkpoint.Save(path, saved, sgd);

        INetwork net = CheckpointTests.Trained(7);
        var before = net.Parameters.ToArray();
        var fresh = new Sgd(0.1f, momentum: 0.9f);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, net, fresh));
        Assert.Contains("optimizer.momentum_buffer.conv1.weight holds +infinity at index 3", e.Problem);
        Assert.Equal(before, net.Parameters.ToArray());
        Assert.Equal(0, fresh.StepCount);
        // Without the optimizer the parameters alone load.
        Checkpoint.Load(path, net);
        Assert.Equal(saved.Parameters.ToArray(), net.Parameters.ToArray());
    }

    /// <summary>As <see cref="EveryReaderRefuses"/>, for a problem in the values: the header alone still reads.</summary>
    private static void EveryReaderRefusesAfterTheHeader(string path, string because)
    {
        Assert.Equal("TinyNet", Checkpoint.ReadInfo(path).Network);
        INetwork net = CheckpointTests.Trained(7);
        var before = net.Parameters.ToArray();
        foreach (var read in new Action[] { () => Checkpoint.Load(path, net), () => Checkpoint.LoadMatching(path, net) })
        {
            var e = Assert.Throws<CheckpointException>(read);
            Assert.True(e.Problem.Contains(because, StringComparison.Ordinal), $"expected '{because}' in: {e.Problem}");
        }
        Assert.Equal(before, net.Parameters.ToArray());
    }
}
