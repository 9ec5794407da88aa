using System.Buffers.Binary;
using System.Text;
using CnnGen.Checkpoints;
using CnnGen.Training.Tests.Support;
using CnnGen.Training.Tests.Training;
using Xunit;

namespace CnnGen.Training.Tests.BatchNorm;

/// <summary>Running statistics are state: saved, loaded and checked with the parameters, never half-loaded.</summary>
public class BatchNormCheckpointTests
{
    /// <summary>A network with non-trivial parameters and running statistics (one training-mode pass).</summary>
    private static TrainLeNetBatchNorm Trained(int seed)
    {
        var net = new TrainLeNetBatchNorm(seed) { Training = true };
        var data = SyntheticData.Make(16, seed);
        net.ComputeGradients(data.Images, data.Labels, 16);
        net.ComputeGradients(data.Images, data.Labels, 16);
        net.Training = false;
        return net;
    }

    private static float[] Outputs(INetwork net)
    {
        var data = SyntheticData.Make(4, seed: 99);
        var outputs = new float[4 * net.OutputLength];
        net.Forward(data.Images, outputs, 4);
        return outputs;
    }

    [Fact]
    public void StateTensorsRoundTripBitExact()
    {
        using var dir = new TempDirectory();
        var saved = Trained(1);
        Assert.Equal(2f, saved.State[12]); // bn1.num_batches_tracked after two training passes
        Checkpoint.Save(dir.File("bn.safetensors"), saved);

        var loaded = new TrainLeNetBatchNorm(2);
        Checkpoint.Load(dir.File("bn.safetensors"), loaded);
        Assert.Equal(Bits.Of(saved.State), Bits.Of(loaded.State));
        Assert.Equal(Bits.Of(saved.Parameters), Bits.Of(loaded.Parameters));
        Assert.Equal(Outputs(saved), Outputs(loaded));

        var names = SafeTensorsFile.Read(dir.File("bn.safetensors")).Tensors.Select(t => t.Name).ToHashSet();
        Assert.Contains("bn3.running_var", names);
        Assert.Contains("bn4.num_batches_tracked", names);
    }

    [Fact]
    public void ACheckpointWithoutRunningStatisticsIsRefusedAndChangesNothing()
    {
        using var dir = new TempDirectory();
        // A plain LeNet-5 checkpoint has none of the BatchNorm tensors.
        Checkpoint.Save(dir.File("plain.safetensors"), new TrainLeNet(1));
        var net = Trained(3);
        var parameters = Bits.Of(net.Parameters);
        var state = Bits.Of(net.State);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("plain.safetensors"), net));
        Assert.Contains("bn1.weight is missing from the checkpoint", e.Message);
        Assert.Equal(parameters, Bits.Of(net.Parameters));
        Assert.Equal(state, Bits.Of(net.State));

        // Partial loading loads the convolutions and reports every BatchNorm tensor, state included, as missing.
        var report = Checkpoint.LoadMatching(dir.File("plain.safetensors"), net);
        Assert.Contains("conv1.weight", report.Loaded);
        Assert.Contains("bn1.running_mean", report.Missing);
        Assert.Contains("bn4.num_batches_tracked", report.Missing);
        Assert.Equal(state, Bits.Of(net.State));
    }

    [Fact]
    public void LoadMatchingLoadsStateTensors()
    {
        using var dir = new TempDirectory();
        var saved = Trained(4);
        Checkpoint.Save(dir.File("bn.safetensors"), saved);
        var net = new TrainLeNetBatchNorm(5);
        var report = Checkpoint.LoadMatching(dir.File("bn.safetensors"), net);
        Assert.Empty(report.Missing);
        Assert.Contains("bn2.running_var", report.Loaded);
        Assert.Equal(Bits.Of(saved.State), Bits.Of(net.State));
    }

    [Fact]
    public void PyTorchsInt64BatchCountersLoad()
    {
        // PyTorch saves num_batches_tracked as int64: write such a file by hand and load it.
        using var dir = new TempDirectory();
        var source = Trained(6);
        var tensors = new List<(string Name, string DType, int[] Shape, byte[] Data)>();
        foreach (var t in TrainLeNetBatchNorm.Tensors)
            tensors.Add((t.Name, "F32", t.Shape.ToArray(), FloatBytes(source.Parameters.Slice(t.Offset, t.Length))));
        foreach (var t in TrainLeNetBatchNorm.StateTensors)
        {
            if (t.Name.EndsWith(".num_batches_tracked"))
            {
                var data = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(data, 1234);
                tensors.Add((t.Name, "I64", [], data));
            }
            else tensors.Add((t.Name, "F32", t.Shape.ToArray(), FloatBytes(source.State.Slice(t.Offset, t.Length))));
        }
        string path = dir.File("pytorch.safetensors");
        File.WriteAllBytes(path, SafeTensors(tensors));

        var net = new TrainLeNetBatchNorm(7);
        Checkpoint.Load(path, net);
        Assert.Equal(1234f, net.State[12]);
        Assert.Equal(Outputs(source), Outputs(net));
    }

    private static byte[] FloatBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>The safetensors layout: 8-byte header length, JSON header padded with spaces to 8 bytes, data.</summary>
    private static byte[] SafeTensors(List<(string Name, string DType, int[] Shape, byte[] Data)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in tensors)
        {
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}},");
            offset += data.Length;
        }
        header.Length--;
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        using var stream = new MemoryStream();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        stream.Write(length);
        stream.Write(headerBytes);
        foreach (var t in tensors) stream.Write(t.Data);
        return stream.ToArray();
    }
}
