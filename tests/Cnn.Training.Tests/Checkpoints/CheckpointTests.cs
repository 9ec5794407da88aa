using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using CnnGen.Training.Tests.Support;
using Xunit;

namespace CnnGen.Training.Tests.Checkpoints;

public class CheckpointTests
{
    /// <summary>A TinyNet whose parameters (biases too) are all non-zero and distinct.</summary>
    internal static INetwork Trained(int seed)
    {
        INetwork net = new TinyNet(seed);
        var random = new Random(seed);
        var p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = (float)(random.NextDouble() * 2 - 1);
        return net;
    }

    [Fact]
    public void RoundTripIsBitExact()
    {
        using var dir = new TempDirectory();
        var saved = Trained(1);
        saved.Parameters[0] = float.Epsilon;
        saved.Parameters[1] = -0f;
        saved.Parameters[2] = 1.17549435e-38f;
        Checkpoint.Save(dir.File("a.safetensors"), saved);

        INetwork loaded = new TinyNet(2);
        var info = Checkpoint.Load(dir.File("a.safetensors"), loaded);

        Assert.Equal(
            saved.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits),
            loaded.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal("TinyNet", info.Network);
        Assert.True(info.ArchitectureMatches);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        using var dir = new TempDirectory();
        var net = Trained(1);
        var state = new TrainingState
        {
            Epoch = 7,
            Step = 4321,
            LearningRate = 0.0125f,
            Seed = -5,
            Schedule = new CosineSchedule(0.1f, 30).Description,
            Extra = new Dictionary<string, string> { ["accuracy"] = "0.8875", ["note"] = "ünïcode \"quoted\"\nline" },
        };
        Checkpoint.Save(dir.File("m.safetensors"), net, training: state);

        var info = Checkpoint.ReadInfo(dir.File("m.safetensors"));
        Assert.Equal("TinyNet", info.Network);
        Assert.Equal(net.Fingerprint, info.Fingerprint);
        Assert.Null(info.ArchitectureMatches);
        Assert.Null(info.Optimizer);
        Assert.Equal("cnngen", info.Metadata["format"]);
        Assert.Equal(net.Summary, info.Metadata["summary"]);
        Assert.Equal(7, info.Training.Epoch);
        Assert.Equal(4321, info.Training.Step);
        Assert.Equal(0.0125f, info.Training.LearningRate);
        Assert.Equal(-5, info.Training.Seed);
        Assert.Equal(state.Schedule, info.Training.Schedule);
        Assert.Equal(state.Extra.OrderBy(p => p.Key), info.Training.Extra.OrderBy(p => p.Key));
    }

    [Fact]
    public void ExtraKeysMayNotOverrideCheckpointKeys()
    {
        using var dir = new TempDirectory();
        var state = new TrainingState { Extra = new Dictionary<string, string> { ["fingerprint"] = "x" } };
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(dir.File("x.safetensors"), Trained(1), training: state));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void OptimizerStateRoundTripsAndTrainingResumesExactly(string kind)
    {
        using var dir = new TempDirectory();
        IOptimizer Make() => kind == "sgd" ? new Sgd(0.05f, momentum: 0.9f, nesterov: true) : new Adam(0.01f, weightDecay: 1e-4f);
        var (inputs, labels) = Batch();

        var net = Trained(3);
        var optimizer = Make();
        for (int i = 0; i < 3; i++) TrainStep(net, optimizer, inputs, labels);
        optimizer.LearningRate = 0.02f;
        Checkpoint.Save(dir.File("o.safetensors"), net, optimizer, new TrainingState { Epoch = 1, Step = 3 });

        var resumedNet = Trained(4);
        var resumed = Make();
        var info = Checkpoint.Load(dir.File("o.safetensors"), resumedNet, resumed);
        Assert.Equal(optimizer.Name, info.Optimizer);
        Assert.Equal(3, resumed.StepCount);
        Assert.Equal(0.02f, resumed.LearningRate);
        foreach (var (slot, values) in optimizer.State) Assert.Equal(values, resumed.State[slot]);

        for (int i = 0; i < 2; i++)
        {
            TrainStep(net, optimizer, inputs, labels);
            TrainStep(resumedNet, resumed, inputs, labels);
        }
        Assert.Equal(net.Parameters.ToArray(), resumedNet.Parameters.ToArray());
    }

    [Fact]
    public void StateTensorsAreNamedBySlotAndTensor()
    {
        using var dir = new TempDirectory();
        var net = Trained(3);
        var adam = new Adam();
        var (inputs, labels) = Batch();
        TrainStep(net, adam, inputs, labels);
        Checkpoint.Save(dir.File("n.safetensors"), net, adam);

        var file = SafeTensorsFile.Read(dir.File("n.safetensors"));
        var names = file.Tensors.Select(t => t.Name).ToHashSet();
        foreach (var t in net.Tensors)
        {
            Assert.Contains(t.Name, names);
            Assert.Contains($"optimizer.exp_avg.{t.Name}", names);
            Assert.Contains($"optimizer.exp_avg_sq.{t.Name}", names);
            Assert.True(file.Find(t.Name)!.HasShape(t.Shape));
        }
        Assert.Equal(3 * net.Tensors.Count, names.Count);
        Assert.Equal("Adam", file.Metadata["optimizer"]);
        Assert.Equal("1", file.Metadata["optimizer.step"]);
        Assert.Equal("0.999", file.Metadata["optimizer.beta2"]);
    }

    [Fact]
    public void LoadingWithAnotherOptimizerFailsAndChangesNothing()
    {
        using var dir = new TempDirectory();
        var net = Trained(3);
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        var (inputs, labels) = Batch();
        TrainStep(net, sgd, inputs, labels);
        Checkpoint.Save(dir.File("s.safetensors"), net, sgd);

        var target = Trained(5);
        var before = target.Parameters.ToArray();
        var adam = new Adam();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("s.safetensors"), target, adam));
        Assert.Contains("holds SGD state, but the optimizer given is Adam", e.Message);
        Assert.Equal(before, target.Parameters.ToArray());
        Assert.Equal(0, adam.StepCount);

        // Without an optimizer the same file loads, ignoring the state.
        Checkpoint.Load(dir.File("s.safetensors"), target);
        Assert.Equal(net.Parameters.ToArray(), target.Parameters.ToArray());
    }

    [Fact]
    public void WrongArchitectureNamesTheFirstDifferingTensor()
    {
        using var dir = new TempDirectory();
        Checkpoint.Save(dir.File("tiny.safetensors"), Trained(1));

        INetwork wider = new TinyNetWider(1);
        var before = wider.Parameters.ToArray();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("tiny.safetensors"), wider));
        var first = wider.Tensors[0];
        var saved = ((INetwork)new TinyNet()).Tensors[0];
        Assert.NotEqual(saved.ShapeText, first.ShapeText);
        Assert.StartsWith($"{first.Name}: checkpoint has shape {saved.ShapeText}, network expects {first.ShapeText}", e.Problem);
        Assert.Contains("TinyNet", e.Message);
        Assert.Equal(before, wider.Parameters.ToArray());

        INetwork five = new TinyNetFiveClasses(1);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("tiny.safetensors"), five));
        var firstDense = five.Tensors.First(t => t.Shape.Contains(5));
        Assert.StartsWith($"{firstDense.Name}: checkpoint has shape", e.Problem);
    }

    [Fact]
    public void MissingAndUnexpectedTensorsAreNamed()
    {
        using var dir = new TempDirectory();
        INetwork net = Trained(1);
        var tensors = net.Tensors.Skip(1).Select(t => new NamedTensor(t.Name, t.Shape, net.Parameters.Slice(t.Offset, t.Length).ToArray())).ToList();
        Write(dir.File("missing.safetensors"), tensors);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("missing.safetensors"), Trained(2)));
        Assert.Equal($"{net.Tensors[0].Name} is missing from the checkpoint", e.Problem);

        tensors = net.Tensors.Select(t => new NamedTensor(t.Name, t.Shape, net.Parameters.Slice(t.Offset, t.Length).ToArray())).ToList();
        tensors.Add(new NamedTensor("dense9.weight", [2], new float[2]));
        Write(dir.File("extra.safetensors"), tensors);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir.File("extra.safetensors"), Trained(2)));
        Assert.Equal("dense9.weight is in the checkpoint but not in TinyNet", e.Problem);
    }

    [Fact]
    public void SameTensorsDifferentActivationLoadsButReportsTheArchitectureDiffers()
    {
        using var dir = new TempDirectory();
        Checkpoint.Save(dir.File("relu.safetensors"), Trained(1));
        var info = Checkpoint.Load(dir.File("relu.safetensors"), new TinyTanhNet(1));
        Assert.False(info.ArchitectureMatches);
    }

    [Fact]
    public void ReadsAFileWithoutMetadataAsAPlainStateDict()
    {
        using var dir = new TempDirectory();
        INetwork net = Trained(1);
        var tensors = net.Tensors.Select(t => new NamedTensor(t.Name, t.Shape, net.Parameters.Slice(t.Offset, t.Length).ToArray())).ToList();
        using (var stream = File.Create(dir.File("plain.safetensors")))
            SafeTensorsWriter.Write(stream, tensors, new Dictionary<string, string>(), addDataChecksum: false);
        INetwork target = new TinyNet(9);
        var info = Checkpoint.Load(dir.File("plain.safetensors"), target);
        Assert.Null(info.Network);
        Assert.Null(info.ArchitectureMatches);
        Assert.Equal(net.Parameters.ToArray(), target.Parameters.ToArray());
    }

    internal static void Write(string path, IReadOnlyList<NamedTensor> tensors)
    {
        using var stream = File.Create(path);
        SafeTensorsWriter.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static (float[] Inputs, int[] Labels) Batch()
    {
        var random = new Random(17);
        var inputs = new float[4 * TinyNet.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble();
        return (inputs, [0, 1, 2, 1]);
    }

    private static void TrainStep(INetwork net, IOptimizer optimizer, float[] inputs, int[] labels)
    {
        net.ComputeGradients(inputs, labels, labels.Length);
        optimizer.Step(net.Parameters, net.Gradients);
    }
}
