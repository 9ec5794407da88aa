using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.CrossCheck;

/// <summary>
/// Generated networks against PyTorch float64 results (fixtures from tools/pytorch_crosscheck.py): the same parameters
/// and inputs must give the same outputs, loss and parameter gradients to 1e-4, relative to max(1, |reference|).
/// </summary>
public class PyTorchCrossCheckTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Networks => new() { "LeNet5", "CrossNetA", "CrossNetB", "CrossNetC", "CrossNetD" };

    private static INetwork Create(string name) => name switch
    {
        "LeNet5" => new LeNet5(),
        "CrossNetA" => new CrossNetA(),
        "CrossNetB" => new CrossNetB(),
        "CrossNetC" => new CrossNetC(),
        "CrossNetD" => new CrossNetD(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void TensorsAreNamedAndShapedAsPyTorchStateDict(string name)
    {
        var fixture = Fixture.Load(name);
        var net = Create(name);
        Assert.Equal(fixture.Tensors.Select(t => t.Name), net.Tensors.Select(t => t.Name));
        for (int i = 0; i < fixture.Tensors.Count; i++)
            Assert.Equal(fixture.Tensors[i].Shape, net.Tensors[i].Shape);
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

    [Theory]
    [MemberData(nameof(Networks))]
    public void OutputsLossAndGradientsMatchPyTorch(string name)
    {
        var fixture = Fixture.Load(name);
        var net = Create(name);
        LoadParameters(net, fixture);
        var inputs = fixture.Floats("inputs");
        var labels = fixture.Ints("labels");
        int batch = fixture.Batch;
        Assert.Equal(net.InputLength * batch, inputs.Length);

        var errors = new List<(string What, double Error)>();
        var outputs = new float[net.OutputLength * batch];
        net.Forward(inputs, outputs, batch);
        errors.Add(("outputs", RelativeError(outputs, fixture.Doubles("expected.outputs"))));

        float loss = net.ComputeGradients(inputs, labels, batch);
        errors.Add(("loss", RelativeError([loss], fixture.Doubles("expected.loss"))));
        var gradients = net.Gradients.ToArray();
        foreach (var t in net.Tensors)
            errors.Add(("grad " + t.Name, RelativeError(gradients.AsSpan(t.Offset, t.Length), fixture.Doubles("expected.grad." + t.Name))));

        var worst = errors.MaxBy(e => e.Error);
        output.WriteLine($"{name}: largest error {worst.Error:E2} ({worst.What}); PyTorch float32 vs float64: {fixture.Torch32Error:E2}");
        foreach (var (what, error) in errors) output.WriteLine($"  {what,-22} {error:E2}");
        foreach (var (what, error) in errors)
            Assert.True(error <= Tolerance, $"{name} {what}: relative error {error:E3} > {Tolerance:E0}");

        // A second call overwrites the gradients rather than adding to them.
        net.ComputeGradients(inputs, labels, batch);
        Assert.Equal(gradients, net.Gradients.ToArray());
    }

    /// <summary>Copies every fixture tensor into the network by name; every parameter must be covered exactly once.</summary>
    private static void LoadParameters(INetwork net, Fixture fixture)
    {
        net.Parameters.Fill(float.NaN);
        foreach (var t in fixture.Tensors)
        {
            var values = fixture.Floats("param." + t.Name);
            var target = net.Parameter(t.Name);
            Assert.Equal(values.Length, target.Length);
            values.CopyTo(target);
        }
        int unset = 0;
        foreach (var p in net.Parameters) if (float.IsNaN(p)) unset++;
        Assert.Equal(0, unset);
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
