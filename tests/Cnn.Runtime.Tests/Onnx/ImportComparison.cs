using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Onnx;

/// <summary>An imported network's evaluation-mode outputs against ONNX Runtime's on the same model file, at batch 1
/// and 8, within 1e-5 of the outputs' scale.</summary>
internal static class ImportComparison
{
    /// <returns>The largest difference seen, relative to the scale.</returns>
    public static double AgreesWithOnnxRuntime(INetwork network, byte[] model, ITestOutputHelper log, string label, int seed = 1)
    {
        using var session = new InferenceSession(model);
        string inputName = session.InputMetadata.Keys.Single();
        var random = new Random(seed);
        double worst = 0;
        foreach (int batch in new[] { 1, 8 })
        {
            var input = new float[batch * network.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            var expected = new float[batch * network.OutputLength];
            network.Forward(input, expected, batch);
            var tensor = new DenseTensor<float>(input, [batch, network.InputChannels, network.InputHeight, network.InputWidth]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
            var actual = results.Single().AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            float scale = Math.Max(1e-3f, actual.Max(Math.Abs));
            Assert.True(actual.Distinct().Count() > 1, $"{label}: ONNX Runtime's outputs are all the same; the comparison would prove nothing");
            double largest = expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Max() / scale;
            log.WriteLine($"{label}, batch {batch}: largest difference {largest:E1} of scale {scale:G3}");
            worst = Math.Max(worst, largest);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale,
                    $"{label}, batch {batch}, output {i}: imported CnnGen network {expected[i]}, ONNX Runtime {actual[i]}");
        }
        return worst;
    }
}
