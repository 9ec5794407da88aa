using System.Reflection;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;

namespace CnnGen.Generator.Tests;

/// <summary>
/// The weights a gradient pass reads in other layouts (flipped for the input gradients, Winograd's transforms) are made
/// in parts, one on each worker before their chunks: every task in exactly one part, the tasks from the most values
/// written down, and any number of parts makes the same arrays as one.
/// </summary>
public class TrainingWeightPartsTests
{
    private static readonly Lazy<GeneratorRun> Run = new(() => AssertCompilesCleanly(Networks.SmallResNet));

    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;

    [Fact]
    public void TheTasksAreDealtOutFromTheLargest()
    {
        string code = Run.Value.Sources.Single().SourceText.ToString();
        Assert.Contains("protected override void BeforeKeptPass() => _network.EnsureTrainingWeights();", code, StringComparison.Ordinal);
        Assert.Contains("protected override long KeptPassValues => 211968;", code, StringComparison.Ordinal); // below the runtime's split: made on one thread
        int start = code.IndexOf("private void PrepareTrainingWeights(int part, int parts)", StringComparison.Ordinal);
        Assert.True(start >= 0);
        string body = code.Substring(start, code.IndexOf("\n    }\n", start, StringComparison.Ordinal) - start);
        // SmallResNet: conv5 and conv6 (32 -> 32, Winograd forward and input gradient), conv4 (16 -> 32), then the flips of
        // conv2 and conv3 (16 -> 16, direct input gradient).
        var tasks = System.Text.RegularExpressions.Regex.Matches(body, @"// (?<layer>\w+): [^(]*\((?<values>[\d,]+) values\)\n\s*if \(global::CnnGen\.Parallelism\.TaskParts\.Of\((?<task>\d+), parts\) == part\)")
            .Select(m => (Layer: m.Groups["layer"].Value, Values: long.Parse(m.Groups["values"].Value.Replace(",", "", StringComparison.Ordinal)), Task: int.Parse(m.Groups["task"].Value)))
            .ToList();
        Assert.Equal(8, tasks.Count);
        Assert.Equal(Enumerable.Range(0, tasks.Count), tasks.Select(t => t.Task));
        Assert.Equal(tasks.Select(t => t.Values).OrderByDescending(v => v), tasks.Select(t => t.Values));
        Assert.Equal(new[] { "conv5", "conv6", "conv5", "conv6", "conv4", "conv4", "conv2", "conv3" }, tasks.Select(t => t.Layer));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(9)] // more parts than tasks: some make nothing
    public void AnyNumberOfPartsMakesTheArraysOfOne(int parts)
    {
        var type = LoadedNetwork.Load(Run.Value, "CnnGen.Samples.Networks.SmallResNet");
        var whole = Prepared(type, 1);
        var inParts = Prepared(type, parts);
        Assert.Equal(whole.Keys.Order(), inParts.Keys.Order());
        Assert.Equal(3 * 3 + 2, whole.Count); // three Winograd layers' three arrays, two direct layers' flips
        foreach (var (name, values) in whole)
        {
            Assert.Contains(values, v => v != 0f);
            Assert.True(values.AsSpan().SequenceEqual(inParts[name]), $"{name} differs with {parts} parts");
        }
    }

    [Fact]
    public void AGradientPassOnSeveralWorkersMakesTheWeightsInPartsAndGetsTheGradientsOfOne()
    {
        // 8x8 maps of 64-128 channels: conv2's and conv3's Winograd transforms, forward and for the input gradient, and their flipped weights: 2.0
        // million values, above the runtime's threshold, so two and three workers each make a part.
        var run = AssertCompilesCleanly("using CnnGen;\nnamespace Parts;\n[Input(3, 8, 8)] [Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] " +
                                        "[Conv(3, 128, Padding = 1)] [ReLU] [Dense(10)]\npublic partial class Net { }");
        Assert.Contains("protected override long KeptPassValues => 1990656;", run.Sources.Single().SourceText.ToString(), StringComparison.Ordinal);
        Assert.True(1990656 >= GeneratedNetworks.NetworkPasses<GeneratedNetworks.NetworkWorkspace>.SplitKeptPassValues);
        var type = LoadedNetwork.Load(run, "Parts.Net");
        const int batch = 48; // 16 to 48 images per worker, so that every call runs Winograd
        var labels = Enumerable.Range(0, batch).Select(b => b * 7 % 10).ToArray();
        // Each thread count on a fresh network, so that no array holds what an earlier call made.
        (float Loss, float[] Gradients) Pass(int threads)
        {
            var network = (INetwork)Activator.CreateInstance(type, 5)!;
            network.Threads = threads;
            float loss = network.ComputeGradients(RunningNetworks.Inputs(network, batch, seed: 3), labels, batch);
            return (loss, network.Gradients.ToArray());
        }
        var (loss, gradients) = Pass(1);
        // The one worker's loss is the evaluation pass's (which reads the inference transforms, not these): the mean
        // cross-entropy of its logits.
        var reference = (INetwork)Activator.CreateInstance(type, 5)!;
        var logits = new float[batch * reference.OutputLength];
        reference.Forward(RunningNetworks.Inputs(reference, batch, seed: 3), logits, batch);
        double crossEntropy = 0;
        for (int b = 0; b < batch; b++)
        {
            var row = logits.AsSpan(b * reference.OutputLength, reference.OutputLength).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            crossEntropy += max + Math.Log(sum) - row[labels[b]];
        }
        Assert.Equal(crossEntropy / batch, loss, 4);
        double scale = gradients.Max(g => Math.Abs(g));
        Assert.True(scale > 1e-3, "the gradients are not a fair test");
        foreach (int threads in new[] { 2, 3 })
        {
            var (splitLoss, split) = Pass(threads);
            Assert.Equal(loss, splitLoss, 5);
            for (int i = 0; i < gradients.Length; i++)
                Assert.True(Math.Abs(split[i] - gradients[i]) <= 1e-5 * scale, $"{threads} workers, gradient {i}: {split[i]}, one worker {gradients[i]}");
        }
    }

    /// <summary>A fresh network's prepared arrays, made in <paramref name="parts"/> parts one after the other.</summary>
    private static Dictionary<string, float[]> Prepared(Type type, int parts)
    {
        object network = Activator.CreateInstance(type, 11)!;
        type.GetMethod("EnsureTrainingWeights", Private)!.Invoke(network, null);
        var prepare = type.GetMethod("PrepareTrainingWeights", Private)!;
        for (int part = 0; part < parts; part++) prepare.Invoke(network, new object[] { part, parts });
        return type.GetFields(Private)
            .Where(f => f.Name.StartsWith("_flippedWeights_", StringComparison.Ordinal) || f.Name.StartsWith("_winogradTraining_", StringComparison.Ordinal)
                        || f.Name.StartsWith("_winogradInputGradient_", StringComparison.Ordinal))
            .ToDictionary(f => f.Name, f => ((float[])f.GetValue(network)!).ToArray());
    }
}
