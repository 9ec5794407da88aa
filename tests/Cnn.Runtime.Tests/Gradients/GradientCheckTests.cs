using CnnGen.Tests.Networks;
using Xunit;

namespace CnnGen.Tests.Gradients;

/// <summary>Analytic gradients against central finite differences of the loss, for every layer kind.</summary>
public class GradientCheckTests
{
    public static TheoryData<string> Networks => new() { "ConvStridePadNet", "PointwiseConvNet", "MaxPoolPadNet", "AvgPoolNet", "TinyLeNet", "DenseOnlyNet" };

    private static INetwork Create(string name, int seed) => name switch
    {
        "ConvStridePadNet" => new ConvStridePadNet(seed),
        "PointwiseConvNet" => new PointwiseConvNet(seed),
        "MaxPoolPadNet" => new MaxPoolPadNet(seed),
        "AvgPoolNet" => new AvgPoolNet(seed),
        "TinyLeNet" => new TinyLeNet(seed),
        "DenseOnlyNet" => new DenseOnlyNet(seed),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void AnalyticGradientsMatchFiniteDifferences(string name)
    {
        var net = Create(name, seed: 7);
        const int batch = 3;
        var random = new Random(11);
        var inputs = new float[net.InputLength * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
        var labels = new int[batch];
        for (int b = 0; b < batch; b++) labels[b] = random.Next(net.OutputLength);

        net.ComputeGradients(inputs, labels, batch);
        var analytic = net.Gradients.ToArray();
        var parameters = net.Parameters;

        // Check every parameter of small nets (a fixed sample of large ones) with a central difference.
        const float h = 1e-3f;
        double worst = 0;
        for (int i = 0; i < parameters.Length; i += Math.Max(1, parameters.Length / 400))
        {
            float saved = parameters[i];
            parameters[i] = saved + h;
            double up = net.ComputeGradients(inputs, labels, batch);
            parameters[i] = saved - h;
            double down = net.ComputeGradients(inputs, labels, batch);
            parameters[i] = saved;
            double numeric = (up - down) / (2 * h);
            double error = Math.Abs(numeric - analytic[i]) / Math.Max(1e-2, Math.Abs(numeric) + Math.Abs(analytic[i]));
            worst = Math.Max(worst, error);
            Assert.True(error < 2e-2, $"{name} parameter {i}: analytic {analytic[i]:G6}, numeric {numeric:G6}");
        }
        Assert.True(worst >= 0);
    }
}
