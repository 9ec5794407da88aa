using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.DiagnosticAssert;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <c>[BatchNorm(Epsilon = ..., Momentum = ...)]</c> (GoogLeNet's BatchNorm uses eps 0.001): evaluation divides by
/// sqrt(running_var + Epsilon), training moves the running statistics by Momentum, out-of-range values are CNN0031, and
/// the fingerprint tells them apart.
/// </summary>
public class BatchNormArgumentTests
{
    private static GeneratorRun Run(string attributes) =>
        AssertCompilesCleanly("using CnnGen;\nnamespace Norm;\n" + attributes + "\npublic partial class Net { }");

    private static INetwork Create(string attributes, int seed = 1) =>
        (INetwork)Activator.CreateInstance(LoadedNetwork.Load(Run(attributes), "Norm.Net"), seed)!;

    [Theory]
    [InlineData("Epsilon = 0f", "bn1 (layer 2): Epsilon must be a finite number above 0, but is 0")]
    [InlineData("Epsilon = -1e-3f", "bn1 (layer 2): Epsilon must be a finite number above 0, but is -0.001")]
    [InlineData("Epsilon = float.PositiveInfinity", "bn1 (layer 2): Epsilon must be a finite number above 0, but is Infinity")]
    [InlineData("Epsilon = float.NaN", "bn1 (layer 2): Epsilon must be a finite number above 0, but is NaN")]
    [InlineData("Momentum = 1.5f", "bn1 (layer 2): Momentum must be from 0 to 1, but is 1.5")]
    [InlineData("Momentum = -0.1f", "bn1 (layer 2): Momentum must be from 0 to 1, but is -0.1")]
    public void CNN0031_OutOfRange(string argument, string message) =>
        Error($"[Input(1, 4, 4)] [Conv(3, 2)] [[|BatchNorm({argument})|]]\npublic partial class Net {{ }}", "CNN0031", message);

    [Fact]
    public void EvaluationUsesTheDeclaredEpsilon()
    {
        var network = Create("[Input(1, 1, 2)] [Dense(2)] [BatchNorm(Epsilon = 0.5f)]");
        network.Parameter("dense1.weight").Clear();
        var bias = network.Parameter("dense1.bias");
        bias[0] = 3f; bias[1] = -1f;
        // Running mean 0, variance 1: y = x / sqrt(1 + 0.5).
        var output = new float[2];
        network.Forward(new[] { 0f, 0f }, output, 1);
        Assert.Equal(3f / MathF.Sqrt(1.5f), output[0], 5);
        Assert.Equal(-1f / MathF.Sqrt(1.5f), output[1], 5);
    }

    [Fact]
    public void TrainingMovesTheRunningMeanByTheDeclaredMomentum()
    {
        var network = Create("[Input(1, 1, 1)] [Dense(1)] [BatchNorm(Momentum = 0.25f)] [Dense(2)]");
        network.Parameter("dense1.weight")[0] = 1f;
        network.Parameter("dense1.bias")[0] = 0f;
        network.Training = true;
        network.ComputeGradients(new[] { 2f, 6f }, new[] { 0, 1 }, 2);
        // Batch mean 4: running mean 0 + 0.25 * (4 - 0) = 1; unbiased variance 8: running variance 0.75 + 0.25 * 8 = 2.75.
        var mean = network.StateTensors.Single(t => t.Name == "bn1.running_mean");
        var variance = network.StateTensors.Single(t => t.Name == "bn1.running_var");
        Assert.Equal(1f, network.State[mean.Offset], 5);
        Assert.Equal(2.75f, network.State[variance.Offset], 5);
    }

    [Fact]
    public void FoldingUsesTheDeclaredEpsilon()
    {
        var network = Create("[Input(2, 5, 5)] [Conv(3, 3, Padding = 1, Bias = false)] [BatchNorm(Epsilon = 1e-3f, Momentum = 0.01f)] [ReLU] [Dense(3)]", 2);
        Perturb(network, 3);
        var inputs = Inputs(network, 2, 4);
        var outputs = new float[6];
        network.Forward(inputs, outputs, 2);
        for (int b = 0; b < 2; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            for (int k = 0; k < 3; k++) Assert.Equal(unfused[^1][k], outputs[b * 3 + k], 4);
        }
    }

    [Fact]
    public void TheFingerprintTellsTheArgumentsApart()
    {
        static string Fingerprint(string bn) => LoadedNetwork.Constant<string>(LoadedNetwork.Load(Run($"[Input(1, 4, 4)] [Conv(3, 2)] {bn} [Dense(3)]"), "Norm.Net"), "ArchitectureFingerprint");
        string plain = Fingerprint("[BatchNorm]");
        Assert.Equal(plain, Fingerprint("[BatchNorm(Epsilon = 1e-5f, Momentum = 0.1f)]"));
        Assert.NotEqual(plain, Fingerprint("[BatchNorm(Epsilon = 1e-3f)]"));
        Assert.NotEqual(plain, Fingerprint("[BatchNorm(Momentum = 0.01f)]"));
    }
}
