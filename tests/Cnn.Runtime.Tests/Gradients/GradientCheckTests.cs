using CnnGen.Tests.CrossCheck;
using CnnGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Gradients;

/// <summary>Analytic gradients against finite differences of the loss, for every layer kind and whole small networks.</summary>
public class GradientCheckTests(ITestOutputHelper output)
{
    /// <summary>At most this share of the probed parameters may sit on a kink.</summary>
    private const double MaxKinkFraction = 0.10;

    public static TheoryData<string> Networks => new()
    {
        "ConvStridePadNet", "PointwiseConvNet", "MaxPoolPadNet", "AvgPoolNet", "TinyLeNet", "DenseOnlyNet",
        "RectStrideNet", "PoolFirstNet", "LeNet5", "CrossNetA", "CrossNetB", "CrossNetC", "CrossNetD",
        "MaxoutNet", "DropoutNetTraining", "DropoutNetEvaluation",
        "BatchNormNetTraining", "BatchNormNetEvaluation", "BatchNormPoolNetTraining", "BatchNormPoolNetEvaluation",
        "ResidualNetTraining", "ResidualNetEvaluation", "ShortcutSourceNet", "DenseConnectNetTraining", "DenseConnectNetEvaluation",
        "DirectWeightGradientNet", "DirectWeightGradientBatchNormNetTraining",
    };

    internal static INetwork Create(string name, int seed) => name switch
    {
        "ConvStridePadNet" => new ConvStridePadNet(seed),
        "PointwiseConvNet" => new PointwiseConvNet(seed),
        "MaxPoolPadNet" => new MaxPoolPadNet(seed),
        "AvgPoolNet" => new AvgPoolNet(seed),
        "TinyLeNet" => new TinyLeNet(seed),
        "DenseOnlyNet" => new DenseOnlyNet(seed),
        "RectStrideNet" => new RectStrideNet(seed),
        "PoolFirstNet" => new PoolFirstNet(seed),
        "LeNet5" => new LeNet5(seed),
        "CrossNetA" => new CrossNetA(seed),
        "CrossNetB" => new CrossNetB(seed),
        "CrossNetC" => new CrossNetC(seed),
        "CrossNetD" => new CrossNetD(seed),
        "MaxoutNet" => new MaxoutNet(seed),
        // Training mode with a fixed step: every evaluation of the loss sees the same dropout mask.
        "DropoutNetTraining" => new DropoutNet(seed) { Training = true, Step = 12 },
        "DropoutNetEvaluation" => new DropoutNet(seed),
        // Training mode: the batch's statistics, so the loss of every image depends on every other image.
        "BatchNormNetTraining" => new BatchNormNet(seed) { Training = true },
        "BatchNormPoolNetTraining" => new BatchNormPoolNet(seed) { Training = true },
        // Evaluation mode: running statistics (drawn away from PyTorch's 0 and 1) are constants.
        "BatchNormNetEvaluation" => WithRunningStatistics(new BatchNormNet(seed), seed),
        "BatchNormPoolNetEvaluation" => WithRunningStatistics(new BatchNormPoolNet(seed), seed),
        "ResidualNetTraining" => new ResidualNet(seed) { Training = true },
        "ResidualNetEvaluation" => WithRunningStatistics(new ResidualNet(seed), seed),
        "ShortcutSourceNet" => WithRunningStatistics(new ShortcutSourceNet(seed), seed),
        "DenseConnectNetTraining" => new DenseConnectNet(seed) { Training = true },
        "DenseConnectNetEvaluation" => WithRunningStatistics(new DenseConnectNet(seed), seed),
        "DirectWeightGradientNet" => new DirectWeightGradientNet(seed),
        "DirectWeightGradientBatchNormNetTraining" => new DirectWeightGradientBatchNormNet(seed) { Training = true },
        _ => throw new ArgumentException(name),
    };

    /// <summary>Running means in [-0.5, 0.5), running variances in [0.2, 2.2), BatchNorm weights in [0.5, 1.5).</summary>
    internal static INetwork WithRunningStatistics(INetwork net, int seed)
    {
        var random = new Random(seed + 1000);
        foreach (var t in net.StateTensors)
        {
            var values = net.State.Slice(t.Offset, t.Length);
            for (int i = 0; i < values.Length; i++)
                values[i] = t.Name.EndsWith(".running_mean") ? (float)(random.NextDouble() - 0.5)
                          : t.Name.EndsWith(".running_var") ? (float)(0.2 + 2 * random.NextDouble()) : values[i];
        }
        foreach (var t in net.Tensors.Where(t => t.Name.StartsWith("bn") && t.Name.EndsWith(".weight")))
            foreach (ref var w in net.Parameters.Slice(t.Offset, t.Length))
                w = (float)(0.5 + random.NextDouble());
        return net;
    }

    /// <summary>A batch of inputs in [-1, 1) and labels, the same on every run.</summary>
    internal static (float[] Inputs, int[] Labels) Batch(INetwork net, int batch, int seed)
    {
        var random = new Random(seed);
        var inputs = new float[net.InputLength * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
        var labels = new int[batch];
        for (int b = 0; b < batch; b++) labels[b] = random.Next(net.OutputLength);
        return (inputs, labels);
    }

    /// <summary>Biases are drawn too (the networks start with zero biases), so no unit sits exactly at a kink.</summary>
    private static void RandomizeBiases(INetwork net, int seed)
    {
        var random = new Random(seed);
        foreach (var t in net.Tensors.Where(t => t.Name.EndsWith(".bias")))
            foreach (ref var b in net.Parameters.Slice(t.Offset, t.Length))
                b = (float)((random.NextDouble() * 2 - 1) * 0.1);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void AnalyticGradientsMatchFiniteDifferences(string name)
    {
        foreach (int seed in new[] { 7, 8 })
        {
            var net = Create(name, seed);
            RandomizeBiases(net, seed);
            const int batch = 3;
            var (inputs, labels) = Batch(net, batch, seed + 100);
            net.ComputeGradients(inputs, labels, batch);
            var analytic = net.Gradients.ToArray();

            var result = new FiniteDifference().Check(net, inputs, labels, batch, analytic);
            output.WriteLine($"{name} seed {seed}: probed {result.Probed}, at kinks {result.Kinks.Count}, " +
                             $"failed {result.Failed.Count}, worst error / allowance {result.WorstErrorRatio:F3}");
            foreach (var p in result.Kinks)
                output.WriteLine($"  kink at {p.Index}: forward {p.Forward:G5}, backward {p.Backward:G5}, analytic {p.Analytic:G5}");
            Assert.True(result.Failed.Count == 0, $"{name} seed {seed}: " + string.Join("; ", result.Failed.Take(5).Select(p =>
                $"parameter {p.Index}: analytic {p.Analytic:G6}, central {p.Central:G6} (forward {p.Forward:G6}, backward {p.Backward:G6}, step {p.Step})")));
            Assert.True(result.KinkFraction <= MaxKinkFraction,
                $"{name} seed {seed}: {result.Kinks.Count} of {result.Probed} parameters at kinks");
            Assert.True(result.Probed >= Math.Min(net.ParameterCount, 400));
        }
    }

    [Theory]
    [InlineData("MaxPoolPadNet")]
    [InlineData("CrossNetA")]
    public void CheckRejectsWrongGradients(string name)
    {
        var net = Create(name, 7);
        RandomizeBiases(net, 7);
        var (inputs, labels) = Batch(net, 3, 107);
        net.ComputeGradients(inputs, labels, 3);
        var wrong = net.Gradients.ToArray();
        // Swap the gradients of neighbouring parameters: magnitudes stay plausible, values are wrong.
        for (int i = 0; i + 1 < wrong.Length; i += 2) (wrong[i], wrong[i + 1]) = (wrong[i + 1], wrong[i]);

        var result = new FiniteDifference().Check(net, inputs, labels, 3, wrong);
        Assert.True(result.Failed.Count > result.Probed / 4, $"only {result.Failed.Count} of {result.Probed} wrong gradients caught");
    }
}
