using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.CrossCheck;

/// <summary>
/// Generated networks against PyTorch float64 results (fixtures from tools/pytorch_crosscheck.py): the same parameters,
/// running statistics and inputs must give the same outputs, loss, parameter gradients and (in training mode) updated
/// running statistics to 1e-4, relative to max(1, |reference|).
/// <para>Evaluation mode (<c>Training = false</c>, PyTorch's <c>eval()</c>) is checked on every network, BatchNorm
/// networks with and without <c>FoldBatchNorm</c>. Training mode (<c>train()</c>) is checked on the BatchNorm networks
/// without Dropout, whose masks are not PyTorch's, with one and with several worker threads.</para>
/// </summary>
public class PyTorchCrossCheckTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Networks => new()
    {
        "LeNet5", "CrossNetA", "CrossNetB", "CrossNetC", "CrossNetD", "CrossNetE", "CrossNetF", "CrossNetG", "CrossNetH",
        "CrossNetI", "CrossNetJ", "CrossNetK", "CrossNetL",
    };

    /// <summary>Networks with BatchNorm, which the evaluation test also runs with <c>FoldBatchNorm = false</c>.</summary>
    public static TheoryData<string> BatchNormNetworks => new() { "CrossNetE", "CrossNetF", "CrossNetG", "CrossNetH", "CrossNetJ", "CrossNetK", "CrossNetL" };

    /// <summary>Networks with training-mode results, and worker thread counts (batch 4: chunks of 2 + 2, and 1 + 1 + 2).</summary>
    public static TheoryData<string, int> TrainingNetworks => new()
    {
        { "CrossNetF", 1 }, { "CrossNetF", 2 }, { "CrossNetF", 3 },
        { "CrossNetG", 1 }, { "CrossNetG", 2 }, { "CrossNetG", 3 },
        { "CrossNetH", 1 }, { "CrossNetH", 2 }, { "CrossNetH", 3 },
        { "CrossNetJ", 1 }, { "CrossNetJ", 2 }, { "CrossNetJ", 3 },
        { "CrossNetK", 1 }, { "CrossNetK", 2 }, { "CrossNetK", 3 },
        { "CrossNetL", 1 }, { "CrossNetL", 2 }, { "CrossNetL", 3 },
    };

    private static INetwork Create(string name, bool foldBatchNorm = true) => name switch
    {
        "LeNet5" => new LeNet5(),
        "CrossNetA" => new CrossNetA(),
        "CrossNetB" => new CrossNetB(),
        "CrossNetC" => new CrossNetC(),
        "CrossNetD" => new CrossNetD(),
        "CrossNetE" => new CrossNetE { FoldBatchNorm = foldBatchNorm },
        "CrossNetF" => new CrossNetF { FoldBatchNorm = foldBatchNorm },
        "CrossNetG" => new CrossNetG { FoldBatchNorm = foldBatchNorm },
        "CrossNetH" => new CrossNetH { FoldBatchNorm = foldBatchNorm },
        "CrossNetI" => new CrossNetI(),
        "CrossNetJ" => new CrossNetJ { FoldBatchNorm = foldBatchNorm },
        "CrossNetK" => new CrossNetK { FoldBatchNorm = foldBatchNorm },
        "CrossNetL" => new CrossNetL { FoldBatchNorm = foldBatchNorm },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void TensorsAreNamedAndShapedAsPyTorchStateDict(string name)
    {
        // PyTorch's state_dict lists each module's weight, bias, running_mean, running_var, num_batches_tracked;
        // CnnGen keeps the parameters (Tensors) and the buffers (StateTensors) apart, each list in state_dict order.
        var fixture = Fixture.Load(name);
        var net = Create(name);
        var parameters = fixture.Tensors.Where(t => !t.State).ToList();
        var state = fixture.Tensors.Where(t => t.State).ToList();
        Assert.Equal(parameters.Select(t => t.Name), net.Tensors.Select(t => t.Name));
        for (int i = 0; i < parameters.Count; i++)
            Assert.Equal(parameters[i].Shape, net.Tensors[i].Shape);
        Assert.Equal(state.Select(t => t.Name), net.StateTensors.Select(t => t.Name));
        for (int i = 0; i < state.Count; i++)
            Assert.Equal(state[i].Shape, net.StateTensors[i].Shape);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void LayersHavePyTorchNamesKindsAndShapes(string name)
    {
        var fixture = Fixture.Load(name);
        var net = Create(name);
        Assert.Equal(fixture.Layers.Select(l => (l.Name, l.Kind)), net.Layers.Select(l => (l.Name, l.Kind)));
        for (int i = 0; i < fixture.Layers.Count; i++)
        {
            var l = net.Layers[i];
            Assert.Equal(fixture.Layers[i].Shape, new[] { l.OutputChannels, l.OutputHeight, l.OutputWidth });
        }
    }

    /// <summary>Evaluation mode, the default (BatchNorms folded where they can be).</summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void OutputsLossAndGradientsMatchPyTorch(string name) => CompareEvaluation(name, foldBatchNorm: true);

    /// <summary>Evaluation mode with every BatchNorm run as a layer of its own.</summary>
    [Theory]
    [MemberData(nameof(BatchNormNetworks))]
    public void UnfoldedBatchNormMatchesPyTorch(string name) => CompareEvaluation(name, foldBatchNorm: false);

    private void CompareEvaluation(string name, bool foldBatchNorm)
    {
        var fixture = Fixture.Load(name);
        var net = Create(name, foldBatchNorm);
        Assert.False(net.Training);
        LoadParameters(net, fixture);
        var inputs = fixture.Floats("inputs");
        var labels = fixture.Ints("labels");
        int batch = fixture.Batch;
        Assert.Equal(net.InputLength * batch, inputs.Length);
        var state = net.State.ToArray();

        var errors = new List<(string What, double Error)>();
        var outputs = new float[net.OutputLength * batch];
        net.Forward(inputs, outputs, batch);
        errors.Add(("outputs", RelativeError(outputs, fixture.Doubles("expected.outputs"))));

        float loss = net.ComputeGradients(inputs, labels, batch);
        errors.Add(("loss", RelativeError([loss], fixture.Doubles("expected.loss"))));
        var gradients = net.Gradients.ToArray();
        foreach (var t in net.Tensors)
            errors.Add(("grad " + t.Name, RelativeError(gradients.AsSpan(t.Offset, t.Length), fixture.Doubles("expected.grad." + t.Name))));

        Report(fixture, net.StateTensors.Count == 0 ? "" : foldBatchNorm ? "evaluation, folded" : "evaluation, unfolded", errors);

        // Evaluation leaves the running statistics alone.
        Assert.Equal(state, net.State.ToArray());

        // A second call overwrites the gradients rather than adding to them.
        net.ComputeGradients(inputs, labels, batch);
        Assert.Equal(gradients, net.Gradients.ToArray());
    }

    /// <summary>Training mode: BatchNorm normalises by the whole batch's statistics (shared by the workers) and updates
    /// its running statistics once per pass, in <c>Forward</c> as in <c>ComputeGradients</c>.</summary>
    [Theory]
    [MemberData(nameof(TrainingNetworks))]
    public void TrainingModeMatchesPyTorch(string name, int threads)
    {
        var fixture = Fixture.Load(name);
        Assert.Contains("train", fixture.Modes);
        var net = Create(name);
        net.Threads = threads;
        net.Training = true;
        LoadParameters(net, fixture);
        var inputs = fixture.Floats("inputs");
        var labels = fixture.Ints("labels");
        int batch = fixture.Batch;

        var errors = new List<(string What, double Error)>();
        var outputs = new float[net.OutputLength * batch];
        net.Forward(inputs, outputs, batch);
        errors.Add(("outputs", RelativeError(outputs, fixture.Doubles("train.outputs"))));
        foreach (var t in net.StateTensors)
            errors.Add(("Forward: " + t.Name, RelativeError(net.State.Slice(t.Offset, t.Length), fixture.Doubles("train.state." + t.Name))));

        LoadParameters(net, fixture); // back to the drawn running statistics
        float loss = net.ComputeGradients(inputs, labels, batch);
        errors.Add(("loss", RelativeError([loss], fixture.Doubles("train.loss"))));
        var gradients = net.Gradients.ToArray();
        foreach (var t in net.Tensors)
            errors.Add(("grad " + t.Name, RelativeError(gradients.AsSpan(t.Offset, t.Length), fixture.Doubles("train.grad." + t.Name))));
        foreach (var t in net.StateTensors)
            errors.Add(("ComputeGradients: " + t.Name, RelativeError(net.State.Slice(t.Offset, t.Length), fixture.Doubles("train.state." + t.Name))));

        Report(fixture, $"training, {threads} thread(s)", errors);

        // The gradients depend on the batch's statistics only, not on the running ones a second pass has moved.
        net.ComputeGradients(inputs, labels, batch);
        Assert.Equal(gradients, net.Gradients.ToArray());
    }

    private void Report(Fixture fixture, string mode, List<(string What, double Error)> errors)
    {
        string name = fixture.Network + (mode.Length > 0 ? $" ({mode})" : "");
        var worst = errors.MaxBy(e => e.Error);
        output.WriteLine($"{name}: largest error {worst.Error:E2} ({worst.What}); PyTorch float32 vs float64: {fixture.Torch32Error:E2}");
        foreach (var (what, error) in errors) output.WriteLine($"  {what,-36} {error:E2}");
        foreach (var (what, error) in errors)
            Assert.True(error <= Tolerance, $"{name} {what}: relative error {error:E3} > {Tolerance:E0}");
    }

    /// <summary>Copies every fixture tensor into the network by name, parameters into <see cref="INetwork.Parameters"/>
    /// and buffers into <see cref="INetwork.State"/>; every value of both must be covered exactly once.</summary>
    private static void LoadParameters(INetwork net, Fixture fixture)
    {
        net.Parameters.Fill(float.NaN);
        net.State.Fill(float.NaN);
        var stateTensors = net.StateTensors.ToDictionary(t => t.Name);
        foreach (var t in fixture.Tensors)
        {
            var values = fixture.Floats((t.State ? "state." : "param.") + t.Name);
            Span<float> target;
            if (t.State)
            {
                Assert.True(stateTensors.TryGetValue(t.Name, out var info), $"{fixture.Network} has no state tensor {t.Name}");
                target = net.State.Slice(info.Offset, info.Length);
            }
            else target = net.Parameter(t.Name);
            Assert.Equal(values.Length, target.Length);
            values.CopyTo(target);
        }
        Assert.Equal(0, CountNaN(net.Parameters));
        Assert.Equal(0, CountNaN(net.State));
    }

    private static int CountNaN(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (var v in values) if (float.IsNaN(v)) count++;
        return count;
    }

    /// <summary>max |actual - expected| / max(1, max |expected|).</summary>
    private static double RelativeError(ReadOnlySpan<float> actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxError = 0, scale = 1;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(double.IsNaN(actual[i]), $"NaN at {i}");
            maxError = Math.Max(maxError, Math.Abs(actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return maxError / scale;
    }
}
