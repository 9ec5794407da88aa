using System.Diagnostics;
using System.Text;
using CnnGen.Generator.Tests.Infrastructure;
using Xunit.Abstractions;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// A network of 1,000 layers generates a file that grows linearly with its depth (nothing is repeated per layer for
/// every other layer), compiles without a problem and runs.
/// </summary>
public class DeepNetworkTests(ITestOutputHelper output)
{
    private const int Pairs = 500;
    private const int Filters = 8;
    private const int Side = 8;

    /// <summary>500 x [Conv(3, 8, Padding = 1)] [ReLU] on one 8x8 channel: 1,000 layers.</summary>
    private static string Source(int pairs)
    {
        var sb = new StringBuilder("using CnnGen;\nnamespace Deep;\n");
        sb.Append($"[Input(1, {Side}, {Side})]\n");
        for (int i = 0; i < pairs; i++) sb.Append($"[Conv(3, {Filters}, Padding = 1)] [ReLU]\n");
        sb.Append("public partial class Net { }\n");
        return sb.ToString();
    }

    [Fact]
    public void AThousandLayers_GenerateCompileAndRunAForward()
    {
        var clock = Stopwatch.StartNew();
        var run = AssertCompilesCleanly(Source(Pairs)); // generator, then a compilation of its output with every diagnostic
        var elapsed = clock.Elapsed;
        string text = run.Sources[0].SourceText.ToString();
        output.WriteLine($"{2 * Pairs} layers: {Encoding.UTF8.GetByteCount(text):N0} bytes, {text.Count(c => c == '\n'):N0} lines; " +
                         $"generator and compilation {elapsed.TotalSeconds:F1} s");

        var type = LoadedNetwork.Load(run, "Deep.Net");
        var network = (INetwork)Activator.CreateInstance(type, 0)!;
        Assert.Equal(2 * Pairs, network.Layers.Count);

        // Every convolution passes channel f through filter f (centre tap 1, everything else 0), so the output is the
        // input's positive part, once per filter.
        network.Parameters.Clear();
        foreach (var t in network.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)))
        {
            var weight = network.Parameter(t.Name);
            int channels = t.Shape[1];
            for (int f = 0; f < Filters; f++)
                weight[((f * channels) + (channels == 1 ? 0 : f)) * 9 + 4] = 1f;
        }
        var input = new float[Side * Side];
        for (int i = 0; i < input.Length; i++) input[i] = (i % 5) - 2f;
        var result = new float[Filters * Side * Side];
        network.Forward(input, result, 1);
        for (int f = 0; f < Filters; f++)
            for (int p = 0; p < input.Length; p++)
                Assert.Equal(Math.Max(0f, input[p]), result[f * input.Length + p]);
    }

    [Fact]
    public void TheGeneratedFileGrowsLinearlyWithTheDepth()
    {
        // Each further 50 pairs add about as much as the 50 before them (layer numbers gain a digit at 100, hence the
        // slack); text repeated per layer for every other layer made the second 100 pairs add 2.26 times the first 50.
        long Size(int pairs) => TestDriver.Run(Source(pairs)).Sources[0].SourceText.Length;
        long at50 = Size(50), at100 = Size(100), at200 = Size(200);
        double ratio = (double)(at200 - at100) / (at100 - at50);
        Assert.True(ratio is > 1.9 and < 2.1, $"50 pairs: {at50} chars, 100: {at100}, 200: {at200}; growth ratio {ratio:F3}");
    }
}
