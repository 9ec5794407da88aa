using System.Diagnostics;
using System.Globalization;
using CnnGen.Latency;
using CnnGen.Samples.Networks;
using CnnGen.TrainProfile;
using Microsoft.ML.OnnxRuntime;

namespace CnnGen.OrtLayers;

/// <summary>
/// ONNX Runtime node by node next to CnnGen layer by layer, one image, in one process: rounds alternate between ONNX
/// Runtime (the exported model, profiling on) and CnnGen (the sample's declaration, <c>FixedWeights</c>, its pass
/// replayed layer by layer as Cnn.Latency's <c>--layers</c> does). Prints each matched row's medians, then each whole
/// pass's median. On one thread (the default) CnnGen's figures are the thread's CPU time; with <c>--threads N</c>
/// above 1 both engines run N threads (ONNX Runtime's intra-op threads; CnnGen's <c>SplitImages</c>, its split layers
/// over N threads) and CnnGen's figures are wall time, as ONNX Runtime's profiler's always are.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string? onnx = null, model = "mobilenetv2", keepTrace = null;
        int rounds = 9, calls = 5, threads = 1;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--onnx": onnx = args[++i]; break;
                case "--model": model = args[++i]; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--calls": calls = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--keep-trace": keepTrace = args[++i]; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (onnx is null || !File.Exists(onnx) || threads < 1)
        {
            Console.Error.WriteLine("usage: Cnn.OrtLayers --onnx FILE [--model mobilenetv2|resnet18|googlenet|densenet121] [--rounds 9] [--calls 5] [--threads 1] [--keep-trace FILE]\n" +
                                    "  (write the ONNX file with bench/export_profile_onnx.py; --keep-trace copies ONNX Runtime's profiler trace there)");
            return 2;
        }
        INetwork network = model switch
        {
            "mobilenetv2" => new MobileNetV2(seed: 1),
            "resnet18" => new ResNet18(seed: 1),
            "googlenet" => new GoogLeNet(seed: 1),
            "densenet121" => new DenseNet121(seed: 1),
            _ => throw new ArgumentException($"unknown model {model}"),
        };
        network.FixedWeights = true;
        network.SplitImages = threads > 1;

        var random = new Random(1);
        var image = new float[network.InputLength];
        for (int i = 0; i < image.Length; i++) image[i] = (float)random.NextDouble();
        var logits = new float[network.OutputLength];
        var replay = LayerReplay.Bind(network, image); // binds on one thread
        network.Threads = threads;
        replay.Split(threads);
        // One thread: the thread's CPU time, which a busy machine disturbs less; more: wall time, which the split's waits are part of.
        Func<double> clock = threads == 1 ? ThreadClock.Seconds : () => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

        string prefix = Path.Combine(Path.GetTempPath(), $"ort_layers_{Environment.ProcessId}");
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableProfiling = true,
            ProfileOutputPathPrefix = prefix,
        };
        using var session = new InferenceSession(onnx, options);
        var ortLogits = new float[network.OutputLength];
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, network.InputChannels, network.InputHeight, network.InputWidth]);
        using var output = OrtValue.CreateTensorValueFromMemory(ortLogits, [1, network.OutputLength]);
        using var runOptions = new RunOptions();
        string[] inputNames = [session.InputNames[0]], outputNames = [session.OutputNames[0]];
        OrtValue[] inputValues = [input], outputValues = [output];
        void OrtRun() => session.Run(runOptions, inputNames, inputValues, outputNames, outputValues);

        // Warm-up: CnnGen's code is optimised after some tens of calls; ONNX Runtime's first runs allocate.
        int ortWarmUps = 0;
        WarmUp.Run(() => { OrtRun(); ortWarmUps++; });
        WarmUp.Run(() => { foreach (var layer in replay.Layers) layer.Run(); });
        WarmUp.Run(() => network.Forward(image, logits, 1));

        var layerTimes = replay.Layers.Select(_ => new List<double>()).ToArray();
        var passes = new Dictionary<string, List<double>> { ["CnnGen Forward"] = [], ["ONNX Runtime Run"] = [] };
        for (int r = 0; r < rounds; r++)
        {
            if (threads > 1) Thread.Sleep(50);
            for (int c = 0; c < calls; c++)
            {
                double start = clock();
                OrtRun();
                passes["ONNX Runtime Run"].Add(clock() - start);
            }
            // Each engine's pool threads spin a while after a call; on more than one thread, the other engine's calls would
            // then find a core taken. So the switch waits for them to sleep.
            if (threads > 1) Thread.Sleep(50);
            for (int c = 0; c < calls; c++)
            {
                double start = clock();
                network.Forward(image, logits, 1);
                passes["CnnGen Forward"].Add(clock() - start);
                replay.Split(threads); // Forward leaves its workspace unsplit when it returns
                for (int k = 0; k < replay.Layers.Count; k++)
                {
                    start = clock();
                    replay.Layers[k].Run();
                    layerTimes[k].Add(clock() - start);
                }
            }
        }
        string trace = session.EndProfiling();
        var nodes = OrtTrace.Read(trace);
        if (keepTrace is not null) File.Copy(trace, keepTrace, overwrite: true);
        File.Delete(trace);
        foreach (var node in nodes) node.Microseconds.RemoveRange(0, Math.Min(ortWarmUps, node.Microseconds.Count));

        var cnnGen = replay.Layers.Select((l, k) => (l.Name, l.Kind, Shape: Shape(network, l.Name), Microseconds: Median(layerTimes[k]) * 1e6)).ToList();
        string what = threads == 1 ? "thread CPU time" : "wall time";
        Console.WriteLine($"{model}, one image, {threads} thread(s): {rounds} rounds x {calls} calls, alternating; load average {LoadAverage()}");
        Console.WriteLine($"CnnGen: {what} per layer; ONNX Runtime: its profiler's kernel time per node (wall); medians, microseconds");
        LayerTable.Print(cnnGen, nodes);
        foreach (var (name, seconds) in passes)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name + $" ({what}, median)",-44} {Median(seconds) * 1e6,10:F1}"));
        return 0;
    }

    private static string Shape(INetwork network, string layer)
    {
        var info = network.Layers.First(l => l.Name == layer);
        return $"{info.OutputChannels}x{info.OutputHeight}x{info.OutputWidth}";
    }

    internal static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}
